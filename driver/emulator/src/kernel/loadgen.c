/*
 * The load generator: synthetic events pushed into the ring in chunks at the requested
 * rate, to measure the event pipeline without the cost of real decisions. Each event
 * names a rule the table holds, so that the agent's whole path (provenance lookup,
 * enrichment) runs as for a real match: the Audit and Block rules of kind file or
 * process are taken in turn, each as the decision the driver would report for it (a file
 * open or a process creation of a path the rule matches, by the rule's fromSource when
 * it names one exactly). With no such rule in the table the events are unmatched file
 * opens (decision Allow, rule id 0), which the driver reports only as telemetry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"

#define CHUNK 256
#define PATH_CAP 1024 /* code units of a generated path (longer rule paths are cut) */

typedef struct Load {
    uint64_t count, rate;
} Load;

/* Where the rule walk is: the id of the last rule used, so that rules are taken in turn;
 * and the table generation found without a reportable rule, not searched again. */
typedef struct Cursor {
    uint64_t lastId;
    uint64_t noneAt;
    uint32_t noneN;
    int none;
} Cursor;

static uint32_t ascii16(const char *s, uint16_t *out, uint32_t cap)
{
    uint32_t n = 0;
    while (s[n] && n < cap) {
        out[n] = (uint8_t)s[n];
        n++;
    }
    return n;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int reportable(const Rule *r)
{
    return (r->action == KAWIN_ACTION_AUDIT || r->action == KAWIN_ACTION_BLOCK) &&
           (r->kind == KAWIN_KIND_FILE || r->kind == KAWIN_KIND_PROCESS);
}

/* The next reportable rule after the cursor, wrapping once; NULL when there is none.
 * Caller holds K.lock. */
static const Rule *next_rule(Cursor *c)
{
    const Table *t = &K.table;
    if (t->n == 0 || (c->none && c->noneAt == t->generation && c->noneN == t->n)) return NULL;
    uint32_t start = table_after(t, c->lastId);
    for (uint32_t k = 0; k < t->n; k++) {
        const Rule *r = t->sorted[(start + k) % t->n];
        if (reportable(r)) {
            c->lastId = r->id;
            return r;
        }
    }
    c->none = 1;
    c->noneAt = t->generation;
    c->noneN = t->n;
    return NULL;
}

/* A path the rule matches: itself (exact), a file in it (directory, recursive), its
 * pattern with every wildcard read as one 'x' (glob). */
static uint32_t matching_path(const Rule *r, uint64_t i, uint16_t *out)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < r->pathLen && n < PATH_CAP - 32; k++) {
        uint16_t ch = r->path[k];
        if (r->match == KAWIN_MATCH_GLOB && (ch == '*' || ch == '?')) {
            while (k + 1 < r->pathLen && r->path[k + 1] == '*') k++; /* '**' is one wildcard */
            out[n++] = 'x';
        } else {
            out[n++] = ch;
        }
    }
    if (r->match == KAWIN_MATCH_DIRECTORY || r->match == KAWIN_MATCH_RECURSIVE) {
        char tail[32];
        if (n == 0 || out[n - 1] != K.sep) out[n++] = K.sep;
        snprintf(tail, sizeof tail, "kawin-load-%06llu.dat", (unsigned long long)(i % 1000000));
        n += ascii16(tail, out + n, PATH_CAP - n);
    }
    return n;
}

/* The event the driver reports when rule r decides operation i. Caller holds K.lock. */
static EventRec *rule_event(const Rule *r, uint64_t i, const uint16_t *image, uint32_t il)
{
    uint16_t target[PATH_CAP];
    uint32_t tl = matching_path(r, i, target);
    if (r->srcMatch == KAWIN_MATCH_EXACT) {
        image = r->src;
        il = r->srcLen;
    }
    uint32_t pid = 7000 + (uint32_t)(i % 8) * 4;
    uint8_t decision = r->action == KAWIN_ACTION_BLOCK ? KAWIN_DECISION_BLOCK : KAWIN_DECISION_AUDIT;
    uint32_t status = r->action == KAWIN_ACTION_BLOCK ? KAWIN_STATUS_ACCESS_DENIED : KAWIN_STATUS_SUCCESS;
    EventIn ev = {KAWIN_EVENT_FILE_OPEN, decision, r->id, pid, 4, pid + 4, status, KAWIN_ACCESS_READ_DATA, 0, 0,
                  {target, tl}, {image, il}, {NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    if (r->kind == KAWIN_KIND_PROCESS) {
        /* pid is the creator, as the driver reports it; the new process has none when blocked. */
        ev.type = KAWIN_EVENT_PROCESS_CREATE;
        ev.access = KAWIN_ACCESS_EXECUTE;
        ev.newPid = r->action == KAWIN_ACTION_BLOCK ? 0 : pid + 2;
    }
    return event_build(&ev);
}

/* An operation no rule matched: a file open under <drive>\kawin-load. */
static EventRec *unmatched_event(uint64_t i, const uint16_t *prefix, uint32_t plen, const uint16_t *image, uint32_t il)
{
    char tail[96];
    uint16_t target[512];
    char s = (char)K.sep;
    if (plen) memcpy(target, prefix, plen * 2u);
    snprintf(tail, sizeof tail, "%ckawin-load%cd%02u%cfile%06llu.txt", s, s, (unsigned)(i % 32), s, (unsigned long long)i);
    uint32_t tl = plen + ascii16(tail, target + plen, 512 - plen);
    uint32_t pid = 7000 + (uint32_t)(i % 8) * 4;
    EventIn ev = {KAWIN_EVENT_FILE_OPEN, KAWIN_DECISION_ALLOW, 0, pid, 4, pid + 4,
                  KAWIN_STATUS_SUCCESS, KAWIN_ACCESS_READ_DATA, 0, 0, {target, tl}, {image, il}, {NULL, 0},
                  {NULL, 0}, {NULL, 0}, {NULL, 0}};
    return event_build(&ev);
}

static void run(const Load *l)
{
    uint16_t prefix[256];
    uint32_t plen = 0;
    pthread_rwlock_rdlock(&K.lock); /* the drive map may grow meanwhile (drive_mount) */
    if (K.ndrives && K.flavor == KAWIN_FLAVOR_WINDOWS) {
        plen = K.drives[0].ntLen < 256 ? K.drives[0].ntLen : 256;
        memcpy(prefix, K.drives[0].nt, plen * 2u);
    }
    pthread_rwlock_unlock(&K.lock);
    uint16_t image[512];
    if (plen) memcpy(image, prefix, plen * 2u);
    uint32_t il = plen + ascii16(K.flavor == KAWIN_FLAVOR_WINDOWS ? "\\Windows\\System32\\kawin-load.exe" : "/usr/bin/kawin-load",
                                 image + plen, 512 - plen);
    EventRec *chunk[CHUNK];
    Cursor cursor = {0};
    uint64_t start = mono_ns(), done = 0;
    while (done < l->count) {
        uint64_t allowed = l->count;
        if (l->rate) {
            double due = (double)(mono_ns() - start) * (double)l->rate / 1e9 + 1;
            if (due < (double)allowed) allowed = (uint64_t)due;
        }
        if (allowed <= done) { /* sleep until the next event is due (at most 50 ms) */
            double dueNs = (double)(done + 1) * 1e9 / (double)l->rate - (double)(mono_ns() - start);
            long ns = dueNs < 50000 ? 50000 : dueNs > 5e7 ? 50000000L : (long)dueNs;
            struct timespec ts = {0, ns};
            nanosleep(&ts, NULL);
            continue;
        }
        uint32_t n = (uint32_t)(allowed - done < CHUNK ? allowed - done : CHUNK), k = 0;
        pthread_rwlock_rdlock(&K.lock); /* the rules stay put while their events are built */
        for (uint32_t i = 0; i < n; i++) {
            const Rule *r = next_rule(&cursor);
            EventRec *e = r ? rule_event(r, done + i, image, il) : unmatched_event(done + i, prefix, plen, image, il);
            if (e != NULL) chunk[k++] = e;
        }
        pthread_rwlock_unlock(&K.lock);
        ring_push(&K.ring, chunk, k);
        done += n;
    }
}

static void *load_thread(void *arg)
{
    run(arg);
    free(arg);
    return NULL;
}

uint32_t loadgen_start(uint64_t count, uint64_t rate, int wait)
{
    Load l = {count, rate};
    if (wait) {
        run(&l);
        return 0;
    }
    Load *h = malloc(sizeof *h);
    if (!h) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    *h = l;
    pthread_t th;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &a, load_thread, h);
    pthread_attr_destroy(&a);
    if (rc != 0) {
        free(h);
        return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    }
    return 0;
}
