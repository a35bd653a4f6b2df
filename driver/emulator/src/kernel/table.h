/*
 * The rule table: rules sorted by id (for LIST_RULES paging and id lookups) plus the
 * matching indexes that keep a decision's cost independent of the number of rules:
 * per kind, a hash of exact paths, a per-directory index of directory/recursive rules
 * and glob buckets keyed by their literal directory prefix; and the same structure over
 * the fromSource patterns of Allow rules, to find allow-lists scoped to a process.
 */
#ifndef KAWIN_TABLE_H
#define KAWIN_TABLE_H

#include <stdint.h>

#include "../../../abi/kawin_abi.h"
#include "path.h"

typedef struct Rule {
    uint64_t id;
    uint8_t kind, match, action, srcMatch;
    uint8_t folded;                /* folding the f* strings were made with */
    uint32_t flags;
    uint32_t pathLen, srcLen;      /* code units */
    uint32_t pathKey, srcKey;      /* index key lengths (prefixes of the folded strings) */
    uint64_t pathHash, srcHash;    /* path_hash of those keys, computed once when folded */
    uint32_t pos[2];               /* position in its target / source index vector */
    uint16_t *path, *src;          /* as given (LIST returns them unchanged) */
    uint16_t *fpath, *fsrc;        /* folded for matching */
} Rule;

/* The rules filed under one key. Most keys have one rule: it is held in `one` (cap 0)
 * until a second comes, so such a key costs no allocation. */
typedef struct RuleVec {
    Rule **v;
    Rule *one;
    uint32_t n, cap;
} RuleVec;

typedef struct PMapEnt {
    uint64_t hash;
    /* NULL: empty slot. Otherwise the folded string of one of the entry's rules (every
     * one of them has this key as its prefix): moved to another rule when that one leaves. */
    const uint16_t *key;
    uint32_t len;
    RuleVec vec;
} PMapEnt;

typedef struct PMap {
    PMapEnt *e;
    uint32_t cap, used;
} PMap;

typedef struct PathIndex {
    PMap exact, dir, glob;
} PathIndex;

#define KIND_SLOTS 5 /* indexed by KAWIN_RULE_KIND */

typedef struct Table {
    Rule **sorted;
    /* ids[i] == sorted[i]->id: searches, removals and merges walk this array instead of
     * dereferencing every rule (a 100k-rule table is then a few cache lines per lookup) */
    uint64_t *ids;
    uint32_t n, cap;
    uint64_t generation;
    /* CLOCK_MONOTONIC ns when generation last moved (0: never); the emulator's own (KawinEmu_TableChanged). */
    uint64_t changedAtNs;
    uint16_t sep;
    int fold;
    PathIndex target[KIND_SLOTS];
    PathIndex allowSource[KIND_SLOTS];
    uint32_t globalAllow[KIND_SLOTS];
    uint32_t maxRules;
} Table;

void table_init(Table *t, uint16_t sep, int fold, uint32_t maxRules);
void table_clear(Table *t); /* frees every rule and index; keeps sep/fold/maxRules */
void table_set_fold(Table *t, int fold); /* refolds and reindexes when it changes */

/* Builds a rule from a KAWIN_RULE record (already bounds-checked by the caller). */
Rule *rule_new(const KAWIN_RULE *rec, const uint16_t *path, const uint16_t *src, const Table *t);
uint32_t rule_record_size(const Rule *r);
void rule_write_record(const Rule *r, uint8_t *out); /* rule_record_size bytes */

/* All or nothing. Takes ownership of adds (freed or kept) in every case. expected NULL:
 * no generation check. Returns 0 or a KAWIN_ERROR_*. */
uint32_t table_apply(Table *t, const uint64_t *rem, uint32_t nrem, Rule **adds, uint32_t nadd,
                     const uint64_t *expected, KAWIN_APPLY_RESULT *res);

/* First index in sorted with id > cursor. */
uint32_t table_after(const Table *t, uint64_t cursor);

/* index.c */
int index_insert(Table *t, Rule *r);
void index_prefetch(Table *t, const Rule *r); /* a hint before index_insert(t, r) */
void index_remove(Table *t, Rule *r);
void index_free(Table *t);
void index_reserve(Table *t, Rule **adds, uint32_t n); /* room for a batch of additions */

typedef int (*rule_visit)(Rule *r, void *ctx); /* nonzero stops the walk */
/* Visits every rule of the index whose pattern (slot 0: path, 1: source) matches t. */
int index_query(const PathIndex *ix, PathRef t, int slot, uint16_t sep, rule_visit fn, void *ctx);

#endif
