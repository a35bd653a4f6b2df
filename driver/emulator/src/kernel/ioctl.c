/*
 * The six IOCTLs: input validation (anything malformed is ERROR_INVALID_PARAMETER and
 * changes nothing), then the table operation under the table lock.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define HDR sizeof(KAWIN_HEADER)
/* One LIST_RULES page carries at most this many bytes (the wire's frame limit); a larger
 * output buffer just gets a page of this size with KAWIN_LIST_MORE. */
#define KAWIN_EMU_MAX_IOCTL_OUTPUT (64u << 20)

uint32_t fault_take(uint32_t code)
{
    uint32_t err = 0;
    pthread_mutex_lock(&K.faultMu);
    for (int i = 0; i < KAWIN_EMU_MAX_FAULTS && !err; i++) {
        Fault *f = &K.faults[i];
        if (f->remaining && (f->code == 0 || f->code == code)) {
            f->remaining--;
            err = f->error;
        }
    }
    pthread_mutex_unlock(&K.faultMu);
    return err;
}

static int header_ok(const uint8_t *in, uint32_t inLen, KAWIN_HEADER *h)
{
    if (inLen < HDR) return 0;
    memcpy(h, in, HDR);
    return h->Version == KAWIN_ABI_VERSION && h->Size == HDR && h->Flags == 0 && h->TotalSize == inLen;
}

static int path_ok(const uint16_t *p, uint32_t len, int match)
{
    for (uint32_t i = 0; i < len; i++)
        if (p[i] == 0) return 0;
    return match == KAWIN_MATCH_GLOB || (len > 0 && p[0] == K.sep);
}

static int record_ok(const KAWIN_RULE *r)
{
    return r->Kind >= KAWIN_KIND_PROCESS && r->Kind <= KAWIN_KIND_NETWORK && r->MatchType >= KAWIN_MATCH_EXACT &&
           r->MatchType <= KAWIN_MATCH_GLOB && r->Action >= KAWIN_ACTION_ALLOW && r->Action <= KAWIN_ACTION_BLOCK &&
           r->SourceMatchType <= KAWIN_MATCH_GLOB && r->Id != 0 && (r->Flags & ~KAWIN_RULE_READ_ONLY) == 0 &&
           r->PathBytes > 0 && r->PathBytes % 2 == 0 && r->SourcePathBytes % 2 == 0 &&
           (r->SourceMatchType == KAWIN_MATCH_NONE) == (r->SourcePathBytes == 0) &&
           r->Size % 8 == 0 && r->Size >= sizeof *r + (uint32_t)r->PathBytes + r->SourcePathBytes;
}

static void free_n(Rule **v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Parses count rule records from in[*off..inLen). 0 or KAWIN_ERROR_*. */
static uint32_t parse_rules(const uint8_t *in, uint32_t inLen, uint32_t *off, uint32_t count, Rule ***out)
{
    *out = NULL;
    if (count > (inLen - *off) / sizeof(KAWIN_RULE)) return KAWIN_ERROR_INVALID_PARAMETER;
    Rule **v = malloc(sizeof *v * (count ? count : 1));
    if (!v) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    for (uint32_t i = 0; i < count; i++) {
        KAWIN_RULE rec;
        if (inLen - *off < sizeof rec) { free_n(v, i); return KAWIN_ERROR_INVALID_PARAMETER; }
        memcpy(&rec, in + *off, sizeof rec);
        const uint16_t *path = (const uint16_t *)(in + *off + sizeof rec), *src = path + rec.PathBytes / 2;
        if (!record_ok(&rec) || rec.Size > inLen - *off || !path_ok(path, rec.PathBytes / 2u, rec.MatchType) ||
            (rec.SourceMatchType && !path_ok(src, rec.SourcePathBytes / 2u, rec.SourceMatchType))) {
            free_n(v, i);
            return KAWIN_ERROR_INVALID_PARAMETER;
        }
        v[i] = rule_new(&rec, path, src, &K.table);
        if (!v[i]) { free_n(v, i); return KAWIN_ERROR_NOT_ENOUGH_QUOTA; }
        *off += rec.Size;
    }
    *out = v;
    return 0;
}

static uint32_t result_out(uint32_t err, const KAWIN_APPLY_RESULT *res, uint32_t outCap, uint8_t **out, uint32_t *outLen)
{
    if (err || outCap < sizeof *res) return err;
    *out = malloc(sizeof *res);
    if (!*out) return 0;
    memcpy(*out, res, sizeof *res);
    *outLen = sizeof *res;
    return 0;
}

/* Shared by ADD, REMOVE and APPLY once the input is split into its parts. */
static uint32_t write_table(const uint8_t *in, uint32_t inLen, uint32_t off, uint32_t nrem, uint32_t nadd,
                            const uint64_t *expected, uint32_t outCap, uint8_t **out, uint32_t *outLen)
{
    if ((uint64_t)nrem * 8 > inLen - off) return KAWIN_ERROR_INVALID_PARAMETER;
    uint64_t *rem = malloc(sizeof *rem * (nrem ? nrem : 1));
    if (!rem) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    memcpy(rem, in + off, (size_t)nrem * 8);
    off += nrem * 8;
    Rule **adds;
    uint32_t err = parse_rules(in, inLen, &off, nadd, &adds);
    if (!err && off != inLen) {
        free_n(adds, nadd);
        err = KAWIN_ERROR_INVALID_PARAMETER; /* bytes after the last record */
    }
    KAWIN_APPLY_RESULT res;
    if (!err) {
        pthread_rwlock_wrlock(&K.lock);
        err = table_apply(&K.table, rem, nrem, adds, nadd, expected, &res);
        pthread_rwlock_unlock(&K.lock);
        free(adds);
    }
    free(rem);
    return result_out(err, &res, outCap, out, outLen);
}

static uint32_t do_add(const uint8_t *in, uint32_t inLen, uint32_t outCap, uint8_t **out, uint32_t *outLen)
{
    KAWIN_HEADER h;
    if (!header_ok(in, inLen, &h)) return KAWIN_ERROR_INVALID_PARAMETER;
    return write_table(in, inLen, HDR, 0, h.Count, NULL, outCap, out, outLen);
}

static uint32_t do_remove(const uint8_t *in, uint32_t inLen, uint32_t outCap, uint8_t **out, uint32_t *outLen)
{
    KAWIN_HEADER h;
    if (!header_ok(in, inLen, &h) || (uint64_t)h.Count * 8 != inLen - HDR) return KAWIN_ERROR_INVALID_PARAMETER;
    return write_table(in, inLen, HDR, h.Count, 0, NULL, outCap, out, outLen);
}

static uint32_t do_apply(const uint8_t *in, uint32_t inLen, uint32_t outCap, uint8_t **out, uint32_t *outLen)
{
    KAWIN_APPLY_REQUEST a;
    if (!header_ok(in, inLen, &a.Header) || inLen < sizeof a) return KAWIN_ERROR_INVALID_PARAMETER;
    memcpy(&a, in, sizeof a);
    if ((uint64_t)a.RemoveCount + a.AddCount != a.Header.Count) return KAWIN_ERROR_INVALID_PARAMETER;
    return write_table(in, inLen, sizeof a, a.RemoveCount, a.AddCount, &a.ExpectedGeneration, outCap, out, outLen);
}

static uint32_t do_list(const uint8_t *in, uint32_t inLen, uint32_t outCap, uint8_t **out, uint32_t *outLen)
{
    KAWIN_LIST_REQUEST req;
    if (!header_ok(in, inLen, &req.Header) || inLen != sizeof req || req.Header.Count != 0) return KAWIN_ERROR_INVALID_PARAMETER;
    memcpy(&req, in, sizeof req);
    if (outCap < sizeof(KAWIN_LIST_RESPONSE)) return KAWIN_ERROR_INSUFFICIENT_BUFFER;
    pthread_rwlock_rdlock(&K.lock);
    const Table *t = &K.table;
    if (outCap > KAWIN_EMU_MAX_IOCTL_OUTPUT) outCap = KAWIN_EMU_MAX_IOCTL_OUTPUT;
    uint32_t first = table_after(t, req.Cursor), i = first;
    uint64_t bytes = sizeof(KAWIN_LIST_RESPONSE);
    while (i < t->n && bytes + rule_record_size(t->sorted[i]) <= outCap) bytes += rule_record_size(t->sorted[i++]);
    KAWIN_LIST_RESPONSE resp = {{KAWIN_ABI_VERSION, HDR, i < t->n ? KAWIN_LIST_MORE : 0, i - first, (uint32_t)bytes},
                                t->generation, i > first ? t->sorted[i - 1]->id : req.Cursor, t->n,
                                i < t->n ? (uint32_t)sizeof resp + rule_record_size(t->sorted[i]) : 0};
    uint8_t *buf = malloc(bytes);
    if (buf) {
        memcpy(buf, &resp, sizeof resp);
        uint8_t *p = buf + sizeof resp;
        for (uint32_t k = first; k < i; k++) {
            rule_write_record(t->sorted[k], p);
            p += rule_record_size(t->sorted[k]);
        }
    }
    uint32_t rc = (i == first && i < t->n) ? KAWIN_ERROR_MORE_DATA : 0;
    pthread_rwlock_unlock(&K.lock);
    if (!buf) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    *out = buf;
    *outLen = (uint32_t)bytes;
    return rc;
}

static uint32_t do_get_state(const uint8_t *in, uint32_t inLen, uint32_t outCap, uint8_t **out, uint32_t *outLen)
{
    KAWIN_HEADER h;
    if (inLen != 0 && (!header_ok(in, inLen, &h) || inLen != HDR || h.Count != 0)) return KAWIN_ERROR_INVALID_PARAMETER;
    if (outCap < sizeof(KAWIN_STATE)) return KAWIN_ERROR_INSUFFICIENT_BUFFER;
    KAWIN_STATE s = {.Version = KAWIN_ABI_VERSION, .Size = sizeof s, .Flavor = (uint32_t)K.flavor};
    pthread_rwlock_rdlock(&K.lock);
    s.Generation = K.table.generation;
    s.RuleCount = K.table.n;
    s.Config = K.config;
    pthread_rwlock_unlock(&K.lock);
    pthread_mutex_lock(&K.ring.mu);
    s.EventsEmitted = K.ring.emitted;
    s.EventsDropped = K.ring.dropped;
    s.RingCapacity = K.ring.cap;
    s.RingUsed = K.ring.count;
    pthread_mutex_unlock(&K.ring.mu);
    pthread_mutex_lock(&K.portMu);
    s.PortConnected = K.port != NULL;
    pthread_mutex_unlock(&K.portMu);
    *out = malloc(sizeof s);
    if (!*out) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    memcpy(*out, &s, sizeof s);
    *outLen = sizeof s;
    return 0;
}

static int posture_ok(uint8_t p) { return p == KAWIN_POSTURE_AUDIT || p == KAWIN_POSTURE_BLOCK; }

static uint32_t do_set_config(const uint8_t *in, uint32_t inLen)
{
    KAWIN_SET_CONFIG_REQUEST req;
    if (!header_ok(in, inLen, &req.Header) || inLen != sizeof req || req.Header.Count != 1) return KAWIN_ERROR_INVALID_PARAMETER;
    memcpy(&req, in, sizeof req);
    KAWIN_CONFIG c = req.Config;
    if ((c.Flags & ~KAWIN_CONFIG_CASE_FOLD) || (c.EventMask & ~0xFu) || c.Reserved || !posture_ok(c.ProcessPosture) ||
        !posture_ok(c.FilePosture) || !posture_ok(c.NetworkPosture) || !posture_ok(c.RegistryPosture))
        return KAWIN_ERROR_INVALID_PARAMETER;
    if (K.flavor == KAWIN_FLAVOR_WINDOWS) c.Flags |= KAWIN_CONFIG_CASE_FOLD; /* always on, like NTFS lookups */
    pthread_rwlock_wrlock(&K.lock);
    K.config = c;
    table_set_fold(&K.table, (c.Flags & KAWIN_CONFIG_CASE_FOLD) != 0);
    pthread_rwlock_unlock(&K.lock);
    return 0;
}

uint32_t ioctl_dispatch(uint32_t code, const uint8_t *in, uint32_t inLen, uint32_t outCap, uint8_t **out, uint32_t *outLen)
{
    *out = NULL;
    *outLen = 0;
    uint32_t err = fault_take(code);
    if (err) return err;
    if (inLen > KAWIN_MAX_IOCTL_INPUT) return KAWIN_ERROR_INVALID_PARAMETER;
    switch (code) {
    case IOCTL_KAWIN_ADD_RULES: return do_add(in, inLen, outCap, out, outLen);
    case IOCTL_KAWIN_REMOVE_RULES: return do_remove(in, inLen, outCap, out, outLen);
    case IOCTL_KAWIN_LIST_RULES: return do_list(in, inLen, outCap, out, outLen);
    case IOCTL_KAWIN_GET_STATE: return do_get_state(in, inLen, outCap, out, outLen);
    case IOCTL_KAWIN_SET_CONFIG: return do_set_config(in, inLen);
    case IOCTL_KAWIN_APPLY: return do_apply(in, inLen, outCap, out, outLen);
    default: return KAWIN_ERROR_INVALID_FUNCTION;
    }
}
