/* Framing, payload readers/writers and UTF conversions shared by the shim and the kernel. */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int kw_send_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int kw_recv_all(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int kw_send_msg2(int fd, uint16_t type, uint32_t tag, const void *a, uint32_t alen, const void *b, uint32_t blen)
{
    KW_MSG h = {KW_MAGIC, type, 0, alen + blen, tag};
    struct iovec iov[3] = {{&h, sizeof h}, {(void *)a, alen}, {(void *)b, blen}};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = 3;
    size_t total = sizeof h + alen + blen;
    /* one sendmsg in the common case; finish with plain sends if it was partial */
    ssize_t n;
    do n = sendmsg(fd, &m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    size_t done = (size_t)n;
    if (done == total) return 0;
    for (int i = 0; i < 3; i++) {
        if (done >= iov[i].iov_len) {
            done -= iov[i].iov_len;
            continue;
        }
        if (kw_send_all(fd, (uint8_t *)iov[i].iov_base + done, iov[i].iov_len - done) != 0) return -1;
        done = 0;
    }
    return 0;
}

int kw_send_msg(int fd, uint16_t type, uint32_t tag, const void *payload, uint32_t len)
{
    return kw_send_msg2(fd, type, tag, payload, len, NULL, 0);
}

int kw_recv_msg(int fd, KW_MSG *hdr, uint8_t **payload, uint32_t maxLen)
{
    *payload = NULL;
    if (kw_recv_all(fd, hdr, sizeof *hdr) != 0) return -1;
    if (hdr->Magic != KW_MAGIC || hdr->Length > maxLen) return -2;
    if (hdr->Length == 0) return 0;
    uint8_t *p = malloc(hdr->Length);
    if (!p) return -1;
    if (kw_recv_all(fd, p, hdr->Length) != 0) {
        free(p);
        return -1;
    }
    *payload = p;
    return 0;
}

void kw_reader_init(KW_READER *r, const void *p, size_t len)
{
    r->p = p;
    r->end = r->p + len;
    r->ok = p != NULL || len == 0;
}

static const uint8_t *take(KW_READER *r, size_t n)
{
    if (!r->ok || (size_t)(r->end - r->p) < n) {
        r->ok = 0;
        return NULL;
    }
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

uint32_t kw_rd_u32(KW_READER *r)
{
    uint32_t v = 0;
    const uint8_t *p = take(r, 4);
    if (p) memcpy(&v, p, 4);
    return v;
}

uint64_t kw_rd_u64(KW_READER *r)
{
    uint64_t v = 0;
    const uint8_t *p = take(r, 8);
    if (p) memcpy(&v, p, 8);
    return v;
}

const char *kw_rd_str(KW_READER *r, uint32_t *len)
{
    *len = kw_rd_u32(r);
    const uint8_t *p = take(r, *len);
    if (!p) *len = 0;
    return (const char *)p;
}

void kw_wr_bytes(KW_WRITER *w, const void *p, size_t len)
{
    if (w->len + len > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        while (cap < w->len + len) cap *= 2;
        uint8_t *b = realloc(w->buf, cap);
        if (!b) {
            w->ok = 0;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    if (len) memcpy(w->buf + w->len, p, len);
    w->len += len;
}

void kw_wr_u32(KW_WRITER *w, uint32_t v) { kw_wr_bytes(w, &v, 4); }
void kw_wr_u64(KW_WRITER *w, uint64_t v) { kw_wr_bytes(w, &v, 8); }

void kw_wr_str(KW_WRITER *w, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : 0;
    kw_wr_u32(w, n);
    kw_wr_bytes(w, s, n);
}

long kw_utf8_to_utf16(const char *s, size_t len, uint16_t *out, size_t outCap)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    size_t n = 0;
    while (p < end) {
        uint32_t c = *p++;
        int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0 || end - p < extra) return -1;
        if (extra) c &= 0x3Fu >> extra;
        for (int i = 0; i < extra; i++) {
            if ((*p & 0xC0) != 0x80) return -1;
            c = (c << 6) | (*p++ & 0x3F);
        }
        static const uint32_t minOf[4] = {0, 0x80, 0x800, 0x10000};
        if (c < minOf[extra] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return -1;
        if (c >= 0x10000) {
            if (n + 2 > outCap) return -1;
            c -= 0x10000;
            out[n++] = (uint16_t)(0xD800 | (c >> 10));
            out[n++] = (uint16_t)(0xDC00 | (c & 0x3FF));
        } else {
            if (n + 1 > outCap) return -1;
            out[n++] = (uint16_t)c;
        }
    }
    return (long)n;
}

long kw_utf16_to_utf8(const uint16_t *s, size_t len, char *out, size_t outCap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t c = s[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < len && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
            i++;
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            return -1;
        }
        uint8_t b[4];
        int k = 0;
        if (c < 0x80) b[k++] = (uint8_t)c;
        else if (c < 0x800) { b[k++] = (uint8_t)(0xC0 | (c >> 6)); b[k++] = (uint8_t)(0x80 | (c & 0x3F)); }
        else if (c < 0x10000) {
            b[k++] = (uint8_t)(0xE0 | (c >> 12));
            b[k++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            b[k++] = (uint8_t)(0x80 | (c & 0x3F));
        } else {
            b[k++] = (uint8_t)(0xF0 | (c >> 18));
            b[k++] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
            b[k++] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            b[k++] = (uint8_t)(0x80 | (c & 0x3F));
        }
        if (n + (size_t)k > outCap) return -1;
        memcpy(out + n, b, (size_t)k);
        n += (size_t)k;
    }
    return (long)n;
}

size_t kw_wcslen(const uint16_t *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
