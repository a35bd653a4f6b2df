/* The daemon's life: flags, "driver not loaded", a second daemon, stale sockets, dying
 * clients and garbage on the wire, QueryDosDeviceW, shutdown. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static int raw_connect(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void absent(void)
{
    T("no kernel: CreateFileW error 2, FilterConnectCommunicationPort 0x80070002");
    uint16_t w[64];
    to16("/tmp/kawin-emu-does-not-exist/Karmor", w, 64);
    HANDLE h = CreateFileW(w, 0, 0, NULL, 3, 0, NULL);
    CHECK(h == INVALID_HANDLE_VALUE && GetLastError() == KAWIN_ERROR_FILE_NOT_FOUND, "error %u", GetLastError());
    HANDLE p;
    CHECK_EQ((uint32_t)FilterConnectCommunicationPort(w, 0, NULL, 0, NULL, &p), 0x80070002u);
    CHECK_EQ(KawinEmu_GenerateLoad("/tmp/kawin-emu-does-not-exist/Karmor", 1, 0, 1), KAWIN_ERROR_FILE_NOT_FOUND);
}

static void dying_clients(const Daemon *d, HANDLE h)
{
    T("the daemon survives clients that die mid-request and garbage on the wire");
    RuleSpec r = {9, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_BLOCK, 0, 0, "\\Device\\HarddiskVolume3\\k", NULL};
    CHECK_EQ(add_rules(h, &r, 1, NULL), 0);
    uint64_t gen = get_state(h).Generation;
    /* half a header, then gone */
    int fd = raw_connect(d->dev);
    CHECK(write(fd, "KWE1\x01\x00", 6) == 6, "write");
    close(fd);
    /* an APPLY that promises 10 MiB and delivers 1 MiB */
    fd = raw_connect(d->dev);
    KW_MSG m = {KW_MAGIC, KW_REQ_IOCTL, 0, 10u << 20, 1};
    static uint8_t junk[1 << 20];
    uint32_t head[2] = {IOCTL_KAWIN_APPLY, 24};
    memcpy(junk, head, sizeof head);
    CHECK(write(fd, &m, sizeof m) == sizeof m, "write");
    CHECK(write(fd, junk, sizeof junk) > 0, "write");
    close(fd);
    /* bad magic: answered with an error, then closed */
    fd = raw_connect(d->dev);
    KW_MSG bad = {0x12345678, KW_REQ_IOCTL, 0, 8, 7};
    CHECK(write(fd, &bad, sizeof bad) == sizeof bad, "write");
    KW_MSG ans;
    uint8_t *payload = NULL;
    CHECK_EQ(kw_recv_msg(fd, &ans, &payload, 1024), 0);
    uint32_t err = 0;
    if (payload) memcpy(&err, payload, 4);
    CHECK_EQ(err, KAWIN_ERROR_INVALID_PARAMETER);
    free(payload);
    close(fd);
    /* an unknown request type and a truncated simulate request are answered, not fatal */
    fd = raw_connect(d->dev);
    KW_MSG unk = {KW_MAGIC, 99, 0, 0, 8};
    CHECK(write(fd, &unk, sizeof unk) == sizeof unk, "write");
    CHECK_EQ(kw_recv_msg(fd, &ans, &payload, 1024), 0);
    memcpy(&err, payload, 4);
    CHECK_EQ(err, KAWIN_ERROR_INVALID_FUNCTION);
    free(payload);
    KW_MSG sim = {KW_MAGIC, KW_REQ_SIM_FILE, 0, 6, 9};
    CHECK(write(fd, &sim, sizeof sim) == sizeof sim && write(fd, "abcdef", 6) == 6, "write");
    CHECK_EQ(kw_recv_msg(fd, &ans, &payload, 1024), 0);
    memcpy(&err, payload, 4);
    CHECK_EQ(err, KAWIN_ERROR_INVALID_PARAMETER);
    free(payload);
    close(fd);
    /* a port reader killed with SIGKILL while blocked */
    pid_t child = fork();
    if (child == 0) {
        HANDLE p = open_port(d);
        static Batch b;
        read_batch(p, &b, sizeof b.msg);
        _exit(0);
    }
    sleep_ms(300);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    HANDLE port = INVALID_HANDLE_VALUE;
    for (int i = 0; i < 200 && port == INVALID_HANDLE_VALUE; i++) {
        port = open_port(d);
        if (port == INVALID_HANDLE_VALUE) sleep_ms(10);
    }
    CHECK(port != INVALID_HANDLE_VALUE, "port reconnect after the reader was killed");
    CloseHandle(port);
    KAWIN_STATE s = get_state(h);
    CHECK_EQ(s.Generation, gen);
    CHECK_EQ(s.RuleCount, 1);
}

static void dos_devices(const Daemon *d)
{
    T("QueryDosDeviceW answers from the drive map of the device opened last");
    uint16_t name[8], out[256], expect[64];
    to16("C:", name, 8);
    uint32_t n = QueryDosDeviceW(name, out, 256);
    to16("\\Device\\HarddiskVolume3", expect, 64);
    CHECK_EQ(n, 23 + 2);
    CHECK(memcmp(out, expect, 24 * 2) == 0 && out[24] == 0, "target");
    to16("d:", name, 8);
    n = QueryDosDeviceW(name, out, 256);
    CHECK_EQ(n, 23 + 2);
    n = QueryDosDeviceW(NULL, out, 256);
    CHECK_EQ(n, 7);
    CHECK(out[0] == 'C' && out[1] == ':' && out[2] == 0 && out[3] == 'D' && out[5] == 0 && out[6] == 0, "names");
    to16("Q:", name, 8);
    CHECK(QueryDosDeviceW(name, out, 256) == 0 && GetLastError() == KAWIN_ERROR_FILE_NOT_FOUND, "unknown drive");
    to16("C:", name, 8);
    CHECK(QueryDosDeviceW(name, out, 10) == 0 && GetLastError() == KAWIN_ERROR_INSUFFICIENT_BUFFER, "small buffer");

    T("a volume mounted while the kernel runs is in the drive map from then on; a taken letter is 87");
    CHECK_EQ(KawinEmu_MountVolume(d->dev, "q:", "\\Device\\HarddiskVolume9"), 0);
    to16("Q:", name, 8);
    n = QueryDosDeviceW(name, out, 256);
    to16("\\Device\\HarddiskVolume9", expect, 64);
    CHECK(n == 23 + 2 && memcmp(out, expect, 23 * 2) == 0, "the mounted volume");
    CHECK_EQ(KawinEmu_MountVolume(d->dev, "Q:", "\\Device\\HarddiskVolume10"), KAWIN_ERROR_INVALID_PARAMETER);
    CHECK_EQ(KawinEmu_MountVolume(d->dev, "Q", "\\Device\\HarddiskVolume10"), KAWIN_ERROR_INVALID_PARAMETER);
    KAWIN_EMU_DECISION dec;
    CHECK_EQ(KawinEmu_SimulateFileOpen(d->dev, "Q:\\x.txt", "C:\\a.exe", 8, KAWIN_ACCESS_READ_DATA, &dec), 0);
}

typedef struct Blocked {
    HANDLE port;
    HRESULT hr;
} Blocked;

static void *block_read(void *arg)
{
    Blocked *b = arg;
    static Batch batch;
    b->hr = read_batch(b->port, &batch, sizeof batch.msg);
    return NULL;
}

static void lifecycle(void)
{
    Daemon d;
    const char *args[] = {"--drive", "C:=\\Device\\HarddiskVolume3", "--drive", "D:=\\Device\\HarddiskVolume4", NULL};
    if (daemon_start(&d, args) != 0) {
        CHECK(0, "daemon");
        return;
    }
    HANDLE h = open_device(&d);
    dos_devices(&d);

    T("a second daemon on the same directory refuses to start (exit 1)");
    const char *argv2[] = {g_daemon_bin, "--dir", d.dir, NULL};
    CHECK_EQ(run_daemon_cmd(argv2), 1);
    CHECK(get_state(h).Version == KAWIN_ABI_VERSION, "first daemon unaffected");

    T("bad flags exit 1");
    const char *bad1[] = {g_daemon_bin, NULL};
    const char *bad2[] = {g_daemon_bin, "--dir", "/tmp/kawin-emu-x", "--flavor", "beos", NULL};
    const char *bad3[] = {g_daemon_bin, "--dir", "/tmp/kawin-emu-x", "--drive", "C=bad", NULL};
    const char *bad4[] = {g_daemon_bin, "--dir", "/tmp/kawin-emu-x", "--ring", "0", NULL};
    CHECK_EQ(run_daemon_cmd(bad1), 1);
    CHECK_EQ(run_daemon_cmd(bad2), 1);
    CHECK_EQ(run_daemon_cmd(bad3), 1);
    CHECK_EQ(run_daemon_cmd(bad4), 1);
    unlink("/tmp/kawin-emu-x/kawin-driverd.lock");
    rmdir("/tmp/kawin-emu-x");

    dying_clients(&d, h);

    T("Shutdown: a blocked reader gets 0x80070006, the sockets disappear, CreateFileW gets 2");
    static Blocked b;
    b.port = open_port(&d);
    pthread_t th;
    pthread_create(&th, NULL, block_read, &b);
    sleep_ms(100);
    daemon_stop(&d);
    pthread_join(th, NULL);
    CHECK_EQ((uint32_t)b.hr, 0x80070006u);
    KAWIN_STATE s;
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s, NULL), KAWIN_ERROR_INVALID_HANDLE);
    CloseHandle(b.port);
    CloseHandle(h);
    struct stat st;
    CHECK(stat(d.dev, &st) != 0, "device socket removed");
    HANDLE gone = CreateFileW(d.wdev, 0, 0, NULL, 3, 0, NULL);
    CHECK(gone == INVALID_HANDLE_VALUE && GetLastError() == KAWIN_ERROR_FILE_NOT_FOUND, "error %u", GetLastError());
}

static void daemonize_and_stale(void)
{
    T("--daemonize: parent exits 0 once the sockets accept, pid file written; stale sockets removed");
    char dir[] = "/tmp/kawin-emu-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char dev[128], port[128], pidPath[128], logPath[128];
    snprintf(dev, sizeof dev, "%s/Karmor", dir);
    snprintf(port, sizeof port, "%s/KarmorPort", dir);
    snprintf(pidPath, sizeof pidPath, "%s/kawin-driverd.pid", dir);
    snprintf(logPath, sizeof logPath, "%s/log", dir);
    /* a stale socket: bound, then its owner went away */
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, dev);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind");
    close(fd);
    uint16_t wdev[128];
    to16(dev, wdev, 128);
    HANDLE h = CreateFileW(wdev, 0, 0, NULL, 3, 0, NULL);
    CHECK(h == INVALID_HANDLE_VALUE && GetLastError() == KAWIN_ERROR_FILE_NOT_FOUND, "a refusing socket is error 2");
    const char *argv[] = {g_daemon_bin, "--dir", dir, "--daemonize", "--flavor", "posix", "--log", logPath, NULL};
    CHECK_EQ(run_daemon_cmd(argv), 0);
    h = CreateFileW(wdev, 0, 0, NULL, 3, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE, "device opens right after the parent exited");
    CHECK_EQ(get_state(h).Flavor, KAWIN_FLAVOR_POSIX);
    FILE *f = fopen(pidPath, "r");
    int pid = 0;
    CHECK(f && fscanf(f, "%d", &pid) == 1 && pid > 0, "pid file");
    if (f) fclose(f);
    CloseHandle(h);
    CHECK_EQ(KawinEmu_Shutdown(dev), 0);
    CHECK(access(pidPath, F_OK) != 0, "pid file removed");
    CHECK(access(dev, F_OK) != 0 && access(port, F_OK) != 0, "sockets removed");
    unlink(logPath);
    char lock[160];
    snprintf(lock, sizeof lock, "%s/kawin-driverd.lock", dir);
    unlink(lock);
    rmdir(dir);
}

void test_daemon(void)
{
    absent();
    lifecycle();
    daemonize_and_stale();
}
