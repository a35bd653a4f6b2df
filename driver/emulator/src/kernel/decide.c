/*
 * The decision for one operation, exactly as driver-abi.md "Decision for one operation":
 * candidates by kind, path and fromSource; read-only semantics; Block > Audit > Allow
 * (ties go to the lowest rule id, so a decision is deterministic); no candidate under an
 * active allow-list means the kind's default posture with rule id 0; else pass.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

typedef struct Cand {
    PathRef img;
    int write;
    Rule *best;
} Cand;

static int cand_visit(Rule *r, void *ctx)
{
    Cand *c = ctx;
    if (r->srcMatch != KAWIN_MATCH_NONE && !path_match(r->srcMatch, r->fsrc, r->srcLen, r->srcKey, c->img, K.sep))
        return 0;
    /* read-only: Block/Audit govern writes only; Allow covers reads only */
    if ((r->flags & KAWIN_RULE_READ_ONLY) && (r->action == KAWIN_ACTION_ALLOW) == (c->write != 0)) return 0;
    if (!c->best || r->action > c->best->action || (r->action == c->best->action && r->id < c->best->id))
        c->best = r;
    return 0;
}

static int any_visit(Rule *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 1;
}

static uint8_t posture_of(int kind)
{
    const KAWIN_CONFIG *c = &K.config;
    return kind == KAWIN_KIND_PROCESS ? c->ProcessPosture : kind == KAWIN_KIND_FILE ? c->FilePosture
         : kind == KAWIN_KIND_REGISTRY ? c->RegistryPosture : c->NetworkPosture;
}

/*
 * Normalizes (as the filter manager does before a minifilter sees a name) and folds into
 * buf when it is large enough, else into a malloc'ed copy (*heap).
 */
static PathRef folded(PathRef p, uint16_t *buf, uint32_t cap, uint16_t **heap)
{
    uint16_t *d = buf;
    *heap = NULL;
    if (p.len + 1 > cap) d = *heap = malloc((size_t)p.len * 2 + 4);
    if (!d) return (PathRef){p.s, p.len};
    uint32_t n = path_normalize(d, p.s, p.len, K.sep, K.flavor == KAWIN_FLAVOR_WINDOWS);
    if (K.table.fold) path_fold(d, d, n, 1);
    return (PathRef){d, n};
}

void decide(int kind, PathRef target, PathRef image, uint32_t access, DecideOut *out)
{
    uint16_t tb[512], ib[512], *th, *ih;
    Cand c = {folded(image, ib, 512, &ih), (access & KAWIN_WRITE_ACCESS) != 0, NULL};
    PathRef t = folded(target, tb, 512, &th);
    uint32_t mask = K.config.EventMask;
    memset(out, 0, sizeof *out);
    out->status = KAWIN_STATUS_SUCCESS;
    if (kind > 0 && kind < KIND_SLOTS) index_query(&K.table.target[kind], t, 0, K.sep, cand_visit, &c);
    if (c.best) {
        static const uint8_t byAction[4] = {0, KAWIN_DECISION_ALLOW, KAWIN_DECISION_AUDIT, KAWIN_DECISION_BLOCK};
        out->decision = byAction[c.best->action];
        out->ruleId = c.best->id;
        out->report = c.best->action != KAWIN_ACTION_ALLOW || (mask & KAWIN_REPORT_ALLOW_MATCHES);
    } else if (kind > 0 && kind < KIND_SLOTS &&
               (K.table.globalAllow[kind] || index_query(&K.table.allowSource[kind], c.img, 1, K.sep, any_visit, NULL))) {
        out->decision = posture_of(kind) == KAWIN_POSTURE_BLOCK ? KAWIN_DECISION_POSTURE_BLOCK : KAWIN_DECISION_POSTURE_AUDIT;
        out->report = 1;
    } else {
        out->decision = KAWIN_DECISION_ALLOW;
        out->report = (mask & (kind == KAWIN_KIND_PROCESS ? KAWIN_REPORT_UNMATCHED_PROCESS : KAWIN_REPORT_UNMATCHED_FILE)) != 0;
    }
    if (out->decision == KAWIN_DECISION_BLOCK || out->decision == KAWIN_DECISION_POSTURE_BLOCK)
        out->status = KAWIN_STATUS_ACCESS_DENIED;
    free(th);
    free(ih);
}

static int starts_ci(const uint16_t *s, uint32_t len, const char *p)
{
    uint32_t n = (uint32_t)strlen(p);
    if (len < n) return 0;
    for (uint32_t i = 0; i < n; i++)
        if (path_upcase(s[i]) != path_upcase((uint16_t)(unsigned char)p[i])) return 0;
    return 1;
}

static uint32_t dos_to_nt(uint16_t *w, uint32_t n, uint16_t **out, uint32_t *outLen)
{
    for (uint32_t i = 0; i < n; i++)
        if (w[i] == '/') w[i] = '\\';
    uint32_t skip = starts_ci(w, n, "\\\\?\\") || starts_ci(w, n, "\\??\\") ? 4 : 0;
    w += skip;
    n -= skip;
    if (starts_ci(w, n, "\\Device\\")) {
        *out = malloc((size_t)n * 2 + 2);
        if (!*out) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
        memcpy(*out, w, (size_t)n * 2);
        *outLen = n;
        return 0;
    }
    if (n < 2 || w[1] != ':' || (n > 2 && w[2] != '\\')) return KAWIN_ERROR_INVALID_PARAMETER;
    for (int i = 0; i < K.ndrives; i++) {
        const Drive *d = &K.drives[i];
        if (path_upcase(w[0]) != (uint16_t)d->letter) continue;
        uint32_t len = d->ntLen + n - 2;
        if (len > KAWIN_MAX_PATH_BYTES / 2) return KAWIN_ERROR_INVALID_PARAMETER;
        *out = malloc((size_t)len * 2 + 2);
        if (!*out) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
        memcpy(*out, d->nt, (size_t)d->ntLen * 2);
        memcpy(*out + d->ntLen, w + 2, (size_t)(n - 2) * 2);
        *outLen = len;
        return 0;
    }
    return KAWIN_ERROR_INVALID_PARAMETER; /* no such drive in the map */
}

uint32_t to_nt_path(const char *s, uint32_t len, uint16_t **out, uint32_t *outLen)
{
    *out = NULL;
    *outLen = 0;
    if (len > KAWIN_MAX_PATH_BYTES * 2) return KAWIN_ERROR_INVALID_PARAMETER;
    uint16_t *w = malloc((size_t)len * 2 + 2);
    if (!w) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    long n = kw_utf8_to_utf16(s, len, w, len);
    uint32_t err = 0;
    if (n < 0 || n > KAWIN_MAX_PATH_BYTES / 2) err = KAWIN_ERROR_INVALID_PARAMETER;
    else if (n == 0) { /* unknown image: matches no fromSource */
        *out = w;
        return 0;
    } else if (K.flavor == KAWIN_FLAVOR_WINDOWS) err = dos_to_nt(w, (uint32_t)n, out, outLen);
    else {
        *out = w;
        *outLen = (uint32_t)n;
        return 0;
    }
    free(w);
    return err;
}
