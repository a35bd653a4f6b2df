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

/* A record must fit one message: strings are cut (command line first, then image, then
 * target) to KAWIN_EMU_MAX_RECORD, and every cut is counted in Ring.truncated. */
static void fit_strings(uint32_t *len[3])
{
    uint32_t fixed = (uint32_t)sizeof(KAWIN_EVENT) + K.sidLen * 2 + 8;
    uint32_t total = fixed + (*len[0] + *len[1] + *len[2]) * 2;
    if (total <= KAWIN_EMU_MAX_RECORD) return;
    __atomic_fetch_add(&K.ring.truncated, 1, __ATOMIC_RELAXED);
    for (int i = 2; i >= 0 && total > KAWIN_EMU_MAX_RECORD; i--) {
        uint32_t over = (total - (uint32_t)KAWIN_EMU_MAX_RECORD + 1) / 2;
        uint32_t cut = over < *len[i] ? over : *len[i];
        *len[i] -= cut;
        total -= cut * 2;
    }
}

EventRec *event_build(const EventIn *in)
{
    uint32_t tl = in->target.len, il = in->image.len, cl = in->cmdline.len;
    uint32_t *lens[3] = {&tl, &il, &cl};
    fit_strings(lens);
    uint32_t size = (uint32_t)((sizeof(KAWIN_EVENT) + (tl + il + cl + K.sidLen) * 2 + 7) & ~7u);
    EventRec *r = malloc(sizeof *r + size);
    if (!r) return NULL;
    r->size = size;
    KAWIN_EVENT ev = {
        .Size = size, .Type = in->type, .Decision = in->decision, .Time = filetime_now(), .RuleId = in->ruleId,
        .ProcessId = in->pid, .ParentProcessId = in->ppid, .ThreadId = in->tid, .Status = in->status,
        .DesiredAccess = in->access, .TargetPathBytes = (uint16_t)(tl * 2), .ImagePathBytes = (uint16_t)(il * 2),
        .CommandLineBytes = (uint16_t)(cl * 2), .UserSidBytes = (uint16_t)(K.sidLen * 2),
    };
    uint8_t *p = r->data;
    memcpy(p, &ev, sizeof ev);
    p += sizeof ev;
    if (tl) memcpy(p, in->target.s, tl * 2u);
    p += tl * 2;
    if (il) memcpy(p, in->image.s, il * 2u);
    p += il * 2;
    if (cl) memcpy(p, in->cmdline.s, cl * 2u);
    p += cl * 2;
    memcpy(p, K.sid, K.sidLen * 2u);
    p += K.sidLen * 2;
    memset(p, 0, (size_t)(r->data + size - p));
    return r;
}
