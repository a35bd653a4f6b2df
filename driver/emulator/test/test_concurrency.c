/* Everything at once (load generator, port reader, IOCTL writers, simulated operations),
 * and APPLY atomicity under a concurrent writer. Must be clean under ASan/UBSan. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NT "\\Device\\HarddiskVolume3"
#define GROUP 100

static const Daemon *D;
static volatile int stop;

typedef struct ReaderStats {
    HANDLE port;
    uint64_t received, dropped, nextSeq, batches, badBatches, target;
    HRESULT lastHr;
} ReaderStats;

static void *read_loop(void *arg)
{
    ReaderStats *s = arg;
    Batch *b = malloc(sizeof *b);
    s->nextSeq = 1;
    for (;;) {
        HRESULT hr = read_batch(s->port, b, sizeof b->msg);
        if (hr != 0) {
            s->lastHr = hr;
            break;
        }
        s->batches++;
        uint32_t total = sizeof(KAWIN_EVENT_BATCH);
        for (uint32_t i = 0; i < b->count; i++) {
            const KAWIN_EVENT *e = batch_record(b, i, NULL, NULL, NULL, NULL);
            if (e->Size % 8 || e->Size < sizeof *e) s->badBatches++;
            total += e->Size;
        }
        if (total != b->b.TotalSize || b->b.FirstSequence != s->nextSeq + b->b.Dropped) s->badBatches++;
        s->received += b->count;
        s->dropped += b->b.Dropped;
        s->nextSeq = b->b.FirstSequence + b->count;
        if (s->target && s->nextSeq > s->target) break;
    }
    free(b);
    return NULL;
}

typedef struct Writer {
    int index;
    uint64_t ok, conflicts, errors;
} Writer;

static void *write_loop(void *arg)
{
    Writer *w = arg;
    HANDLE h = open_device(D);
    char path[96];
    for (uint64_t k = 0; !stop; k++) {
        snprintf(path, sizeof path, NT "\\w%d\\%llu\\*.txt", w->index, (unsigned long long)(k % 50));
        RuleSpec r = {(uint64_t)w->index * 1000000 + k % 50 + 1, KAWIN_KIND_FILE, KAWIN_MATCH_GLOB,
                      (uint8_t)(k % 3 + 1), 0, 0, path, NULL};
        uint32_t err;
        if (k % 3 == 0) err = add_rules(h, &r, 1, NULL);
        else if (k % 3 == 1) err = remove_rules(h, &r.id, 1, NULL);
        else {
            KAWIN_STATE s = get_state(h);
            err = apply_rules(h, s.Generation, &r.id, 1, &r, 1, NULL);
            if (err == KAWIN_ERROR_REVISION_MISMATCH) {
                w->conflicts++;
                continue;
            }
        }
        err ? w->errors++ : w->ok++;
    }
    CloseHandle(h);
    return NULL;
}

typedef struct Sim {
    int index;
    uint64_t ok, errors;
} Sim;

static void *sim_loop(void *arg)
{
    Sim *s = arg;
    char path[96];
    for (uint64_t k = 0; !stop; k++) {
        KAWIN_EMU_DECISION out;
        uint32_t err;
        snprintf(path, sizeof path, "C:\\w%d\\%llu\\f.txt", (int)(k % 2) + 1, (unsigned long long)(k % 50));
        if (k % 4 == 3) err = KawinEmu_SimulateProcessCreate(D->dev, "C:\\bin\\tool.exe", "C:\\bin\\sh.exe", 100, "tool -x", &out);
        else err = KawinEmu_SimulateFileOpen(D->dev, path, "C:\\bin\\sh.exe", 100 + s->index, KAWIN_ACCESS_READ_DATA, &out);
        err ? s->errors++ : s->ok++;
    }
    return NULL;
}

static void everything(void)
{
    T("load generator + port reader + 2 IOCTL writers + 2 simulators at once");
    HANDLE h = open_device(D);
    CHECK_EQ(set_config(h, 0, KAWIN_REPORT_UNMATCHED_FILE | KAWIN_REPORT_UNMATCHED_PROCESS, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), 0);
    static ReaderStats rs;
    memset(&rs, 0, sizeof rs);
    rs.port = open_port(D);
    Writer w[2] = {{1, 0, 0, 0}, {2, 0, 0, 0}};
    Sim s[2] = {{1, 0, 0}, {2, 0, 0}};
    pthread_t tr, tw[2], ts[2];
    stop = 0;
    pthread_create(&tr, NULL, read_loop, &rs);
    for (int i = 0; i < 2; i++) {
        pthread_create(&tw[i], NULL, write_loop, &w[i]);
        pthread_create(&ts[i], NULL, sim_loop, &s[i]);
    }
    CHECK_EQ(KawinEmu_GenerateLoad(D->dev, 200000, 100000, 1), 0); /* ~2 s */
    stop = 1;
    for (int i = 0; i < 2; i++) {
        pthread_join(tw[i], NULL);
        pthread_join(ts[i], NULL);
    }
    KAWIN_STATE st = get_state(h);
    rs.target = st.EventsEmitted;
    CHECK_EQ(KawinEmu_GenerateLoad(D->dev, 1, 0, 1), 0); /* wakes the reader if it already drained everything */
    double t0 = now_s();
    while (rs.nextSeq <= rs.target && now_s() - t0 < 20) sleep_ms(10);
    if (rs.nextSeq <= rs.target) CancelIoEx(rs.port, NULL);
    pthread_join(tr, NULL);
    CHECK_EQ(rs.badBatches, 0);
    CHECK(rs.nextSeq > rs.target, "reader stopped at %llu of %llu (hr 0x%x)", (unsigned long long)rs.nextSeq,
          (unsigned long long)rs.target, (uint32_t)rs.lastHr);
    CHECK_EQ(rs.received + rs.dropped, rs.nextSeq - 1);
    st = get_state(h);
    CHECK_EQ(st.EventsDropped, rs.dropped);
    CHECK(w[0].errors == 0 && w[1].errors == 0, "writer errors %llu %llu", (unsigned long long)w[0].errors, (unsigned long long)w[1].errors);
    CHECK(s[0].errors == 0 && s[1].errors == 0, "simulation errors");
    CHECK(w[0].ok > 0 && s[0].ok > 0, "threads made progress");
    printf("  %llu events in %llu batches (%llu dropped), writes %llu (+%llu conflicts), simulations %llu\n",
           (unsigned long long)rs.received, (unsigned long long)rs.batches, (unsigned long long)rs.dropped,
           (unsigned long long)(w[0].ok + w[1].ok), (unsigned long long)(w[0].conflicts + w[1].conflicts),
           (unsigned long long)(s[0].ok + s[1].ok));
    CloseHandle(rs.port);
    CloseHandle(h);
}

static char groupPath[2][GROUP][64];
static RuleSpec group[2][GROUP];
static uint64_t groupIds[2][GROUP];
static volatile uint64_t mixed, snapshots, swaps, swapConflicts;

static void *swapper(void *arg)
{
    (void)arg;
    HANDLE h = open_device(D);
    int current = 0;
    while (!stop) {
        KAWIN_STATE s = get_state(h);
        uint32_t err = apply_rules(h, s.Generation, groupIds[current], GROUP, group[1 - current], GROUP, NULL);
        if (err == 0) {
            current = 1 - current;
            swaps++;
        } else if (err == KAWIN_ERROR_REVISION_MISMATCH) swapConflicts++;
        else mixed += 1000000; /* any other error is a failure */
    }
    CloseHandle(h);
    return NULL;
}

static void *noise(void *arg)
{
    (void)arg;
    HANDLE h = open_device(D);
    RuleSpec r = {999999, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_AUDIT, 0, 0, NT "\\noise", NULL};
    while (!stop) {
        add_rules(h, &r, 1, NULL);
        remove_rules(h, &r.id, 1, NULL);
    }
    CloseHandle(h);
    return NULL;
}

static void *checker(void *arg)
{
    (void)arg;
    HANDLE h = open_device(D);
    uint64_t *ids = malloc(sizeof *ids * 1024);
    while (!stop) {
        long n = list_all(h, ids, 1024, 1u << 20, NULL); /* one page: a consistent snapshot */
        int a = 0, b = 0;
        for (long i = 0; i < n && i < 1024; i++) {
            a += ids[i] >= 10000 && ids[i] < 10000 + GROUP;
            b += ids[i] >= 20000 && ids[i] < 20000 + GROUP;
        }
        if (!((a == GROUP && b == 0) || (a == 0 && b == GROUP))) mixed++;
        snapshots++;
    }
    free(ids);
    CloseHandle(h);
    return NULL;
}

static void atomicity(void)
{
    T("APPLY atomicity: concurrent swaps never show a half-applied table; conflicts detected");
    HANDLE h = open_device(D);
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < GROUP; i++) {
            snprintf(groupPath[g][i], 64, NT "\\group%d\\%03d", g, i);
            groupIds[g][i] = (uint64_t)(g + 1) * 10000 + (uint64_t)i;
            group[g][i] = (RuleSpec){groupIds[g][i], KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_BLOCK, 0, 0, groupPath[g][i], NULL};
        }
    CHECK_EQ(add_rules(h, group[0], GROUP, NULL), 0);

    /* a deterministic conflict first */
    KAWIN_STATE s = get_state(h);
    RuleSpec other = {777, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_AUDIT, 0, 0, NT "\\other", NULL};
    CHECK_EQ(add_rules(h, &other, 1, NULL), 0);
    CHECK_EQ(apply_rules(h, s.Generation, groupIds[0], GROUP, group[1], GROUP, NULL), KAWIN_ERROR_REVISION_MISMATCH);
    uint64_t ids[512];
    CHECK_EQ(list_all(h, ids, 512, 1u << 20, NULL), GROUP + 1);
    CHECK_EQ(ids[0], 777);
    CHECK_EQ(ids[1], 10000);

    pthread_t t[3];
    stop = 0;
    mixed = snapshots = swaps = swapConflicts = 0;
    pthread_create(&t[0], NULL, swapper, NULL);
    pthread_create(&t[1], NULL, noise, NULL);
    pthread_create(&t[2], NULL, checker, NULL);
    sleep_ms(1000);
    stop = 1;
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    CHECK(mixed == 0, "%llu snapshots were half-applied (of %llu)", (unsigned long long)mixed, (unsigned long long)snapshots);
    CHECK(swaps > 0 && snapshots > 0, "swaps %llu snapshots %llu", (unsigned long long)swaps, (unsigned long long)snapshots);
    printf("  %llu swaps, %llu conflicts, %llu consistent snapshots\n", (unsigned long long)swaps,
           (unsigned long long)swapConflicts, (unsigned long long)snapshots);
    CloseHandle(h);
}

void test_concurrency(void)
{
    Daemon d;
    if (daemon_start(&d, NULL) != 0) {
        CHECK(0, "daemon");
        return;
    }
    D = &d;
    everything();
    CHECK_EQ(KawinEmu_Reset(d.dev), 0);
    atomicity();
    daemon_stop(&d);
}
