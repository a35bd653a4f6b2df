/*
 * The filter communication port: at most one connection (a second one is refused with
 * HRESULT_FROM_WIN32(ERROR_CONNECTION_COUNT_LIMIT)). Each GET is answered by one batch
 * as soon as the ring holds a record, by an error, or by "cancelled" when the shim sends
 * CANCEL (CancelIoEx) first. A drop, reload or kernel exit answers ERROR_INVALID_HANDLE.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kernel.h"

#define E_INVALIDARG 0x80070057u
#define MAX_BATCH_RECORDS (KAWIN_MAX_MESSAGE_BYTES / sizeof(KAWIN_EVENT) + 1)

struct PortConn {
    int fd, wakefd;
    atomic_int dropped;
    uint8_t *buf;
};

static int send_hr(int fd, uint16_t type, uint32_t tag, uint32_t hr)
{
    return kw_send_msg(fd, type, tag, &hr, sizeof hr);
}

static void stop_waiting(PortConn *pc)
{
    pthread_mutex_lock(&K.ring.mu);
    if (K.ring.waiterFd == pc->wakefd) K.ring.waiterFd = -1;
    pthread_mutex_unlock(&K.ring.mu);
}

/* Caller holds the ring lock and the ring is not empty. Returns message bytes. */
static uint32_t take_batch(PortConn *pc, uint32_t limit, EventRec **done, uint32_t *ndone)
{
    Ring *r = &K.ring;
    KAWIN_FILTER_MESSAGE_HEADER mh = {0, 0, atomic_fetch_add(&K.messageId, 1) + 1};
    KAWIN_EVENT_BATCH b = {KAWIN_ABI_VERSION, sizeof b, 0, sizeof b, 0, r->pendingDropped, r->emitted - r->count + 1};
    uint32_t off = sizeof mh + sizeof b;
    while (r->count && *ndone < MAX_BATCH_RECORDS && off + r->slot[r->head]->size <= limit) {
        EventRec *e = r->slot[r->head];
        memcpy(pc->buf + off, e->data, e->size);
        off += e->size;
        done[(*ndone)++] = e;
        r->head = (r->head + 1) % r->cap;
        r->count--;
        b.RecordCount++;
    }
    r->pendingDropped = 0;
    b.TotalSize = off - (uint32_t)sizeof mh;
    memcpy(pc->buf, &mh, sizeof mh);
    memcpy(pc->buf + sizeof mh, &b, sizeof b);
    return off;
}

/* 1: answered; 0: ring empty (now registered as waiter). */
static int try_answer(PortConn *pc, uint32_t size, uint32_t tag, int *ioErr)
{
    static const uint32_t head = sizeof(KAWIN_FILTER_MESSAGE_HEADER) + sizeof(KAWIN_EVENT_BATCH);
    EventRec *done[MAX_BATCH_RECORDS];
    uint32_t ndone = 0, len = 0, tooSmall = 0;
    uint32_t limit = size < KAWIN_MAX_MESSAGE_BYTES ? size : KAWIN_MAX_MESSAGE_BYTES;
    pthread_mutex_lock(&K.ring.mu);
    /* Checked under the ring lock: records emitted after a drop are ordered after it. */
    if (atomic_load(&pc->dropped)) {
        pthread_mutex_unlock(&K.ring.mu);
        *ioErr = 1;
        send_hr(pc->fd, KW_PORT_ERROR, tag, KAWIN_HRESULT_FROM_WIN32(KAWIN_ERROR_INVALID_HANDLE));
        return 1;
    }
    if (K.ring.count == 0) {
        K.ring.waiterFd = pc->wakefd;
        pthread_mutex_unlock(&K.ring.mu);
        return 0;
    }
    if (K.ring.waiterFd == pc->wakefd) K.ring.waiterFd = -1;
    if (limit < head + K.ring.slot[K.ring.head]->size) tooSmall = 1; /* the message stays queued */
    else len = take_batch(pc, limit, done, &ndone);
    pthread_mutex_unlock(&K.ring.mu);
    for (uint32_t i = 0; i < ndone; i++) free(done[i]);
    int rc = tooSmall ? send_hr(pc->fd, KW_PORT_ERROR, tag, KAWIN_HRESULT_FROM_WIN32(KAWIN_ERROR_INSUFFICIENT_BUFFER))
                      : kw_send_msg(pc->fd, KW_PORT_MESSAGE, tag, pc->buf, len);
    *ioErr = rc != 0;
    return 1;
}

static void drain(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof v) > 0) {}
}

/* Serves one GET. Returns -1 when the connection must end. */
static int serve_get(PortConn *pc, uint32_t size, uint32_t tag)
{
    for (;;) {
        int ioErr = 0;
        /* A dropped connection (drop, reload) never gets records queued after the drop. */
        if (atomic_load(&pc->dropped)) {
            stop_waiting(pc);
            send_hr(pc->fd, KW_PORT_ERROR, tag, KAWIN_HRESULT_FROM_WIN32(KAWIN_ERROR_INVALID_HANDLE));
            return -1;
        }
        if (try_answer(pc, size, tag, &ioErr)) return ioErr ? -1 : 0;
        struct pollfd p[2] = {{pc->fd, POLLIN, 0}, {pc->wakefd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) continue;
        if (p[1].revents) {
            drain(pc->wakefd);
            if (atomic_load(&pc->dropped)) {
                stop_waiting(pc);
                send_hr(pc->fd, KW_PORT_ERROR, tag, KAWIN_HRESULT_FROM_WIN32(KAWIN_ERROR_INVALID_HANDLE));
                return -1;
            }
        }
        if (!p[0].revents) continue;
        stop_waiting(pc);
        KW_MSG h;
        uint8_t *payload;
        if (kw_recv_msg(pc->fd, &h, &payload, 64) != 0) return -1;
        free(payload);
        if (h.Type != KW_PORT_CANCEL) {
            send_hr(pc->fd, KW_PORT_ERROR, tag, E_INVALIDARG); /* one GET at a time */
            return -1;
        }
        send_hr(pc->fd, KW_PORT_ERROR, tag, KAWIN_HRESULT_FROM_WIN32(KAWIN_ERROR_OPERATION_ABORTED));
        return kw_send_msg(pc->fd, KW_PORT_CANCEL_ACK, h.Tag, NULL, 0) ? -1 : 0;
    }
}

static int serve_one(PortConn *pc)
{
    KW_MSG h;
    uint8_t *payload;
    if (kw_recv_msg(pc->fd, &h, &payload, 64) != 0) return -1;
    int rc = 0;
    if (h.Type == KW_PORT_GET && h.Length >= 4) {
        uint32_t size;
        memcpy(&size, payload, 4);
        rc = serve_get(pc, size, h.Tag);
    } else if (h.Type == KW_PORT_CANCEL) {
        rc = kw_send_msg(pc->fd, KW_PORT_CANCEL_ACK, h.Tag, NULL, 0);
    } else {
        rc = send_hr(pc->fd, KW_PORT_ERROR, h.Tag, E_INVALIDARG);
    }
    free(payload);
    return rc;
}

static void *port_thread(void *arg)
{
    PortConn *pc = arg;
    while (!atomic_load(&pc->dropped)) {
        struct pollfd p[2] = {{pc->fd, POLLIN, 0}, {pc->wakefd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) continue;
        if (p[1].revents) drain(pc->wakefd);
        if (p[0].revents && serve_one(pc) != 0) break;
    }
    stop_waiting(pc);
    pthread_mutex_lock(&K.portMu);
    if (K.port == pc) K.port = NULL;
    pthread_mutex_unlock(&K.portMu);
    kernel_log("port: client disconnected");
    close(pc->fd);
    close(pc->wakefd);
    free(pc->buf);
    free(pc);
    return NULL;
}

void port_accept(int fd)
{
    PortConn *pc = calloc(1, sizeof *pc);
    if (pc) {
        pc->fd = fd;
        pc->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        pc->buf = malloc(KAWIN_MAX_MESSAGE_BYTES);
    }
    pthread_mutex_lock(&K.portMu);
    int busy = K.port != NULL;
    int ok = !busy && pc && pc->wakefd >= 0 && pc->buf;
    if (ok) K.port = pc;
    pthread_mutex_unlock(&K.portMu);
    if (!ok) {
        send_hr(fd, KW_PORT_HELLO, 0, busy ? KAWIN_HRESULT_FROM_WIN32(KAWIN_ERROR_CONNECTION_COUNT_LIMIT) : 0x8007000Eu);
        close(fd);
        if (pc && pc->wakefd >= 0) close(pc->wakefd);
        if (pc) free(pc->buf);
        free(pc);
        return;
    }
    send_hr(fd, KW_PORT_HELLO, 0, 0);
    kernel_log("port: client connected");
    pthread_t th;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &a, port_thread, pc) != 0) port_drop();
    pthread_attr_destroy(&a);
}

void port_drop(void)
{
    pthread_mutex_lock(&K.portMu);
    PortConn *pc = K.port;
    if (pc) {
        atomic_store(&pc->dropped, 1);
        uint64_t one = 1;
        if (write(pc->wakefd, &one, sizeof one) < 0) {}
        K.port = NULL;
    }
    pthread_mutex_unlock(&K.portMu);
}
