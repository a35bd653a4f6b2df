/* Runner and helpers of the emulator's C tests (see harness.h). Usage: emu-test <kawin-driverd> */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int g_failed, g_checks;
const char *g_daemon_bin;
const char *g_test = "";
static int casePassed, caseFailed, caseOpen, caseStartFailed, caseStartChecks;

static void case_end(void)
{
    if (!caseOpen) return;
    caseOpen = 0;
    if (g_checks == caseStartChecks) return; /* a group's preamble without checks */
    if (g_failed == caseStartFailed) casePassed++;
    else {
        caseFailed++;
        fprintf(stderr, "  failed: %s\n", g_test);
    }
    caseOpen = 0;
}

void T(const char *name)
{
    case_end();
    g_test = name;
    caseOpen = 1;
    caseStartFailed = g_failed;
    caseStartChecks = g_checks;
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

void to16(const char *s, uint16_t *out, size_t cap)
{
    long n = kw_utf8_to_utf16(s, strlen(s), out, cap - 1);
    out[n < 0 ? 0 : n] = 0;
}

static int can_connect(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

int daemon_start(Daemon *d, const char *const *args)
{
    memset(d, 0, sizeof *d);
    strcpy(d->dir, "/tmp/kawin-emu-XXXXXX");
    if (!mkdtemp(d->dir)) return -1;
    snprintf(d->dev, sizeof d->dev, "%s/Karmor", d->dir);
    snprintf(d->port, sizeof d->port, "%s/KarmorPort", d->dir);
    to16(d->dev, d->wdev, 160);
    to16(d->port, d->wport, 160);
    char logPath[200];
    snprintf(logPath, sizeof logPath, "%s/driverd.log", d->dir);
    const char *argv[32] = {g_daemon_bin, "--dir", d->dir, "--log", logPath};
    int n = 5;
    for (int i = 0; args && args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    d->pid = fork();
    if (d->pid == 0) {
        execv(g_daemon_bin, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (can_connect(d->dev)) return 0;
        if (waitpid(d->pid, NULL, WNOHANG) == d->pid) break;
        sleep_ms(10);
    }
    fprintf(stderr, "  daemon did not start in %s\n", d->dir);
    return -1;
}

static void remove_dir(const char *dir)
{
    DIR *dd = opendir(dir);
    if (!dd) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(dd)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(dd);
    rmdir(dir);
}

void daemon_stop(Daemon *d)
{
    if (d->pid <= 0) return;
    if (KawinEmu_Shutdown(d->dev) != 0) kill(d->pid, SIGTERM);
    int status = 0;
    waitpid(d->pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "daemon exit status %d", status);
    d->pid = 0;
    remove_dir(d->dir);
}

int run_daemon_cmd(const char *const *argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", 1);
        dup2(null, 2);
        execv(g_daemon_bin, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

HANDLE open_device(const Daemon *d)
{
    return CreateFileW(d->wdev, 0xC0000000u, 0, NULL, 3, 0, NULL);
}

HANDLE open_port(const Daemon *d)
{
    HANDLE p = INVALID_HANDLE_VALUE;
    HRESULT hr = FilterConnectCommunicationPort(d->wport, 0, NULL, 0, NULL, &p);
    return hr == 0 ? p : INVALID_HANDLE_VALUE;
}

static const struct {
    const char *name;
    void (*fn)(void);
} groups[] = {
    {"ioctls", test_ioctls}, {"decisions", test_decisions}, {"events", test_events},
    {"port", test_port},     {"daemon", test_daemon},       {"concurrency", test_concurrency},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: emu-test <kawin-driverd> [group...]\n");
        return 2;
    }
    g_daemon_bin = argv[1];
    signal(SIGPIPE, SIG_IGN);
    double t0 = now_s();
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        int wanted = argc == 2;
        for (int a = 2; a < argc; a++) wanted |= !strcmp(argv[a], groups[i].name);
        if (!wanted) continue;
        int before = g_failed, checks = g_checks;
        double t = now_s();
        T(groups[i].name);
        groups[i].fn();
        case_end();
        int ok = g_failed == before;
        printf("%s %-12s %5d checks  %.2fs\n", ok ? "ok  " : "FAIL", groups[i].name, g_checks - checks, now_s() - t);
        fflush(stdout);
    }
    printf("C tests: %d passed, %d failed (%d checks, %.1fs)\n", casePassed, caseFailed, g_checks, now_s() - t0);
    return g_failed ? 1 : 0;
}
