/* The rule table: rules sorted by id, and all-or-nothing writes (see table.h). Callers hold the table lock. */
#include "table.h"

#include <stdlib.h>
#include <time.h>
#include <string.h>

/* ---- rules ---- */

static void rule_fold(Rule *r, uint16_t sep, int fold)
{
    r->folded = (uint8_t)fold;
    path_fold(r->fpath, r->path, r->pathLen, fold);
    path_fold(r->fsrc, r->src, r->srcLen, fold);
    r->pathKey = path_key_len(r->fpath, r->pathLen, r->match, sep);
    r->srcKey = r->srcMatch ? path_key_len(r->fsrc, r->srcLen, r->srcMatch, sep) : 0;
    r->pathHash = path_hash(r->fpath, r->pathKey);
    r->srcHash = path_hash(r->fsrc, r->srcKey);
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
    free(t->ids);
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
        if (t->ids[mid] <= cursor) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static Rule *table_find(const Table *t, uint64_t id, uint32_t *pos)
{
    uint32_t p = id ? table_after(t, id - 1) : 0;
    if (pos) *pos = p;
    return (p < t->n && t->ids[p] == id) ? t->sorted[p] : NULL;
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

/* How many additions ahead the index slot of an addition is prefetched. */
#define PREFETCH_AHEAD 8

/* Below this many keys qsort; above, a radix sort (a 100k-rule APPLY sorts in ~2 ms instead of ~13). */
#define RADIX_MIN_KEYS 1024

/* Sorts keys by (id, order): an LSD radix sort on the id, 16 bits a pass, is stable, so
 * keys of one id stay in their order. Passes whose digit is the same in every key are
 * skipped. Returns -1 when out of memory. */
static int sort_keys(SortKey *k, uint32_t n)
{
    if (n < RADIX_MIN_KEYS) {
        qsort(k, n, sizeof *k, cmp_key);
        return 0;
    }
    SortKey *tmp = malloc(sizeof *tmp * n);
    uint32_t *count = malloc(sizeof *count * 65536);
    if (!tmp || !count) {
        free(tmp);
        free(count);
        return -1;
    }
    SortKey *from = k, *to = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, sizeof *count * 65536);
        for (uint32_t i = 0; i < n; i++) count[(from[i].id >> shift) & 0xffff]++;
        if (count[(from[0].id >> shift) & 0xffff] == n) continue;
        uint32_t sum = 0;
        for (uint32_t d = 0; d < 65536; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++) to[count[(from[i].id >> shift) & 0xffff]++] = from[i];
        SortKey *swap = from;
        from = to;
        to = swap;
    }
    if (from != k) memcpy(k, from, sizeof *k * n);
    free(tmp);
    free(count);
    return 0;
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
    if (sort_keys(k, nadd) != 0) {
        free(k);
        return UINT32_MAX;
    }
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

/* Removes the rules of rem (sorted, unique): unindexed, freed, and both arrays closed up
 * around them a block at a time. rem is overwritten with the positions removed. */
static void apply_removals(Table *t, uint64_t *rem, uint32_t nrem, KAWIN_APPLY_RESULT *res)
{
    uint32_t pos, gone = 0;
    for (uint32_t i = 0; i < nrem; i++) { /* found first: the arrays must stay searchable */
        Rule *r = table_find(t, rem[i], &pos);
        if (!r) {
            res->Missing++;
            continue;
        }
        index_remove(t, r);
        rem[gone++] = pos; /* ascending, as the ids are */
    }
    res->Removed = gone;
    if (!gone) return;
    uint32_t w = (uint32_t)rem[0];
    for (uint32_t g = 0; g < gone; g++) {
        uint32_t p = (uint32_t)rem[g], next = g + 1 < gone ? (uint32_t)rem[g + 1] : t->n, keep = next - p - 1;
        free(t->sorted[p]);
        memmove(&t->sorted[w], &t->sorted[p + 1], sizeof *t->sorted * keep);
        memmove(&t->ids[w], &t->ids[p + 1], sizeof *t->ids * keep);
        w += keep;
    }
    t->n = w;
}

/* Inserts the k new rules (sorted by id, none in the table) at their places: from the
 * largest down, a binary search and one move of the block above it. */
static void merge_new(Table *t, Rule **fresh, uint32_t k)
{
    uint32_t i = t->n; /* the rules at [0, i) have not moved */
    for (uint32_t j = k; j > 0; j--) {
        uint64_t id = fresh[j - 1]->id;
        uint32_t lo = 0, hi = i;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (t->ids[mid] < id) lo = mid + 1;
            else hi = mid;
        }
        memmove(&t->sorted[lo + j], &t->sorted[lo], sizeof *t->sorted * (i - lo));
        memmove(&t->ids[lo + j], &t->ids[lo], sizeof *t->ids * (i - lo));
        t->sorted[lo + j - 1] = fresh[j - 1];
        t->ids[lo + j - 1] = id;
        i = lo;
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
        if (s) t->sorted = s; /* larger than cap says until both have grown: harmless */
        uint64_t *ids = s ? realloc(t->ids, sizeof *ids * cap) : NULL;
        if (ids) {
            t->ids = ids;
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
    index_reserve(t, adds, nadd);
    uint32_t k = 0, pos;
    for (uint32_t i = 0; i < nadd; i++) { /* adds are sorted by id: new ones stay sorted */
        /* the index slots of a large batch are all over memory: ask for one ahead */
        if (i + PREFETCH_AHEAD < nadd) index_prefetch(t, adds[i + PREFETCH_AHEAD]);
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
    if (res->Added || res->Replaced || res->Removed) {
        t->generation++;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        t->changedAtNs = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    }
    res->Generation = t->generation;
    return 0;
}
