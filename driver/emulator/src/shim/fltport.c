/*
 * fltlib exports of the shim: the filter communication port. FilterGetMessage blocks
 * until the kernel has a batch; CancelIoEx or CloseHandle from another thread release
 * it with HRESULT_FROM_WIN32(ERROR_OPERATION_ABORTED); a dropped port, a reload or a
 * kernel exit with HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

#define HR_ABORTED HR(KAWIN_ERROR_OPERATION_ABORTED)
#define HR_INVALID_HANDLE HR(KAWIN_ERROR_INVALID_HANDLE)
#define HELLO_TIMEOUT_MS 5000 /* a live kernel greets at once */

KW_EXPORT HRESULT FilterConnectCommunicationPort(const WCHAR *portName, DWORD options, const void *context,
                                                 WORD sizeOfContext, void *securityAttributes, HANDLE *port)
{
    (void)securityAttributes;
    if (!port || (options & ~1u) || (sizeOfContext && !context)) return E_INVALIDARG;
    *port = INVALID_HANDLE_VALUE;
    char *path = shim_name_to_path(portName);
    if (!path) return E_INVALIDARG;
    uint32_t err;
    int fd = shim_connect(path, &err);
    free(path);
    if (fd < 0) return HR(err);
    KW_MSG h;
    uint8_t *payload;
    HRESULT hr = HR(KAWIN_ERROR_FILE_NOT_FOUND); /* a socket that closes or stays silent: no kernel behind it */
    struct pollfd p = {fd, POLLIN, 0};
    payload = NULL;
    if (poll(&p, 1, HELLO_TIMEOUT_MS) == 1 && kw_recv_msg(fd, &h, &payload, 64) == 0 && h.Type == KW_PORT_HELLO &&
        h.Length == 4)
        memcpy(&hr, payload, 4);
    free(payload);
    Handle *hd = hr == S_OK ? handle_new(H_PORT, fd) : NULL;
    if (!hd) {
        close(fd);
        return hr == S_OK ? HR(KAWIN_ERROR_NOT_ENOUGH_QUOTA) : hr;
    }
    *port = (HANDLE)hd->value;
    return S_OK;
}

/* Delivers a received port message (or keeps it for the next read if it does not fit). */
static HRESULT deliver(Handle *h, uint8_t *payload, uint32_t len, void *msg, DWORD size)
{
    if (len > size) {
        free(h->stash);
        h->stash = payload;
        h->stashLen = len;
        return HR(KAWIN_ERROR_INSUFFICIENT_BUFFER);
    }
    memcpy(msg, payload, len);
    free(payload);
    return S_OK;
}

/* Reads one kernel answer to the pending GET. */
static HRESULT read_answer(Handle *h, void *msg, DWORD size, int *acked)
{
    KW_MSG m;
    uint8_t *payload;
    if (kw_recv_msg(h->fd, &m, &payload, KAWIN_MAX_MESSAGE_BYTES) != 0) {
        h->dead = 1;
        return HR_INVALID_HANDLE;
    }
    if (m.Type == KW_PORT_MESSAGE) return deliver(h, payload, m.Length, msg, size);
    HRESULT hr = HR_INVALID_HANDLE;
    if (m.Type == KW_PORT_ERROR && m.Length == 4) memcpy(&hr, payload, 4);
    else if (m.Type == KW_PORT_CANCEL_ACK) *acked = 1;
    free(payload);
    if (hr == HR_INVALID_HANDLE && !*acked) h->dead = 1;
    return hr;
}

/* CancelIoEx: ask the kernel to cancel; it answers the GET (a batch if one was already
 * on its way, else "aborted"), then acknowledges the cancel. */
static HRESULT cancel_get(Handle *h, void *msg, DWORD size)
{
    if (kw_send_msg(h->fd, KW_PORT_CANCEL, 0, NULL, 0) != 0) {
        h->dead = 1;
        return HR_ABORTED;
    }
    HRESULT result = HR_ABORTED;
    int acked = 0;
    while (!acked && !h->dead) {
        HRESULT hr = read_answer(h, msg, size, &acked);
        if (!acked) result = hr;
    }
    return h->dead ? HR_ABORTED : result;
}

static HRESULT wait_answer(Handle *h, void *msg, DWORD size)
{
    for (;;) {
        struct pollfd p[2] = {{h->fd, POLLIN, 0}, {h->cancel[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0) continue;
        if (p[1].revents) {
            char buf[16];
            while (read(h->cancel[0], buf, sizeof buf) > 0) {}
            pthread_mutex_lock(&h->state);
            int closed = h->closed;
            pthread_mutex_unlock(&h->state);
            if (closed) return HR_ABORTED; /* the connection closes with the last reference */
            return cancel_get(h, msg, size);
        }
        if (p[0].revents) {
            int acked = 0;
            HRESULT hr = read_answer(h, msg, size, &acked);
            if (!acked) return hr;
        }
    }
}

KW_EXPORT HRESULT FilterGetMessage(HANDLE port, void *msg, DWORD size, void *overlapped)
{
    if (overlapped || !msg) return E_INVALIDARG;
    Handle *h = handle_get(port, H_PORT);
    if (!h) return HR_INVALID_HANDLE;
    pthread_mutex_lock(&h->call);
    HRESULT hr;
    pthread_mutex_lock(&h->state);
    int closed = h->closed;
    if (!closed) {
        char buf[16];
        while (read(h->cancel[0], buf, sizeof buf) > 0) {} /* a cancel before this call does not count */
        h->getPending = 1;
    }
    pthread_mutex_unlock(&h->state);
    if (closed) hr = HR_ABORTED;
    else if (h->dead) hr = HR_INVALID_HANDLE;
    else if (h->stash) {
        uint8_t *s = h->stash;
        h->stash = NULL;
        hr = deliver(h, s, h->stashLen, msg, size);
    } else if (kw_send_msg(h->fd, KW_PORT_GET, ++h->tag, &size, sizeof size) != 0) {
        h->dead = 1;
        hr = HR_INVALID_HANDLE;
    } else hr = wait_answer(h, msg, size);
    pthread_mutex_lock(&h->state);
    h->getPending = 0;
    pthread_mutex_unlock(&h->state);
    pthread_mutex_unlock(&h->call);
    handle_put(h);
    return hr;
}

KW_EXPORT HRESULT FilterReplyMessage(HANDLE port, void *reply, DWORD size)
{
    Handle *h = handle_get(port, H_PORT);
    if (!h) return HR_INVALID_HANDLE;
    handle_put(h);
    if (!reply || size < sizeof(KAWIN_FILTER_REPLY_HEADER)) return E_INVALIDARG;
    return S_OK; /* telemetry needs no reply: nothing waits for one */
}
