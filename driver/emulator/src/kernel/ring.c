/*
 * The event ring: a bounded queue of ready-to-send KAWIN_EVENT records. Full means the
 * oldest record is dropped and counted (EventsDropped, and the next batch's Dropped).
 * Producers wake a waiting port reader through its eventfd only when one is waiting, so
 * a busy stream costs no syscall per event.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"

void ring_init(Ring *r, uint32_t cap)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->slot = calloc(cap, sizeof *r->slot);
    r->cap = cap;
    r->waiterFd = -1;
}

/* Caller holds r->mu. */
static void ring_empty_locked(Ring *r)
{
    for (uint32_t i = 0; i < r->count; i++) free(r->slot[(r->head + i) % r->cap]);
    r->head = r->count = 0;
}

void ring_clear(Ring *r)
{
    pthread_mutex_lock(&r->mu);
    ring_empty_locked(r);
    r->emitted = r->dropped = r->pendingDropped = 0;
    pthread_mutex_unlock(&r->mu);
}

void ring_push(Ring *r, EventRec **recs, uint32_t n)
{
    pthread_mutex_lock(&r->mu);
    for (uint32_t i = 0; i < n; i++) {
        if (r->count == r->cap) {
            free(r->slot[r->head]);
            r->head = (r->head + 1) % r->cap;
            r->count--;
            r->dropped++;
            r->pendingDropped++;
        }
        r->slot[(r->head + r->count) % r->cap] = recs[i];
        r->count++;
        r->emitted++;
    }
    if (n && r->waiterFd >= 0) {
        uint64_t one = 1;
        if (write(r->waiterFd, &one, sizeof one) < 0) { /* eventfd cannot overflow here */ }
        r->waiterFd = -1;
    }
    pthread_mutex_unlock(&r->mu);
}

uint64_t filetime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 10000000ull + (uint64_t)ts.tv_nsec / 100 + 116444736000000000ull;
}

/* A record must fit one message: strings are cut (command line first, then current
 * directory, parent image, image, target; never the SID) to KAWIN_EMU_MAX_RECORD, and
 * every cut is counted in Ring.truncated. len[] is in that cutting order. */
#define CUTTABLE 5
static void fit_strings(uint32_t *len[CUTTABLE], uint32_t sidLen)
{
    uint32_t total = (uint32_t)sizeof(KAWIN_EVENT) + sidLen * 2 + 8;
    for (int i = 0; i < CUTTABLE; i++) total += *len[i] * 2;
    if (total <= KAWIN_EMU_MAX_RECORD) return;
    __atomic_fetch_add(&K.ring.truncated, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < CUTTABLE && total > KAWIN_EMU_MAX_RECORD; i++) {
        uint32_t over = (total - (uint32_t)KAWIN_EMU_MAX_RECORD + 1) / 2;
        uint32_t cut = over < *len[i] ? over : *len[i];
        *len[i] -= cut;
        total -= cut * 2;
    }
}

static uint8_t *put(uint8_t *p, const uint16_t *s, uint32_t len)
{
    if (len) memcpy(p, s, len * 2u);
    return p + len * 2;
}

EventRec *event_build(const EventIn *in)
{
    PathRef sid = in->sid.len ? in->sid : (PathRef){K.sid, K.sidLen};
    uint32_t tl = in->target.len, il = in->image.len, pl = in->parentImage.len, cl = in->cmdline.len, wl = in->cwd.len;
    uint32_t *lens[CUTTABLE] = {&cl, &wl, &pl, &il, &tl};
    fit_strings(lens, sid.len);
    uint32_t size = (uint32_t)((sizeof(KAWIN_EVENT) + (tl + il + pl + cl + sid.len + wl) * 2 + 7) & ~7u);
    EventRec *r = malloc(sizeof *r + size);
    if (!r) return NULL;
    r->size = size;
    KAWIN_EVENT ev = {
        .Size = size, .Type = in->type, .Decision = in->decision, .Time = filetime_now(), .RuleId = in->ruleId,
        .ProcessId = in->pid, .ParentProcessId = in->ppid, .ThreadId = in->tid, .Status = in->status,
        .DesiredAccess = in->access, .SessionId = in->session, .NewProcessId = in->newPid,
        .TargetPathBytes = (uint16_t)(tl * 2), .ImagePathBytes = (uint16_t)(il * 2),
        .ParentImagePathBytes = (uint16_t)(pl * 2), .CommandLineBytes = (uint16_t)(cl * 2),
        .UserSidBytes = (uint16_t)(sid.len * 2), .CurrentDirectoryBytes = (uint16_t)(wl * 2),
    };
    uint8_t *p = r->data;
    memcpy(p, &ev, sizeof ev);
    p += sizeof ev;
    p = put(p, in->target.s, tl);
    p = put(p, in->image.s, il);
    p = put(p, in->parentImage.s, pl);
    p = put(p, in->cmdline.s, cl);
    p = put(p, sid.s, sid.len);
    p = put(p, in->cwd.s, wl);
    memset(p, 0, (size_t)(r->data + size - p));
    return r;
}
