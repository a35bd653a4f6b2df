/* The filter port: blocking reads and their release, the connection limit, drops and reloads. */
#include <pthread.h>
#include <string.h>

#include "harness.h"

typedef struct Reader {
    HANDLE port;
    volatile int started;
    HRESULT hr;
    Batch b;
} Reader;

static void *reader(void *arg)
{
    Reader *r = arg;
    r->started = 1;
    r->hr = read_batch(r->port, &r->b, sizeof r->b.msg);
    return NULL;
}

static pthread_t start_reader(Reader *r, HANDLE port)
{
    pthread_t th;
    r->port = port;
    r->started = 0;
    r->hr = 1;
    pthread_create(&th, NULL, reader, r);
    while (!r->started) sleep_ms(1);
    sleep_ms(100); /* let it block inside FilterGetMessage */
    return th;
}

#define HR_ABORTED 0x800703E3u
#define HR_HANDLE 0x80070006u

void test_port(void)
{
    Daemon d;
    if (daemon_start(&d, NULL) != 0) {
        CHECK(0, "daemon");
        return;
    }
    static Reader r;
    HANDLE h = open_device(&d);

    T("one port connection: a second gets 0x800704D6");
    HANDLE port = open_port(&d), second = INVALID_HANDLE_VALUE;
    CHECK(port != INVALID_HANDLE_VALUE, "port");
    CHECK_EQ((uint32_t)FilterConnectCommunicationPort(d.wport, 0, NULL, 0, NULL, &second), 0x800704D6u);
    CHECK_EQ(get_state(h).PortConnected, 1);

    T("argument checks: overlapped, options, reply");
    CHECK_EQ((uint32_t)FilterGetMessage(port, r.b.msg, sizeof r.b.msg, &r), 0x80070057u);
    CHECK_EQ((uint32_t)FilterConnectCommunicationPort(d.wport, 8, NULL, 0, NULL, &second), 0x80070057u);
    KAWIN_FILTER_REPLY_HEADER reply = {0, 0, 1};
    CHECK_EQ(FilterReplyMessage(port, &reply, sizeof reply), 0);
    CHECK_EQ((uint32_t)FilterReplyMessage(port, NULL, 0), 0x80070057u);
    CHECK_EQ((uint32_t)FilterGetMessage((HANDLE)(intptr_t)0x5550, r.b.msg, sizeof r.b.msg, NULL), HR_HANDLE);
    CHECK(!CancelIoEx(port, NULL) && GetLastError() == 1168, "CancelIoEx with nothing pending");

    T("a blocked FilterGetMessage is released by CancelIoEx, and the port keeps working");
    pthread_t th = start_reader(&r, port);
    CHECK(CancelIoEx(port, NULL), "CancelIoEx: %u", GetLastError());
    pthread_join(th, NULL);
    CHECK_EQ((uint32_t)r.hr, HR_ABORTED);
    th = start_reader(&r, port);
    KAWIN_EMU_DECISION out;
    RuleSpec rule = {5, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_AUDIT, 0, 0, "\\Device\\HarddiskVolume3\\p.txt", NULL};
    CHECK_EQ(add_rules(h, &rule, 1, NULL), 0);
    CHECK_EQ(KawinEmu_SimulateFileOpen(d.dev, "C:\\p.txt", "C:\\a.exe", 1, KAWIN_ACCESS_READ_DATA, &out), 0);
    pthread_join(th, NULL);
    CHECK_EQ(r.hr, 0);
    CHECK_EQ(r.b.count, 1);

    T("a blocked FilterGetMessage is released by CloseHandle; reconnecting works at once");
    th = start_reader(&r, port);
    CHECK(CloseHandle(port), "close");
    pthread_join(th, NULL);
    CHECK((uint32_t)r.hr == HR_ABORTED || (uint32_t)r.hr == HR_HANDLE, "hr 0x%x", (uint32_t)r.hr);
    port = open_port(&d);
    CHECK(port != INVALID_HANDLE_VALUE, "reconnect after close");

    T("DropPort releases the reader with 0x80070006; the port can be reconnected");
    th = start_reader(&r, port);
    CHECK_EQ(KawinEmu_DropPort(d.dev), 0);
    pthread_join(th, NULL);
    CHECK_EQ((uint32_t)r.hr, HR_HANDLE);
    CHECK_EQ((uint32_t)FilterGetMessage(port, r.b.msg, sizeof r.b.msg, NULL), HR_HANDLE);
    CloseHandle(port);
    port = open_port(&d);
    CHECK(port != INVALID_HANDLE_VALUE, "reconnect after drop");

    T("events queue while no port is connected");
    CloseHandle(port);
    CHECK_EQ(KawinEmu_SimulateFileOpen(d.dev, "C:\\p.txt", "C:\\a.exe", 1, KAWIN_ACCESS_READ_DATA, &out), 0);
    CHECK_EQ(get_state(h).RingUsed, 1);
    CHECK_EQ(get_state(h).PortConnected, 0);
    port = open_port(&d);
    CHECK_EQ(read_batch(port, &r.b, sizeof r.b.msg), 0);
    CHECK_EQ(r.b.count, 1);

    T("Reload: reader released, table/config/ring reset, old device handles invalid");
    CHECK_EQ(set_config(h, 0, KAWIN_REPORT_UNMATCHED_FILE, KAWIN_POSTURE_BLOCK, KAWIN_POSTURE_BLOCK), 0);
    CHECK_EQ(KawinEmu_GenerateLoad(d.dev, 3, 0, 1), 0);
    CHECK_EQ(read_batch(port, &r.b, sizeof r.b.msg), 0);
    th = start_reader(&r, port);
    CHECK_EQ(KawinEmu_Reload(d.dev), 0);
    pthread_join(th, NULL);
    CHECK_EQ((uint32_t)r.hr, HR_HANDLE);
    KAWIN_STATE s;
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s, NULL), KAWIN_ERROR_INVALID_HANDLE);
    CloseHandle(h);
    CloseHandle(port);
    h = open_device(&d);
    s = get_state(h);
    CHECK_EQ(s.Generation, 0);
    CHECK_EQ(s.RuleCount, 0);
    CHECK_EQ(s.EventsEmitted, 0);
    CHECK_EQ(s.RingUsed, 0);
    CHECK_EQ(s.PortConnected, 0);
    CHECK_EQ(s.Config.FilePosture, KAWIN_POSTURE_AUDIT);
    CHECK_EQ(s.Config.EventMask, 0);
    port = open_port(&d);
    CHECK_EQ(KawinEmu_GenerateLoad(d.dev, 1, 0, 1), 0);
    CHECK_EQ(read_batch(port, &r.b, sizeof r.b.msg), 0);
    CHECK_EQ(r.b.b.FirstSequence, 1);

    T("fault injection: the next N calls fail, nothing changes, Reset clears faults");
    CHECK_EQ(KawinEmu_InjectFault(d.dev, IOCTL_KAWIN_GET_STATE, 2, KAWIN_ERROR_ACCESS_DENIED), 0);
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s, NULL), KAWIN_ERROR_ACCESS_DENIED);
    CHECK_EQ(add_rules(h, &rule, 1, NULL), 0); /* other IOCTLs unaffected */
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s, NULL), KAWIN_ERROR_ACCESS_DENIED);
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s, NULL), 0);
    CHECK_EQ(KawinEmu_InjectFault(d.dev, 0, 1, 0), 0);
    rule.id = 6;
    CHECK_EQ(add_rules(h, &rule, 1, NULL), KAWIN_ERROR_GEN_FAILURE);
    CHECK_EQ(get_state(h).RuleCount, 1);
    CHECK_EQ(KawinEmu_InjectFault(d.dev, IOCTL_KAWIN_LIST_RULES, 5, 0), 0);
    CHECK_EQ(KawinEmu_Reset(d.dev), 0);
    CloseHandle(h);
    h = open_device(&d);
    uint64_t ids[4];
    CHECK_EQ(list_all(h, ids, 4, 4096, NULL), 0);

    CloseHandle(port);
    CloseHandle(h);
    daemon_stop(&d);
}
