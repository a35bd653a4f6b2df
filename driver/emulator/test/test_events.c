/* Events: content of records, the event mask, batch headers, ring overflow with exact drop counts. */
#include <string.h>
#include <time.h>

#include "harness.h"

#define NT "\\Device\\HarddiskVolume3"

static char tgt[16384], img[16384], cmd[16384], sid[16384];

static void content(const Daemon *d, HANDLE h, HANDLE port)
{
    T("a blocked file open is reported with every field");
    RuleSpec r = {77, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_BLOCK, 0, 0, NT "\\secret.txt", NULL};
    CHECK_EQ(add_rules(h, &r, 1, NULL), 0);
    KAWIN_EMU_DECISION out;
    CHECK_EQ(KawinEmu_SimulateFileOpen(d->dev, "C:\\secret.txt", "C:\\Tools\\reader.exe", 4242, KAWIN_ACCESS_READ_DATA, &out), 0);
    CHECK_EQ(out.Decision, KAWIN_DECISION_BLOCK);
    static Batch b;
    CHECK_EQ(read_batch(port, &b, sizeof b.msg), 0);
    CHECK_EQ(b.b.Version, KAWIN_ABI_VERSION);
    CHECK_EQ(b.b.Size, sizeof(KAWIN_EVENT_BATCH));
    CHECK_EQ(b.count, 1);
    CHECK_EQ(b.b.Dropped, 0);
    CHECK_EQ(b.b.FirstSequence, 1);
    KAWIN_FILTER_MESSAGE_HEADER mh;
    memcpy(&mh, b.msg, sizeof mh);
    CHECK_EQ(mh.ReplyLength, 0);
    CHECK(mh.MessageId != 0, "message id");
    const KAWIN_EVENT *e = batch_record(&b, 0, tgt, img, cmd, sid);
    CHECK(e != NULL, "record");
    if (!e) return;
    CHECK_EQ(b.b.TotalSize, sizeof(KAWIN_EVENT_BATCH) + e->Size);
    CHECK_EQ(e->Size % 8, 0);
    CHECK_EQ(e->Type, KAWIN_EVENT_FILE_OPEN);
    CHECK_EQ(e->Decision, KAWIN_DECISION_BLOCK);
    CHECK_EQ(e->RuleId, 77);
    CHECK_EQ(e->ProcessId, 4242);
    CHECK_EQ(e->Status, KAWIN_STATUS_ACCESS_DENIED);
    CHECK_EQ(e->DesiredAccess, KAWIN_ACCESS_READ_DATA);
    CHECK(!strcmp(tgt, NT "\\secret.txt"), "target %s", tgt);
    CHECK(!strcmp(img, NT "\\Tools\\reader.exe"), "image %s", img);
    CHECK(!strcmp(sid, "S-1-5-18"), "sid %s", sid);
    CHECK_EQ(e->CommandLineBytes, 0);
    uint64_t nowFt = (uint64_t)time(NULL) * 10000000ull + 116444736000000000ull;
    CHECK(e->Time > nowFt - 600000000ull && e->Time < nowFt + 600000000ull, "FILETIME %llu", (unsigned long long)e->Time);

    T("process create: the creator acts, the new pid from the counter, command line, the creator's tracked facts");
    CHECK_EQ(set_config(h, 0, KAWIN_REPORT_UNMATCHED_PROCESS, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), 0);
    KAWIN_EMU_PROCESS init = {800, 0, 1, 0, "C:\\Windows\\System32\\userinit.exe", NULL, NULL};
    KAWIN_EMU_PROCESS explorer = {900, 800, 1, 0, "C:\\Windows\\explorer.exe", "S-1-5-21-1-2-3-1001", "C:\\Users\\me\\"};
    CHECK_EQ(KawinEmu_DefineProcess(d->dev, &init), 0);
    CHECK_EQ(KawinEmu_DefineProcess(d->dev, &explorer), 0);
    KAWIN_EMU_PROCESS none = {0, 0, 0, 0, NULL, NULL, NULL};
    CHECK_EQ(KawinEmu_DefineProcess(d->dev, &none), KAWIN_ERROR_INVALID_PARAMETER);
    KAWIN_EMU_DECISION p1, p2;
    CHECK_EQ(KawinEmu_SimulateProcessCreate(d->dev, "C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\explorer.exe", 900,
                                            "cmd.exe /c echo h\xc3\xa9", &p1), 0);
    CHECK_EQ(KawinEmu_SimulateProcessCreate(d->dev, "C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\explorer.exe", 900, NULL, &p2), 0);
    CHECK(p1.ProcessId != 0 && p2.ProcessId != p1.ProcessId, "pids %u %u", p1.ProcessId, p2.ProcessId);
    CHECK_EQ(read_batch(port, &b, sizeof b.msg), 0);
    CHECK_EQ(b.count, 2);
    CHECK_EQ(b.b.FirstSequence, 2);
    e = batch_record(&b, 0, tgt, img, cmd, sid);
    CHECK_EQ(e->Type, KAWIN_EVENT_PROCESS_CREATE);
    CHECK_EQ(e->Decision, KAWIN_DECISION_ALLOW);
    CHECK_EQ(e->RuleId, 0);
    CHECK_EQ(e->ProcessId, 900);
    CHECK_EQ(e->NewProcessId, p1.ProcessId);
    CHECK_EQ(e->ParentProcessId, 800);
    CHECK_EQ(e->SessionId, 1);
    CHECK(!strcmp(tgt, NT "\\Windows\\System32\\cmd.exe"), "target %s", tgt);
    CHECK(!strcmp(img, NT "\\Windows\\explorer.exe"), "image %s", img);
    CHECK(!strcmp(cmd, "cmd.exe /c echo h\xc3\xa9"), "cmd %s", cmd);
    CHECK(!strcmp(sid, "S-1-5-21-1-2-3-1001"), "sid %s", sid);
    char parentImg[600], cwd[600];
    batch_process(&b, 0, parentImg, cwd);
    CHECK(!strcmp(parentImg, NT "\\Windows\\System32\\userinit.exe"), "parent image %s", parentImg);
    CHECK(!strcmp(cwd, "C:\\Users\\me\\"), "cwd %s", cwd);
    CHECK_EQ(e->Size % 8, 0);

    T("event mask: unmatched and allowed operations only when asked");
    RuleSpec allow = {78, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_ALLOW, KAWIN_MATCH_EXACT, 0, NT "\\ok.txt", NT "\\ok.exe"};
    CHECK_EQ(add_rules(h, &allow, 1, NULL), 0);
    CHECK_EQ(set_config(h, 0, 0, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), 0);
    uint64_t before = get_state(h).EventsEmitted;
    KawinEmu_SimulateFileOpen(d->dev, "C:\\ok.txt", "C:\\ok.exe", 1, KAWIN_ACCESS_READ_DATA, &out);
    CHECK_EQ(out.Decision, KAWIN_DECISION_ALLOW);
    KawinEmu_SimulateFileOpen(d->dev, "C:\\other.txt", "C:\\x.exe", 1, KAWIN_ACCESS_READ_DATA, &out);
    KawinEmu_SimulateProcessCreate(d->dev, "C:\\x.exe", "C:\\y.exe", 1, NULL, &out);
    CHECK_EQ(get_state(h).EventsEmitted, before);
    CHECK_EQ(set_config(h, 0, KAWIN_REPORT_ALLOW_MATCHES | KAWIN_REPORT_UNMATCHED_FILE, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), 0);
    KawinEmu_SimulateFileOpen(d->dev, "C:\\ok.txt", "C:\\ok.exe", 1, KAWIN_ACCESS_READ_DATA, &out);
    KawinEmu_SimulateFileOpen(d->dev, "C:\\other.txt", "C:\\x.exe", 1, KAWIN_ACCESS_READ_DATA, &out);
    KawinEmu_SimulateProcessCreate(d->dev, "C:\\x.exe", "C:\\y.exe", 1, NULL, &out);
    CHECK_EQ(get_state(h).EventsEmitted, before + 2);
    CHECK_EQ(read_batch(port, &b, sizeof b.msg), 0);
    CHECK_EQ(b.count, 2);
    e = batch_record(&b, 0, NULL, NULL, NULL, NULL);
    CHECK_EQ(e->RuleId, 78);
    CHECK_EQ(e->Decision, KAWIN_DECISION_ALLOW);
    e = batch_record(&b, 1, NULL, NULL, NULL, NULL);
    CHECK_EQ(e->RuleId, 0);
    CHECK_EQ(e->Decision, KAWIN_DECISION_ALLOW);

    T("posture decisions are reported with rule id 0");
    KawinEmu_SimulateFileOpen(d->dev, "C:\\elsewhere.txt", "C:\\ok.exe", 1, KAWIN_ACCESS_READ_DATA, &out);
    CHECK_EQ(out.Decision, KAWIN_DECISION_POSTURE_AUDIT);
    CHECK_EQ(read_batch(port, &b, sizeof b.msg), 0);
    e = batch_record(&b, 0, NULL, NULL, NULL, NULL);
    CHECK(e && e->Decision == KAWIN_DECISION_POSTURE_AUDIT && e->RuleId == 0, "posture event");
}

static void overflow(void)
{
    T("ring overflow: drop-oldest with exact counts in GET_STATE and the next batch");
    Daemon d;
    const char *args[] = {"--ring", "16", NULL};
    if (daemon_start(&d, args) != 0) {
        CHECK(0, "daemon");
        return;
    }
    HANDLE h = open_device(&d);
    CHECK_EQ(KawinEmu_GenerateLoad(d.dev, 100, 0, 1), 0);
    KAWIN_STATE s = get_state(h);
    CHECK_EQ(s.EventsEmitted, 100);
    CHECK_EQ(s.EventsDropped, 84);
    CHECK_EQ(s.RingUsed, 16);
    CHECK_EQ(s.RingCapacity, 16);
    HANDLE port = open_port(&d);
    static Batch b;
    T("a buffer too small for one record: 0x8007007A and the message stays queued");
    CHECK_EQ((uint32_t)read_batch(port, &b, 48 + 8), 0x8007007Au);
    CHECK_EQ(get_state(h).RingUsed, 16);
    T("batches carry Dropped and FirstSequence");
    CHECK_EQ(read_batch(port, &b, sizeof b.msg), 0);
    CHECK_EQ(b.count, 16);
    CHECK_EQ(b.b.Dropped, 84);
    CHECK_EQ(b.b.FirstSequence, 85);
    const KAWIN_EVENT *e = batch_record(&b, 0, tgt, NULL, NULL, NULL);
    CHECK_EQ(e->Decision, KAWIN_DECISION_ALLOW);
    CHECK(e->RuleId == 0, "with an empty table, load events are unmatched opens");
    CHECK(strstr(tgt, "file000084") != NULL, "oldest kept is #84: %s", tgt);
    CHECK_EQ(KawinEmu_GenerateLoad(d.dev, 5, 0, 1), 0);
    CHECK_EQ(read_batch(port, &b, sizeof b.msg), 0);
    CHECK_EQ(b.count, 5);
    CHECK_EQ(b.b.Dropped, 0);
    CHECK_EQ(b.b.FirstSequence, 101);
    CHECK_EQ(KawinEmu_GenerateLoad(d.dev, 20, 0, 1), 0);
    CHECK_EQ(read_batch(port, &b, sizeof b.msg), 0);
    CHECK_EQ(b.count, 16);
    CHECK_EQ(b.b.Dropped, 4);
    CHECK_EQ(b.b.FirstSequence, 110);
    CHECK_EQ(get_state(h).EventsDropped, 88);

    T("batches fit the reader's buffer");
    CHECK_EQ(KawinEmu_GenerateLoad(d.dev, 16, 0, 1), 0);
    uint32_t total = 0;
    for (int i = 0; i < 16 && total < 16; i++) {
        CHECK_EQ(read_batch(port, &b, 48 + 2 * 200), 0);
        CHECK(b.count >= 1 && 16 + b.b.TotalSize <= 48 + 2 * 200, "batch of %u records, %u bytes", b.count, b.b.TotalSize);
        total += b.count;
    }
    CHECK_EQ(total, 16);
    CloseHandle(port);
    CloseHandle(h);
    daemon_stop(&d);
}

static void rate(void)
{
    T("GenerateLoad without wait returns at once and paces by rate");
    Daemon d;
    if (daemon_start(&d, NULL) != 0) {
        CHECK(0, "daemon");
        return;
    }
    HANDLE h = open_device(&d);
    double t0 = now_s();
    CHECK_EQ(KawinEmu_GenerateLoad(d.dev, 50, 40, 0), 0); /* 1.25 s of load */
    double t1 = now_s();
    uint64_t early = get_state(h).EventsEmitted;
    while (get_state(h).EventsEmitted < 50 && now_s() - t0 < 10) sleep_ms(20);
    CHECK_EQ(get_state(h).EventsEmitted, 50);
    CHECK(early < 50, "all %llu events were there before the call returned (took %.3fs)", (unsigned long long)early, t1 - t0);
    CloseHandle(h);
    daemon_stop(&d);
}

void test_events(void)
{
    Daemon d;
    if (daemon_start(&d, NULL) != 0) {
        CHECK(0, "daemon");
        return;
    }
    HANDLE h = open_device(&d);
    HANDLE port = open_port(&d);
    CHECK(port != INVALID_HANDLE_VALUE, "port");
    content(&d, h, port);
    CloseHandle(port);
    CloseHandle(h);
    daemon_stop(&d);
    overflow();
    rate();
}
