/* The rule table and its matching indexes (see table.h). Callers hold the table lock. */
#include "table.h"

#include <stdlib.h>
#include <string.h>

/* ---- open-addressing map: folded key -> vector of rules ---- */

/* FNV's low bits cluster on similar paths: mix before taking a slot. */
static uint32_t home_of(uint64_t h, uint32_t mask)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)h & mask;
}

static PMapEnt *pmap_get(const PMap *m, const uint16_t *key, uint32_t len, uint64_t h)
{
    if (m->cap == 0) return NULL;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = home_of(h, mask); m->e[i].key; i = (i + 1) & mask) {
        PMapEnt *e = &m->e[i];
        if (e->hash == h && e->len == len && memcmp(e->key, key, (size_t)len * 2) == 0) return e;
    }
    return NULL;
}

static uint32_t pmap_slot(const PMap *m, const uint16_t *key, uint32_t len, uint64_t h)
{
    uint32_t mask = m->cap - 1, i = home_of(h, mask);
    while (m->e[i].key && !(m->e[i].hash == h && m->e[i].len == len && memcmp(m->e[i].key, key, (size_t)len * 2) == 0))
        i = (i + 1) & mask;
    return i;
}

static int pmap_grow(PMap *m, uint32_t want)
{
    uint32_t cap = m->cap ? m->cap * 2 : 16;
    while ((uint64_t)want * 2 > cap) cap *= 2;
    PMapEnt *e = calloc(cap, sizeof *e);
    if (!e) return -1;
    PMap n = {e, cap, m->used};
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->e[i].key) n.e[pmap_slot(&n, m->e[i].key, m->e[i].len, m->e[i].hash)] = m->e[i];
    free(m->e);
    *m = n;
    return 0;
}

static int pmap_add(PMap *m, const uint16_t *key, uint32_t len, Rule *r, int slot)
{
    if ((m->used + 1) * 2 > m->cap && pmap_grow(m, m->used + 1) != 0) return -1;
    uint64_t h = path_hash(key, len);
    PMapEnt *e = &m->e[pmap_slot(m, key, len, h)];
    if (!e->key) {
        uint16_t *k = malloc((size_t)len * 2 + 2);
        if (!k) return -1;
        memcpy(k, key, (size_t)len * 2);
        *e = (PMapEnt){h, k, len, {NULL, 0, 0}};
        m->used++;
    }
    RuleVec *v = &e->vec;
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 2;
        Rule **nv = realloc(v->v, sizeof *nv * cap);
        if (!nv) return -1;
        v->v = nv;
        v->cap = cap;
    }
    r->pos[slot] = v->n;
    v->v[v->n++] = r;
    return 0;
}

static void pmap_delete_slot(PMap *m, uint32_t i)
{
    uint32_t mask = m->cap - 1;
    free(m->e[i].key);
    free(m->e[i].vec.v);
    /* backward-shift deletion keeps probe chains intact without tombstones */
    for (uint32_t j = (i + 1) & mask; m->e[j].key; j = (j + 1) & mask) {
        uint32_t home = home_of(m->e[j].hash, mask);
        int between = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (between) continue;
        m->e[i] = m->e[j];
        i = j;
    }
    memset(&m->e[i], 0, sizeof m->e[i]);
    m->used--;
}

static void pmap_remove(PMap *m, const uint16_t *key, uint32_t len, Rule *r, int slot)
{
    PMapEnt *e = pmap_get(m, key, len, path_hash(key, len));
    if (!e) return;
    RuleVec *v = &e->vec;
    uint32_t p = r->pos[slot];
    if (p >= v->n || v->v[p] != r) return;
    v->v[p] = v->v[--v->n];
    v->v[p]->pos[slot] = p;
    if (v->n == 0) pmap_delete_slot(m, (uint32_t)(e - m->e));
}

static void pmap_free(PMap *m)
{
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->e[i].key) {
            free(m->e[i].key);
            free(m->e[i].vec.v);
        }
    free(m->e);
    memset(m, 0, sizeof *m);
}

static PMap *pick(PathIndex *ix, int match)
{
    return match == KAWIN_MATCH_EXACT ? &ix->exact : match == KAWIN_MATCH_GLOB ? &ix->glob : &ix->dir;
}

/* Grows the maps a batch of additions will land in once, instead of doubling repeatedly. */
static void reserve_for(Table *t, Rule **adds, uint32_t n)
{
    uint32_t count[KIND_SLOTS][3] = {{0}};
    for (uint32_t i = 0; i < n; i++)
        count[adds[i]->kind][adds[i]->match == KAWIN_MATCH_EXACT ? 0 : adds[i]->match == KAWIN_MATCH_GLOB ? 2 : 1]++;
    for (int k = 0; k < KIND_SLOTS; k++) {
        PMap *m[3] = {&t->target[k].exact, &t->target[k].dir, &t->target[k].glob};
        for (int j = 0; j < 3; j++)
            if (count[k][j] > 64 && (uint64_t)(m[j]->used + count[k][j]) * 2 > m[j]->cap) pmap_grow(m[j], m[j]->used + count[k][j]);
    }
}

/* ---- indexes ---- */

static int visit_vec(const PMapEnt *e, rule_visit fn, void *ctx, int (*keep)(const Rule *, void *), void *kctx)
{
    if (!e) return 0;
    for (uint32_t i = 0; i < e->vec.n; i++) {
        Rule *r = e->vec.v[i];
        if ((!keep || keep(r, kctx)) && fn(r, ctx)) return 1;
    }
    return 0;
}

typedef struct DirCtx {
    int slot, isParent;
} DirCtx;

static int keep_dir(const Rule *r, void *c)
{
    const DirCtx *d = c;
    int m = d->slot ? r->srcMatch : r->match;
    return m == KAWIN_MATCH_RECURSIVE || d->isParent;
}

typedef struct GlobCtx {
    int slot;
    PathRef t;
    uint16_t sep;
} GlobCtx;

static int keep_glob(const Rule *r, void *c)
{
    const GlobCtx *g = c;
    return g->slot ? glob_match(r->fsrc, r->srcLen, g->t, g->sep) : glob_match(r->fpath, r->pathLen, g->t, g->sep);
}

int index_query(const PathIndex *ix, PathRef t, int slot, uint16_t sep, rule_visit fn, void *ctx)
{
    if (visit_vec(pmap_get(&ix->exact, t.s, t.len, path_hash(t.s, t.len)), fn, ctx, NULL, NULL)) return 1;
    uint32_t lastSep = t.len;
    for (uint32_t i = t.len; i-- > 0;)
        if (t.s[i] == sep) { lastSep = i; break; }
    GlobCtx g = {slot, t, sep};
    if ((t.len == 0 || t.s[0] != sep) && ix->glob.used &&
        visit_vec(pmap_get(&ix->glob, t.s, 0, path_hash_init()), fn, ctx, keep_glob, &g))
        return 1;
    uint64_t h = path_hash_init();
    for (uint32_t i = 0; i < t.len; i++) {
        if (t.s[i] == sep && i + 1 < t.len) {
            DirCtx d = {slot, i == lastSep};
            if (ix->dir.used && visit_vec(pmap_get(&ix->dir, t.s, i, h), fn, ctx, keep_dir, &d)) return 1;
            if (ix->glob.used && visit_vec(pmap_get(&ix->glob, t.s, i, h), fn, ctx, keep_glob, &g)) return 1;
        }
        h = path_hash_step(h, t.s[i]);
    }
    return 0;
}

static int index_insert(Table *t, Rule *r)
{
    if (pmap_add(pick(&t->target[r->kind], r->match), r->fpath, r->pathKey, r, 0) != 0) return -1;
    if (r->action != KAWIN_ACTION_ALLOW) return 0;
    if (r->srcMatch == KAWIN_MATCH_NONE) {
        t->globalAllow[r->kind]++;
        return 0;
    }
    return pmap_add(pick(&t->allowSource[r->kind], r->srcMatch), r->fsrc, r->srcKey, r, 1);
}

static void index_remove(Table *t, Rule *r)
{
    pmap_remove(pick(&t->target[r->kind], r->match), r->fpath, r->pathKey, r, 0);
    if (r->action != KAWIN_ACTION_ALLOW) return;
    if (r->srcMatch == KAWIN_MATCH_NONE) t->globalAllow[r->kind]--;
    else pmap_remove(pick(&t->allowSource[r->kind], r->srcMatch), r->fsrc, r->srcKey, r, 1);
}

static void index_free(Table *t)
{
    for (int k = 0; k < KIND_SLOTS; k++) {
        PathIndex *ix[2] = {&t->target[k], &t->allowSource[k]};
        for (int j = 0; j < 2; j++) {
            pmap_free(&ix[j]->exact);
            pmap_free(&ix[j]->dir);
            pmap_free(&ix[j]->glob);
        }
        t->globalAllow[k] = 0;
    }
}

/* ---- rules ---- */

static void rule_fold(Rule *r, uint16_t sep, int fold)
{
    r->folded = (uint8_t)fold;
    path_fold(r->fpath, r->path, r->pathLen, fold);
    path_fold(r->fsrc, r->src, r->srcLen, fold);
    r->pathKey = path_key_len(r->fpath, r->pathLen, r->match, sep);
    r->srcKey = r->srcMatch ? path_key_len(r->fsrc, r->srcLen, r->srcMatch, sep) : 0;
}

Rule *rule_new(const KAWIN_RULE *rec, const uint16_t *path, const uint16_t *src, const Table *t)
{
    uint32_t pl = rec->PathBytes / 2, sl = rec->SourcePathBytes / 2;
    Rule *r = malloc(sizeof *r + ((size_t)pl + sl) * 4 + 2);
    if (!r) return NULL;
    memset(r, 0, sizeof *r);
    r->id = rec->Id;
    r->kind = rec->Kind;
    r->match = rec->MatchType;
    r->action = rec->Action;
    r->srcMatch = rec->SourceMatchType;
    r->flags = rec->Flags;
    r->pathLen = pl;
    r->srcLen = sl;
    r->path = (uint16_t *)(r + 1);
    r->src = r->path + pl;
    r->fpath = r->src + sl;
    r->fsrc = r->fpath + pl;
    memcpy(r->path, path, (size_t)pl * 2);
    memcpy(r->src, src, (size_t)sl * 2);
    rule_fold(r, t->sep, t->fold);
    return r;
}

uint32_t rule_record_size(const Rule *r)
{
    return (uint32_t)((sizeof(KAWIN_RULE) + (r->pathLen + r->srcLen) * 2 + 7) & ~7u);
}

void rule_write_record(const Rule *r, uint8_t *out)
{
    uint32_t size = rule_record_size(r);
    KAWIN_RULE rec = {size, r->kind, r->match, r->action, r->srcMatch, r->id, r->flags,
                      (uint16_t)(r->pathLen * 2), (uint16_t)(r->srcLen * 2)};
    memset(out, 0, size);
    memcpy(out, &rec, sizeof rec);
    memcpy(out + sizeof rec, r->path, (size_t)r->pathLen * 2);
    memcpy(out + sizeof rec + r->pathLen * 2, r->src, (size_t)r->srcLen * 2);
}

static int rule_same(const Rule *a, const Rule *b)
{
    return a->kind == b->kind && a->match == b->match && a->action == b->action && a->srcMatch == b->srcMatch &&
           a->flags == b->flags && a->pathLen == b->pathLen && a->srcLen == b->srcLen &&
           memcmp(a->path, b->path, (size_t)a->pathLen * 2) == 0 && memcmp(a->src, b->src, (size_t)a->srcLen * 2) == 0;
}

/* ---- table ---- */

void table_init(Table *t, uint16_t sep, int fold, uint32_t maxRules)
{
    memset(t, 0, sizeof *t);
    t->sep = sep;
    t->fold = fold;
    t->maxRules = maxRules;
}

void table_clear(Table *t)
{
    for (uint32_t i = 0; i < t->n; i++) free(t->sorted[i]);
    free(t->sorted);
    index_free(t);
    table_init(t, t->sep, t->fold, t->maxRules);
}

void table_set_fold(Table *t, int fold)
{
    if (t->fold == fold) return;
    t->fold = fold;
    index_free(t);
    for (uint32_t i = 0; i < t->n; i++) {
        rule_fold(t->sorted[i], t->sep, fold);
        index_insert(t, t->sorted[i]);
    }
}

uint32_t table_after(const Table *t, uint64_t cursor)
{
    uint32_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->sorted[mid]->id <= cursor) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static Rule *table_find(const Table *t, uint64_t id, uint32_t *pos)
{
    uint32_t p = id ? table_after(t, id - 1) : 0;
    if (pos) *pos = p;
    return (p < t->n && t->sorted[p]->id == id) ? t->sorted[p] : NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct SortKey {
    uint64_t id;
    uint32_t order;
    Rule *r;
} SortKey;

static int cmp_key(const void *a, const void *b)
{
    const SortKey *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int in_sorted(const uint64_t *v, uint32_t n, uint64_t id)
{
    return n && bsearch(&id, v, n, sizeof *v, cmp_u64) != NULL;
}

/* Sorts and deduplicates: removals unique, adds by id with the last record of an id kept. */
static uint32_t normalize(uint64_t *rem, uint32_t *nrem, Rule **adds, uint32_t nadd)
{
    qsort(rem, *nrem, sizeof *rem, cmp_u64);
    uint32_t w = 0;
    for (uint32_t i = 0; i < *nrem; i++)
        if (w == 0 || rem[w - 1] != rem[i]) rem[w++] = rem[i];
    *nrem = w;
    /* sort compact keys, not the rules themselves: 100k rules stay cache-friendly */
    SortKey *k = malloc(sizeof *k * (nadd ? nadd : 1));
    if (!k) return UINT32_MAX;
    for (uint32_t i = 0; i < nadd; i++) k[i] = (SortKey){adds[i]->id, i, adds[i]};
    qsort(k, nadd, sizeof *k, cmp_key);
    w = 0;
    for (uint32_t i = 0; i < nadd; i++) {
        if (i + 1 < nadd && k[i + 1].id == k[i].id) {
            free(k[i].r);
            continue;
        }
        adds[w++] = k[i].r;
    }
    free(k);
    return w;
}

static void free_rules(Rule **v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) free(v[i]);
}

static uint32_t check_apply(const Table *t, const uint64_t *rem, uint32_t nrem, Rule **adds, uint32_t nadd)
{
    uint64_t present = 0, fresh = 0;
    for (uint32_t i = 0; i < nrem; i++) present += table_find(t, rem[i], NULL) != NULL;
    for (uint32_t i = 0; i < nadd; i++)
        fresh += !table_find(t, adds[i]->id, NULL) || in_sorted(rem, nrem, adds[i]->id);
    return (uint64_t)t->n - present + fresh > t->maxRules ? KAWIN_ERROR_NOT_ENOUGH_QUOTA : 0;
}

static void apply_removals(Table *t, const uint64_t *rem, uint32_t nrem, KAWIN_APPLY_RESULT *res)
{
    uint32_t pos, w = 0;
    for (uint32_t i = 0; i < nrem; i++) { /* mark first: the array must stay searchable */
        Rule *r = table_find(t, rem[i], &pos);
        if (!r) {
            res->Missing++;
            continue;
        }
        index_remove(t, r);
        r->doomed = 1;
        res->Removed++;
    }
    if (!res->Removed) return;
    for (uint32_t i = 0; i < t->n; i++) {
        if (t->sorted[i]->doomed) free(t->sorted[i]);
        else t->sorted[w++] = t->sorted[i];
    }
    t->n = w;
}

static void merge_new(Table *t, Rule **fresh, uint32_t k)
{
    uint32_t i = t->n, j = k, w = t->n + k;
    while (j > 0) {
        if (i > 0 && t->sorted[i - 1]->id > fresh[j - 1]->id) t->sorted[--w] = t->sorted[--i];
        else t->sorted[--w] = fresh[--j];
    }
    t->n += k;
}

uint32_t table_apply(Table *t, const uint64_t *remIn, uint32_t nrem, Rule **adds, uint32_t nadd,
                     const uint64_t *expected, KAWIN_APPLY_RESULT *res)
{
    memset(res, 0, sizeof *res);
    uint64_t *rem = malloc(sizeof *rem * (nrem ? nrem : 1));
    if (!rem) {
        free_rules(adds, nadd);
        return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    }
    memcpy(rem, remIn, sizeof *rem * nrem);
    for (uint32_t i = 0; i < nadd; i++) /* folding may have been switched since parsing */
        if (adds[i]->folded != t->fold) rule_fold(adds[i], t->sep, t->fold);
    uint32_t kept = normalize(rem, &nrem, adds, nadd);
    if (kept == UINT32_MAX) {
        free(rem);
        free_rules(adds, nadd);
        return KAWIN_ERROR_NOT_ENOUGH_QUOTA; /* out of memory */
    }
    nadd = kept;
    uint32_t err = (expected && *expected != t->generation) ? KAWIN_ERROR_REVISION_MISMATCH
                                                            : check_apply(t, rem, nrem, adds, nadd);
    if (!err && (uint64_t)t->n + nadd > t->cap) {
        uint32_t cap = t->n + nadd + 1024;
        Rule **s = realloc(t->sorted, sizeof *s * cap);
        if (s) {
            t->sorted = s;
            t->cap = cap;
        } else err = KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    }
    if (err) {
        free(rem);
        free_rules(adds, nadd);
        res->Generation = t->generation;
        return err;
    }
    apply_removals(t, rem, nrem, res);
    free(rem);
    reserve_for(t, adds, nadd);
    uint32_t k = 0, pos;
    for (uint32_t i = 0; i < nadd; i++) { /* adds are sorted by id: new ones stay sorted */
        Rule *a = adds[i], *old = table_find(t, a->id, &pos);
        if (old && rule_same(old, a)) {
            free(a);
            continue;
        }
        if (old) {
            index_remove(t, old);
            free(old);
            t->sorted[pos] = a;
            res->Replaced++;
        } else {
            adds[k++] = a;
            res->Added++;
        }
        index_insert(t, a);
    }
    merge_new(t, adds, k);
    if (res->Added || res->Replaced || res->Removed) t->generation++;
    res->Generation = t->generation;
    return 0;
}
