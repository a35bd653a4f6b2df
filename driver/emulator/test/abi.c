/* Test helpers that speak the driver ABI through the shim exports, as the agent does. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

uint32_t ioctl_call(HANDLE h, uint32_t code, const void *in, uint32_t inLen, void *out, uint32_t outLen, uint32_t *bytes)
{
    uint32_t b = 0;
    int ok = DeviceIoControl(h, code, (void *)in, inLen, out, outLen, &b, NULL);
    if (bytes) *bytes = b;
    return ok ? 0 : GetLastError();
}

static void put_string(KW_WRITER *w, const char *s, uint16_t *bytes)
{
    uint16_t buf[4096];
    long n = s ? kw_utf8_to_utf16(s, strlen(s), buf, 4096) : 0;
    *bytes = (uint16_t)(n * 2);
    kw_wr_bytes(w, buf, (size_t)n * 2);
}

void put_rule(KW_WRITER *w, const RuleSpec *r)
{
    size_t start = w->len;
    KAWIN_RULE rec = {0, r->kind, r->match, r->action, r->srcMatch, r->id, r->flags, 0, 0};
    kw_wr_bytes(w, &rec, sizeof rec);
    uint16_t pb, sb;
    put_string(w, r->path, &pb);
    put_string(w, r->src, &sb);
    static const uint8_t zero[8];
    kw_wr_bytes(w, zero, (8 - (w->len - start) % 8) % 8);
    rec.Size = (uint32_t)(w->len - start);
    rec.PathBytes = pb;
    rec.SourcePathBytes = sb;
    memcpy(w->buf + start, &rec, sizeof rec);
}

void begin_header(KW_WRITER *w, uint32_t count)
{
    KAWIN_HEADER h = {KAWIN_ABI_VERSION, sizeof h, 0, count, 0};
    kw_wr_bytes(w, &h, sizeof h);
}

void finish_header(KW_WRITER *w)
{
    uint32_t total = (uint32_t)w->len;
    memcpy(w->buf + offsetof(KAWIN_HEADER, TotalSize), &total, 4);
}

static uint32_t send_write(HANDLE h, uint32_t code, KW_WRITER *w, KAWIN_APPLY_RESULT *res)
{
    finish_header(w);
    KAWIN_APPLY_RESULT r;
    memset(&r, 0, sizeof r);
    uint32_t err = ioctl_call(h, code, w->buf, (uint32_t)w->len, &r, sizeof r, NULL);
    free(w->buf);
    if (res) *res = r;
    return err;
}

uint32_t add_rules(HANDLE h, const RuleSpec *rules, uint32_t n, KAWIN_APPLY_RESULT *res)
{
    KW_WRITER w = {NULL, 0, 0, 1};
    begin_header(&w, n);
    for (uint32_t i = 0; i < n; i++) put_rule(&w, &rules[i]);
    return send_write(h, IOCTL_KAWIN_ADD_RULES, &w, res);
}

uint32_t remove_rules(HANDLE h, const uint64_t *ids, uint32_t n, KAWIN_APPLY_RESULT *res)
{
    KW_WRITER w = {NULL, 0, 0, 1};
    begin_header(&w, n);
    kw_wr_bytes(&w, ids, (size_t)n * 8);
    return send_write(h, IOCTL_KAWIN_REMOVE_RULES, &w, res);
}

uint32_t apply_rules(HANDLE h, uint64_t expected, const uint64_t *rem, uint32_t nrem, const RuleSpec *adds, uint32_t nadd,
                     KAWIN_APPLY_RESULT *res)
{
    KW_WRITER w = {NULL, 0, 0, 1};
    KAWIN_APPLY_REQUEST a = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, nrem + nadd, 0}, expected, nrem, nadd};
    kw_wr_bytes(&w, &a, sizeof a);
    kw_wr_bytes(&w, rem, (size_t)nrem * 8);
    for (uint32_t i = 0; i < nadd; i++) put_rule(&w, &adds[i]);
    return send_write(h, IOCTL_KAWIN_APPLY, &w, res);
}

KAWIN_STATE get_state(HANDLE h)
{
    KAWIN_STATE s;
    memset(&s, 0, sizeof s);
    uint32_t err = ioctl_call(h, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s, NULL);
    CHECK_EQ(err, 0);
    return s;
}

uint32_t set_config(HANDLE h, uint32_t flags, uint32_t mask, uint8_t processPosture, uint8_t filePosture)
{
    KAWIN_SET_CONFIG_REQUEST r = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, 1, sizeof r},
                                  {flags, mask, processPosture, filePosture, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT, 0}};
    return ioctl_call(h, IOCTL_KAWIN_SET_CONFIG, &r, sizeof r, NULL, 0, NULL);
}

long list_all(HANDLE h, uint64_t *ids, uint32_t cap, uint32_t bufSize, uint64_t *generation)
{
    uint8_t *buf = malloc(bufSize);
    uint64_t cursor = 0;
    long n = 0;
    for (;;) {
        KAWIN_LIST_REQUEST req = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, 0, sizeof req}, cursor};
        uint32_t bytes;
        uint32_t err = ioctl_call(h, IOCTL_KAWIN_LIST_RULES, &req, sizeof req, buf, bufSize, &bytes);
        if (err) { n = -1; break; }
        KAWIN_LIST_RESPONSE resp;
        memcpy(&resp, buf, sizeof resp);
        if (generation) *generation = resp.Generation;
        uint32_t off = sizeof resp;
        for (uint32_t i = 0; i < resp.Header.Count; i++) {
            KAWIN_RULE r;
            memcpy(&r, buf + off, sizeof r);
            if ((uint32_t)n < cap) ids[n] = r.Id;
            n++;
            off += r.Size;
        }
        if (!(resp.Header.Flags & KAWIN_LIST_MORE)) break;
        cursor = resp.NextCursor;
    }
    free(buf);
    return n;
}

HRESULT read_batch(HANDLE port, Batch *out, uint32_t size)
{
    out->hr = FilterGetMessage(port, out->msg, size, NULL);
    out->count = 0;
    if (out->hr == 0) {
        memcpy(&out->b, out->msg + sizeof(KAWIN_FILTER_MESSAGE_HEADER), sizeof out->b);
        out->count = out->b.RecordCount;
    }
    return out->hr;
}

static void utf8_of(const uint8_t *p, uint32_t bytes, char *out)
{
    uint16_t w[4096];
    uint32_t n = bytes / 2 < 4096 ? bytes / 2 : 4095;
    memcpy(w, p, (size_t)n * 2);
    long k = kw_utf16_to_utf8(w, n, out, 4 * 4096);
    out[k < 0 ? 0 : k] = 0;
}

const KAWIN_EVENT *batch_record(const Batch *b, uint32_t i, char *target, char *image, char *cmd, char *sid)
{
    if (i >= b->count) return NULL;
    uint32_t off = sizeof(KAWIN_FILTER_MESSAGE_HEADER) + sizeof(KAWIN_EVENT_BATCH);
    for (uint32_t k = 0; k < i; k++) {
        uint32_t size;
        memcpy(&size, b->msg + off, 4);
        off += size;
    }
    static __thread KAWIN_EVENT ev;
    memcpy(&ev, b->msg + off, sizeof ev);
    const uint8_t *p = b->msg + off + sizeof ev;
    if (target) utf8_of(p, ev.TargetPathBytes, target);
    p += ev.TargetPathBytes;
    if (image) utf8_of(p, ev.ImagePathBytes, image);
    p += ev.ImagePathBytes + ev.ParentImagePathBytes;
    if (cmd) utf8_of(p, ev.CommandLineBytes, cmd);
    p += ev.CommandLineBytes;
    if (sid) utf8_of(p, ev.UserSidBytes, sid);
    return &ev;
}

void batch_process(const Batch *b, uint32_t i, char *parentImage, char *cwd)
{
    const KAWIN_EVENT *e = batch_record(b, i, NULL, NULL, NULL, NULL);
    if (!e) return;
    uint32_t off = sizeof(KAWIN_FILTER_MESSAGE_HEADER) + sizeof(KAWIN_EVENT_BATCH);
    for (uint32_t k = 0; k < i; k++) {
        uint32_t size;
        memcpy(&size, b->msg + off, 4);
        off += size;
    }
    const uint8_t *p = b->msg + off + sizeof *e + e->TargetPathBytes + e->ImagePathBytes;
    utf8_of(p, e->ParentImagePathBytes, parentImage);
    p += e->ParentImagePathBytes + e->CommandLineBytes + e->UserSidBytes;
    utf8_of(p, e->CurrentDirectoryBytes, cwd);
}
