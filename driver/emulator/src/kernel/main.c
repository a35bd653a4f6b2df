/*
 * kawin-driverd: the emulated kernel. Owns the driver state for as long as it runs:
 * DIR/Karmor is the control device, DIR/KarmorPort the filter port; no socket means
 * "driver not loaded". Clients may crash at any time; nothing they do changes that.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "options.h"

Kernel K;
static FILE *logFile;
static pthread_mutex_t logMu = PTHREAD_MUTEX_INITIALIZER;

void kernel_log(const char *fmt, ...)
{
    if (!logFile) return;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    pthread_mutex_lock(&logMu);
    fprintf(logFile, "%s kawin-driverd[%d]: ", ts, (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    vfprintf(logFile, fmt, ap);
    va_end(ap);
    fputc('\n', logFile);
    fflush(logFile);
    pthread_mutex_unlock(&logMu);
}

KAWIN_CONFIG kernel_default_config(void)
{
    KAWIN_CONFIG c = {K.flavor == KAWIN_FLAVOR_WINDOWS ? KAWIN_CONFIG_CASE_FOLD : 0, 0, KAWIN_POSTURE_AUDIT,
                      KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT, 0};
    return c;
}

void kernel_reload(int clearFaults)
{
    pthread_rwlock_wrlock(&K.lock);
    table_clear(&K.table);
    K.config = kernel_default_config();
    table_set_fold(&K.table, (K.config.Flags & KAWIN_CONFIG_CASE_FOLD) != 0);
    ring_clear(&K.ring);
    atomic_fetch_add(&K.epoch, 1);
    /* Still under the write lock: no record of the reloaded driver can reach the old port. */
    port_drop();
    pthread_rwlock_unlock(&K.lock);
    if (clearFaults) {
        pthread_mutex_lock(&K.faultMu);
        memset(K.faults, 0, sizeof K.faults);
        pthread_mutex_unlock(&K.faultMu);
    }
    kernel_log(clearFaults ? "reset" : "reloaded");
}

static void init_kernel(const Options *o)
{
    /* grow the heap in large steps and keep freed memory: a 100k-rule APPLY otherwise
     * spends much of its time in page faults */
    mallopt(M_TOP_PAD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    K.flavor = o->flavor;
    K.sep = o->flavor == KAWIN_FLAVOR_WINDOWS ? '\\' : '/';
    for (int i = 0; i < o->ndrives; i++) add_drive(o->drives[i]);
    if (o->ndrives == 0 && o->flavor == KAWIN_FLAVOR_WINDOWS) add_drive("C:=\\Device\\HarddiskVolume3");
    long n = kw_utf8_to_utf16(o->sid, strlen(o->sid), K.sid, 64);
    if (n < 0) fail("--user-sid: at most 64 characters");
    K.sidLen = (uint32_t)n;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* writers (APPLY) must not starve behind a stream of simulated operations */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&K.lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&K.portMu, NULL);
    pthread_mutex_init(&K.faultMu, NULL);
    K.config = kernel_default_config();
    table_init(&K.table, K.sep, (K.config.Flags & KAWIN_CONFIG_CASE_FOLD) != 0, o->maxRules);
    ring_init(&K.ring, o->ring);
    if (!K.ring.slot) fail("cannot allocate the event ring");
    atomic_store(&K.nextPid, 4000);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) fail("out of memory");
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int listen_on(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) fail("socket path too long (max %zu bytes): %s", sizeof a.sun_path - 1, path);
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    /* Created 0600 by the umask set in main (no window in which others could connect);
       the chmod states it again: whoever connects can reload the driver or read events. */
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || chmod(path, 0600) != 0 || listen(fd, 128) != 0)
        fail("cannot listen on %s: %s", path, strerror(errno));
    return fd;
}

/* The directory holds the device and port sockets: another user able to write in it could
   replace them. Refuse one that is not ours or that group or others can write. */
static void check_private_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) fail("cannot stat %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) fail("%s is not a directory", dir);
    if (st.st_uid != geteuid()) fail("%s belongs to uid %u, not to this user (uid %u): refusing to use it", dir, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & 022)
        fail("%s is writable by group or others (mode %03o): refusing to use it (chmod 700 %s)", dir, (unsigned)(st.st_mode & 0777), dir);
}

/* Holds DIR/kawin-driverd.lock for the daemon's life: a second daemon on DIR refuses. */
static void lock_dir(const char *dir)
{
    char *lockPath = join(dir, "kawin-driverd.lock");
    int fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) fail("cannot open %s: %s", lockPath, strerror(errno));
    int locked = 0;
    for (int i = 0; i < 40 && !(locked = flock(fd, LOCK_EX | LOCK_NB) == 0); i++) {
        struct timespec ts = {0, 25000000}; /* a kernel that is shutting down releases it shortly */
        nanosleep(&ts, NULL);
    }
    if (!locked) {
        char pid[32] = "?";
        char *pidPath = join(dir, "kawin-driverd.pid");
        FILE *f = fopen(pidPath, "r");
        if (f && fgets(pid, sizeof pid, f)) pid[strcspn(pid, "\n")] = 0;
        if (f) fclose(f);
        fail("another kawin-driverd (pid %s) is running on %s", pid, dir);
    }
    free(lockPath); /* fd stays open: the lock lives as long as the process */
}

static void *device_thread(void *arg)
{
    device_serve((int)(intptr_t)arg);
    return NULL;
}

static void *accept_loop(void *arg)
{
    int *fds = arg;
    for (;;) {
        struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        if (poll(p, 2, -1) < 0) continue;
        for (int i = 0; i < 2; i++) {
            if (!p[i].revents) continue;
            int c = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
            if (c < 0) continue;
            if (i == 1) {
                port_accept(c);
                continue;
            }
            pthread_t th;
            pthread_attr_t a;
            pthread_attr_init(&a);
            pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&th, &a, device_thread, (void *)(intptr_t)c) != 0) close(c);
            pthread_attr_destroy(&a);
        }
    }
    return NULL;
}

static void write_pid(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) fail("cannot write %s: %s", path, strerror(errno));
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

/* Forks; the parent exits 0 only once the child's sockets accept, 1 if the child failed. */
static int daemonize(void)
{
    int p[2];
    if (pipe(p) != 0) fail("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid > 0) {
        close(p[1]);
        char ok = 1;
        ssize_t n = read(p[0], &ok, 1);
        _exit(n == 1 && ok == 0 ? 0 : 1);
    }
    close(p[0]);
    setsid();
    return p[1];
}

static void detach_stdio(void)
{
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) return;
    dup2(fd, 0);
    dup2(fd, 1);
    if (logFile != stderr) dup2(fd, 2);
    if (fd > 2) close(fd);
}

int main(int argc, char **argv)
{
    Options o;
    parse_args(argc, argv, &o);
    /* Everything the emulated kernel creates (sockets, lock, pid, log) is the owner's only,
       whatever umask it was started under. */
    umask(077);
    if (mkdir(o.dir, 0700) != 0 && errno != EEXIST) fail("cannot create %s: %s", o.dir, strerror(errno));
    check_private_dir(o.dir);
    lock_dir(o.dir);
    logFile = o.log ? fopen(o.log, "a") : (o.daemonize ? NULL : stderr);
    if (o.log && !logFile) fail("cannot open log %s: %s", o.log, strerror(errno));
    init_kernel(&o);
    K.devPath = join(o.dir, "Karmor");
    K.portPath = join(o.dir, "KarmorPort");
    char *pidPath = join(o.dir, "kawin-driverd.pid");
    unlink(K.devPath); /* stale sockets of a dead daemon: the lock proves nobody owns them */
    unlink(K.portPath);
    unlink(pidPath); /* a pid file of a dead daemon must not pass for this one's readiness */
    int ready = o.daemonize ? daemonize() : -1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* threads inherit the mask: only sigwait sees them */
    signal(SIGPIPE, SIG_IGN);
    static int fds[2];
    fds[0] = listen_on(K.devPath);
    fds[1] = listen_on(K.portPath);
    write_pid(pidPath);
    pthread_t th;
    if (pthread_create(&th, NULL, accept_loop, fds) != 0) fail("cannot start the accept thread");
    kernel_log("loaded: dir=%s flavor=%s ring=%u", o.dir, K.flavor == KAWIN_FLAVOR_WINDOWS ? "windows" : "posix", o.ring);
    if (ready >= 0) {
        detach_stdio();
        char ok = 0;
        if (write(ready, &ok, 1) != 1) {}
        close(ready);
    }
    int sig = 0;
    sigwait(&set, &sig);
    unlink(K.devPath);
    unlink(K.portPath);
    unlink(pidPath);
    kernel_log("unloaded (signal %d)", sig);
    _exit(0); /* clients' threads may be mid-request: no global teardown needed */
}
