/*
 * One device connection (an open handle of \\.\Karmor, or a one-shot emulator request):
 * a loop of request -> answer. IOCTLs of a connection opened before the last Reload get
 * ERROR_INVALID_HANDLE, so the client reopens, as after a driver reload on Windows.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../include/kawin_emu.h"
#include "kernel.h"

typedef struct Answer {
    uint32_t err;
    KW_WRITER w;
} Answer;

static uint32_t read_nt(KW_READER *r, uint16_t **p, uint32_t *len)
{
    uint32_t n;
    const char *s = kw_rd_str(r, &n);
    if (!r->ok) return KAWIN_ERROR_INVALID_PARAMETER;
    pthread_rwlock_rdlock(&K.lock); /* the drive map may grow meanwhile (drive_mount) */
    uint32_t err = to_nt_path(s, n, p, len);
    pthread_rwlock_unlock(&K.lock);
    return err;
}

static uint32_t read_text(KW_READER *r, uint16_t **p, uint32_t *len)
{
    uint32_t n;
    const char *s = kw_rd_str(r, &n);
    *p = malloc((size_t)n * 2 + 2);
    *len = 0;
    if (!r->ok || !*p) return KAWIN_ERROR_INVALID_PARAMETER;
    long k = kw_utf8_to_utf16(s, n, *p, n);
    if (k < 0 || k > KAWIN_MAX_PATH_BYTES / 2) return KAWIN_ERROR_INVALID_PARAMETER;
    *len = (uint32_t)k;
    return 0;
}

static void emit(const EventIn *ev)
{
    EventRec *rec = event_build(ev);
    if (rec) ring_push(&K.ring, &rec, 1);
}

static void answer_decision(Answer *a, const DecideOut *d, uint32_t pid)
{
    KAWIN_EMU_DECISION out = {d->decision, d->status, d->ruleId, pid, 0};
    kw_wr_bytes(&a->w, &out, sizeof out);
}

static PathRef ref(const uint16_t *s, uint32_t len) { return (PathRef){s, len}; }

static void sim_file(KW_READER *r, Answer *a)
{
    uint32_t pid = kw_rd_u32(r), access = kw_rd_u32(r);
    uint16_t *path = NULL, *img = NULL;
    uint32_t pl, il;
    a->err = read_nt(r, &path, &pl);
    if (!a->err) a->err = read_nt(r, &img, &il);
    if (!a->err && pl == 0) a->err = KAWIN_ERROR_INVALID_PARAMETER;
    if (!a->err) {
        DecideOut d;
        pthread_rwlock_rdlock(&K.lock);
        decide(KAWIN_KIND_FILE, (PathRef){path, pl}, (PathRef){img, il}, access, &d);
        pthread_rwlock_unlock(&K.lock);
        ProcFacts f;
        proc_facts(pid, &f);
        EventIn ev = {KAWIN_EVENT_FILE_OPEN, d.decision, d.ruleId, pid, f.ppid, pid + 4, d.status, access, f.session, 0,
                      ref(path, pl), il ? ref(img, il) : ref(f.image, f.imageLen), ref(f.parentImage, f.parentImageLen),
                      ref(NULL, 0), ref(f.sid, f.sidLen), ref(f.cwd, f.cwdLen)};
        if (d.report) emit(&ev);
        proc_facts_free(&f);
        answer_decision(a, &d, pid);
    }
    free(path);
    free(img);
}

/* A started process is tracked: child of its creator, in its session, as its user, in its directory. */
static void track_new(uint32_t pid, uint32_t creator, const ProcFacts *f, PathRef image)
{
    ProcIn p = {pid, creator, f->session, image, ref(f->sid, f->sidLen), ref(f->cwd, f->cwdLen)};
    proc_define(&p);
}

static void sim_process(KW_READER *r, Answer *a)
{
    uint32_t creator = kw_rd_u32(r);
    uint16_t *img = NULL, *parent = NULL, *cmd = NULL;
    uint32_t il, pl, cl;
    a->err = read_nt(r, &img, &il);
    if (!a->err) a->err = read_nt(r, &parent, &pl);
    if (!a->err) a->err = read_text(r, &cmd, &cl);
    if (!a->err && il == 0) a->err = KAWIN_ERROR_INVALID_PARAMETER;
    if (!a->err) {
        DecideOut d;
        pthread_rwlock_rdlock(&K.lock);
        decide(KAWIN_KIND_PROCESS, (PathRef){img, il}, (PathRef){parent, pl}, KAWIN_ACCESS_EXECUTE, &d);
        pthread_rwlock_unlock(&K.lock);
        uint32_t pid = d.status == KAWIN_STATUS_SUCCESS ? atomic_fetch_add(&K.nextPid, 4) : 0;
        ProcFacts f;
        proc_facts(creator, &f);
        if (pid) track_new(pid, creator, &f, ref(img, il));
        EventIn ev = {KAWIN_EVENT_PROCESS_CREATE, d.decision, d.ruleId, creator, f.ppid, creator + 4, d.status,
                      KAWIN_ACCESS_EXECUTE, f.session, pid, ref(img, il), pl ? ref(parent, pl) : ref(f.image, f.imageLen),
                      ref(f.parentImage, f.parentImageLen), ref(cmd, cl), ref(f.sid, f.sidLen), ref(f.cwd, f.cwdLen)};
        if (d.report) emit(&ev);
        proc_facts_free(&f);
        answer_decision(a, &d, pid);
    }
    free(img);
    free(parent);
    free(cmd);
}

static void define_process(KW_READER *r, Answer *a)
{
    uint32_t pid = kw_rd_u32(r), ppid = kw_rd_u32(r), session = kw_rd_u32(r);
    uint16_t *img = NULL, *sid = NULL, *cwd = NULL;
    uint32_t il = 0, sl = 0, wl = 0;
    a->err = pid ? read_nt(r, &img, &il) : KAWIN_ERROR_INVALID_PARAMETER;
    if (!a->err) a->err = read_text(r, &sid, &sl);
    if (!a->err) a->err = read_text(r, &cwd, &wl);
    if (!a->err) {
        ProcIn p = {pid, ppid, session, ref(img, il), ref(sid, sl), ref(cwd, wl)};
        proc_define(&p);
    }
    free(img);
    free(sid);
    free(cwd);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void bench(KW_READER *r, Answer *a)
{
    uint32_t access = kw_rd_u32(r);
    uint64_t iterations = kw_rd_u64(r);
    uint16_t *path = NULL, *img = NULL;
    uint32_t pl, il;
    a->err = iterations ? read_nt(r, &path, &pl) : KAWIN_ERROR_INVALID_PARAMETER;
    if (!a->err) a->err = read_nt(r, &img, &il);
    if (!a->err) {
        DecideOut d;
        pthread_rwlock_rdlock(&K.lock);
        double t0 = now_ns();
        for (uint64_t i = 0; i < iterations; i++) decide(KAWIN_KIND_FILE, (PathRef){path, pl}, (PathRef){img, il}, access, &d);
        double ns = (now_ns() - t0) / (double)iterations;
        pthread_rwlock_unlock(&K.lock);
        kw_wr_bytes(&a->w, &ns, sizeof ns);
    }
    free(path);
    free(img);
}

static void table_changed(Answer *a)
{
    pthread_rwlock_rdlock(&K.lock);
    uint64_t generation = K.table.generation, at = K.table.changedAtNs;
    pthread_rwlock_unlock(&K.lock);
    kw_wr_u64(&a->w, generation);
    kw_wr_u64(&a->w, at);
}

static void inject(KW_READER *r, Answer *a)
{
    uint32_t code = kw_rd_u32(r), count = kw_rd_u32(r), err = kw_rd_u32(r);
    if (!r->ok) {
        a->err = KAWIN_ERROR_INVALID_PARAMETER;
        return;
    }
    a->err = KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    pthread_mutex_lock(&K.faultMu);
    for (int i = 0; i < KAWIN_EMU_MAX_FAULTS && count; i++)
        if (K.faults[i].remaining == 0) {
            K.faults[i] = (Fault){code, count, err ? err : KAWIN_ERROR_GEN_FAILURE};
            a->err = 0;
            break;
        }
    pthread_mutex_unlock(&K.faultMu);
    if (!count) a->err = 0;
}

static void mount(KW_READER *r, Answer *a)
{
    uint32_t n;
    const char *s = kw_rd_str(r, &n);
    char spec[1100];
    if (!r->ok || n >= sizeof spec) {
        a->err = KAWIN_ERROR_INVALID_PARAMETER;
        return;
    }
    memcpy(spec, s, n);
    spec[n] = 0;
    a->err = drive_mount(spec);
}

static void drives(Answer *a)
{
    pthread_rwlock_rdlock(&K.lock);
    kw_wr_u32(&a->w, (uint32_t)K.ndrives);
    for (int i = 0; i < K.ndrives; i++) {
        char name[3] = {K.drives[i].letter, ':', 0}, target[3 * 32767 + 1];
        long n = kw_utf16_to_utf8(K.drives[i].nt, K.drives[i].ntLen, target, sizeof target - 1);
        target[n < 0 ? 0 : n] = 0;
        kw_wr_str(&a->w, name);
        kw_wr_str(&a->w, target);
    }
    pthread_rwlock_unlock(&K.lock);
}

static void ioctl_req(KW_READER *r, unsigned epoch, Answer *a)
{
    uint32_t code = kw_rd_u32(r), outCap = kw_rd_u32(r);
    if (!r->ok) {
        a->err = KAWIN_ERROR_INVALID_PARAMETER;
        return;
    }
    if (epoch != atomic_load(&K.epoch)) {
        a->err = KAWIN_ERROR_INVALID_HANDLE;
        return;
    }
    uint8_t *out;
    uint32_t outLen;
    a->err = ioctl_dispatch(code, r->p, (uint32_t)(r->end - r->p), outCap, &out, &outLen);
    kw_wr_bytes(&a->w, out, outLen);
    free(out);
}

/* Returns 1 when the kernel must stop after answering. */
static int handle(uint16_t type, KW_READER *r, unsigned epoch, Answer *a)
{
    switch (type) {
    case KW_REQ_IOCTL: ioctl_req(r, epoch, a); break;
    case KW_REQ_SIM_FILE: sim_file(r, a); break;
    case KW_REQ_SIM_PROC: sim_process(r, a); break;
    case KW_REQ_BENCH: bench(r, a); break;
    case KW_REQ_FAULT: inject(r, a); break;
    case KW_REQ_DRIVES: drives(a); break;
    case KW_REQ_MOUNT: mount(r, a); break;
    case KW_REQ_PROCESS: define_process(r, a); break;
    case KW_REQ_TABLE_CHANGED: table_changed(a); break;
    case KW_REQ_DROP_PORT: port_drop(); break;
    case KW_REQ_RELOAD: kernel_reload(0); break;
    case KW_REQ_RESET: kernel_reload(1); break;
    case KW_REQ_SHUTDOWN: /* the device disappears before the caller hears back */
        unlink(K.devPath);
        unlink(K.portPath);
        return 1;
    case KW_REQ_LOAD: {
        uint64_t count = kw_rd_u64(r), rate = kw_rd_u64(r);
        uint32_t wait = kw_rd_u32(r);
        a->err = r->ok ? loadgen_start(count, rate, wait != 0) : KAWIN_ERROR_INVALID_PARAMETER;
        break;
    }
    default: a->err = KAWIN_ERROR_INVALID_FUNCTION;
    }
    return 0;
}

static int send_answer(int fd, uint32_t tag, Answer *a)
{
    uint32_t head[2] = {a->err, 0};
    if (!a->w.ok) head[0] = KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    int rc = kw_send_msg2(fd, KW_RESP, tag, head, sizeof head, a->w.buf, a->w.ok ? (uint32_t)a->w.len : 0);
    free(a->w.buf);
    return rc;
}

void device_serve(int fd)
{
    unsigned epoch = atomic_load(&K.epoch);
    for (;;) {
        KW_MSG h;
        uint8_t *payload;
        int rc = kw_recv_msg(fd, &h, &payload, KW_MAX_PAYLOAD);
        if (rc == -2) { /* framing broken: answer, then close, as the stream cannot be resynchronised */
            Answer a = {KAWIN_ERROR_INVALID_PARAMETER, {NULL, 0, 0, 1}};
            send_answer(fd, h.Tag, &a);
        }
        if (rc != 0) break;
        KW_READER r;
        kw_reader_init(&r, payload, h.Length);
        Answer a = {0, {NULL, 0, 0, 1}};
        int stop = handle(h.Type, &r, epoch, &a);
        free(payload);
        rc = send_answer(fd, h.Tag, &a);
        if (stop) {
            kernel_log("shutdown requested");
            kill(getpid(), SIGTERM);
        }
        if (rc != 0) break;
    }
    close(fd);
}
