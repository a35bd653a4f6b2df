/* Handle table, socket helpers and the thread-local last error of the shim. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

static __thread uint32_t lastError;
static pthread_mutex_t tableMu = PTHREAD_MUTEX_INITIALIZER;
static Handle **table;
static size_t tableLen, tableCap;
static uintptr_t nextValue = 0x1000; /* like Windows: multiples of 4, never reused here */
static char *lastDevice;

void shim_set_error(uint32_t e) { lastError = e; }
KW_EXPORT DWORD GetLastError(void) { return lastError; }
KW_EXPORT void SetLastError(DWORD e) { lastError = e; }

Handle *handle_new(int kind, int fd)
{
    Handle *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->kind = kind;
    h->fd = fd;
    h->refs = 1;
    h->cancel[0] = h->cancel[1] = -1;
    pthread_mutex_init(&h->call, NULL);
    pthread_mutex_init(&h->state, NULL);
    if (kind == H_PORT && pipe2(h->cancel, O_NONBLOCK | O_CLOEXEC) != 0) {
        pthread_mutex_destroy(&h->call);
        pthread_mutex_destroy(&h->state);
        free(h);
        return NULL;
    }
    pthread_mutex_lock(&tableMu);
    if (tableLen == tableCap) {
        size_t cap = tableCap ? tableCap * 2 : 16;
        Handle **t = realloc(table, sizeof *t * cap);
        if (!t) {
            pthread_mutex_unlock(&tableMu);
            h->fd = -1; /* the caller still owns and closes fd */
            handle_put(h);
            return NULL;
        }
        table = t;
        tableCap = cap;
    }
    h->value = nextValue;
    nextValue += 4;
    table[tableLen++] = h;
    pthread_mutex_unlock(&tableMu);
    return h;
}

Handle *handle_get(HANDLE value, int kind)
{
    Handle *found = NULL;
    pthread_mutex_lock(&tableMu);
    for (size_t i = 0; i < tableLen; i++)
        if (table[i]->value == (uintptr_t)value) {
            found = table[i];
            break;
        }
    if (found && kind && found->kind != kind) found = NULL;
    if (found) __atomic_add_fetch(&found->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&tableMu);
    return found;
}

Handle *handle_unregister(HANDLE value)
{
    Handle *found = NULL;
    pthread_mutex_lock(&tableMu);
    for (size_t i = 0; i < tableLen; i++)
        if (table[i]->value == (uintptr_t)value) {
            found = table[i];
            table[i] = table[--tableLen];
            break;
        }
    pthread_mutex_unlock(&tableMu);
    return found;
}

/* A closed port waits until the kernel has released the connection, so a reconnect
 * right after CloseHandle does not hit the connection limit. */
static void close_port_fd(int fd)
{
    shutdown(fd, SHUT_WR);
    char buf[4096];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 2000) <= 0) break;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
}

void handle_put(Handle *h)
{
    if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (h->kind == H_PORT && h->fd >= 0) close_port_fd(h->fd);
    if (h->fd >= 0) close(h->fd);
    if (h->cancel[0] >= 0) close(h->cancel[0]);
    if (h->cancel[1] >= 0) close(h->cancel[1]);
    pthread_mutex_destroy(&h->call);
    pthread_mutex_destroy(&h->state);
    free(h->stash);
    free(h);
}

int shim_connect(const char *path, uint32_t *win32)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    *win32 = KAWIN_ERROR_FILE_NOT_FOUND;
    if (!path || strlen(path) >= sizeof a.sun_path) return -1;
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc;
    do rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    while (rc != 0 && errno == EINTR);
    if (rc == 0) return fd;
    if (errno == EACCES || errno == EPERM) *win32 = KAWIN_ERROR_ACCESS_DENIED;
    close(fd);
    return -1;
}

char *shim_name_to_path(const uint16_t *name)
{
    if (!name) return NULL;
    size_t n = kw_wcslen(name);
    char *s = malloc(n * 3 + 1);
    long k = s ? kw_utf16_to_utf8(name, n, s, n * 3) : -1;
    if (k < 0) {
        free(s);
        return NULL;
    }
    s[k] = 0;
    const char *dir = getenv("KAWIN_EMU_DIR");
    const char *leaf = !strncmp(s, "\\\\.\\", 4) ? s + 4 : (s[0] == '\\' && !strchr(s + 1, '\\')) ? s + 1 : NULL;
    if (!dir || !leaf) return s;
    size_t len = strlen(dir) + strlen(leaf) + 2;
    char *p = malloc(len);
    if (p) {
        strcpy(p, dir);
        strcat(p, "/");
        strcat(p, leaf);
    }
    free(s);
    return p;
}

int shim_call(int fd, uint16_t type, const void *a, uint32_t alen, const void *b, uint32_t blen,
              uint32_t *err, uint8_t **payload, const uint8_t **data, uint32_t *dataLen)
{
    static uint32_t tags;
    uint32_t tag = __atomic_add_fetch(&tags, 1, __ATOMIC_RELAXED);
    *payload = NULL;
    if (kw_send_msg2(fd, type, tag, a, alen, b, blen) != 0) return -1;
    KW_MSG h;
    if (kw_recv_msg(fd, &h, payload, KW_MAX_PAYLOAD) != 0 || h.Type != KW_RESP || h.Length < 8) {
        free(*payload);
        *payload = NULL;
        return -1;
    }
    memcpy(err, *payload, 4);
    *data = *payload + 8;
    *dataLen = h.Length - 8;
    return 0;
}

void shim_remember_device(const char *path)
{
    char *copy = strdup(path);
    pthread_mutex_lock(&tableMu);
    free(lastDevice);
    lastDevice = copy;
    pthread_mutex_unlock(&tableMu);
}

char *shim_last_device(void)
{
    pthread_mutex_lock(&tableMu);
    char *p = lastDevice ? strdup(lastDevice) : NULL;
    pthread_mutex_unlock(&tableMu);
    if (!p && getenv("KAWIN_EMU_DIR")) {
        const char *dir = getenv("KAWIN_EMU_DIR");
        p = malloc(strlen(dir) + 8);
        if (p) {
            strcpy(p, dir);
            strcat(p, "/Karmor");
        }
    }
    return p;
}
