/*
 * The matching indexes of the rule table: open-addressing maps from a folded path key to
 * the rules filed under it, one set per kind for rule paths and one for the fromSource of
 * Allow rules. A lookup probes the exact map once and the directory and glob maps once
 * per ancestor of the target, so its cost follows the path's depth, not the table's size.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"

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

/* The rules of a vector (valid until the entry moves: a grow or a deletion). */
static Rule **vec_items(RuleVec *v)
{
    return v->cap ? v->v : &v->one;
}

/* `key` is the rule's own folded string (its first `len` units): the entry keeps it. */
static int pmap_add(PMap *m, const uint16_t *key, uint32_t len, uint64_t h, Rule *r, int slot)
{
    if ((m->used + 1) * 2 > m->cap && pmap_grow(m, m->used + 1) != 0) return -1;
    PMapEnt *e = &m->e[pmap_slot(m, key, len, h)];
    if (!e->key) {
        *e = (PMapEnt){h, key, len, {NULL, NULL, 0, 0}};
        m->used++;
    }
    RuleVec *v = &e->vec;
    if (v->cap == 0 && v->n == 0) {
        v->one = r;
    } else {
        if (v->n >= v->cap) { /* cap 0 holds one rule inline */
            uint32_t cap = v->cap ? v->cap * 2 : 2;
            Rule **nv = realloc(v->v, sizeof *nv * cap);
            if (!nv) return -1;
            if (v->cap == 0) nv[0] = v->one;
            v->v = nv;
            v->cap = cap;
        }
        v->v[v->n] = r;
    }
    r->pos[slot] = v->n++;
    return 0;
}

static void pmap_delete_slot(PMap *m, uint32_t i)
{
    uint32_t mask = m->cap - 1;
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

static const uint16_t *key_of(const Rule *r, int slot)
{
    return slot ? r->fsrc : r->fpath;
}

static void pmap_remove(PMap *m, const uint16_t *key, uint32_t len, uint64_t h, Rule *r, int slot)
{
    PMapEnt *e = pmap_get(m, key, len, h);
    if (!e) return;
    RuleVec *v = &e->vec;
    Rule **items = vec_items(v);
    uint32_t p = r->pos[slot];
    if (p >= v->n || items[p] != r) return;
    items[p] = items[--v->n];
    items[p]->pos[slot] = p;
    if (v->n == 0) {
        pmap_delete_slot(m, (uint32_t)(e - m->e));
        return;
    }
    /* the key was this rule's string, freed with it: another rule of the entry lends its own */
    if (e->key == key_of(r, slot)) e->key = key_of(items[0], slot);
}

static void pmap_free(PMap *m)
{
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->e[i].key) free(m->e[i].vec.v);
    free(m->e);
    memset(m, 0, sizeof *m);
}

static PMap *pick(PathIndex *ix, int match)
{
    return match == KAWIN_MATCH_EXACT ? &ix->exact : match == KAWIN_MATCH_GLOB ? &ix->glob : &ix->dir;
}

/* Grows the maps a batch of additions will land in once, instead of doubling repeatedly. */
void index_reserve(Table *t, Rule **adds, uint32_t n)
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
    Rule *const *items = e->vec.cap ? e->vec.v : &e->vec.one;
    for (uint32_t i = 0; i < e->vec.n; i++) {
        Rule *r = items[i];
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

void index_prefetch(Table *t, const Rule *r)
{
    const PMap *m = pick(&t->target[r->kind], r->match);
    if (m->cap) __builtin_prefetch(&m->e[home_of(r->pathHash, m->cap - 1)]);
}

int index_insert(Table *t, Rule *r)
{
    if (pmap_add(pick(&t->target[r->kind], r->match), r->fpath, r->pathKey, r->pathHash, r, 0) != 0) return -1;
    if (r->action != KAWIN_ACTION_ALLOW) return 0;
    if (r->srcMatch == KAWIN_MATCH_NONE) {
        t->globalAllow[r->kind]++;
        return 0;
    }
    return pmap_add(pick(&t->allowSource[r->kind], r->srcMatch), r->fsrc, r->srcKey, r->srcHash, r, 1);
}

void index_remove(Table *t, Rule *r)
{
    pmap_remove(pick(&t->target[r->kind], r->match), r->fpath, r->pathKey, r->pathHash, r, 0);
    if (r->action != KAWIN_ACTION_ALLOW) return;
    if (r->srcMatch == KAWIN_MATCH_NONE) t->globalAllow[r->kind]--;
    else pmap_remove(pick(&t->allowSource[r->kind], r->srcMatch), r->fsrc, r->srcKey, r->srcHash, r, 1);
}

void index_free(Table *t)
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
