/*
 * The load generator: synthetic file-open events (decision Audit, rule ids
 * 0x4C4F4144000000xx, "LOAD"), pushed into the ring in chunks at the requested rate, to
 * measure the event pipeline without the cost of real decisions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"

#define CHUNK 256
#define LOAD_RULE_BASE 0x4C4F414400000000ull

typedef struct Load {
    uint64_t count, rate;
} Load;

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

static EventRec *load_event(uint64_t i, const uint16_t *prefix, uint32_t plen)
{
    char tail[96];
    uint16_t target[512], image[512];
    char s = (char)K.sep;
    memcpy(target, prefix, plen * 2u);
    memcpy(image, prefix, plen * 2u);
    snprintf(tail, sizeof tail, "%ckawin-load%cd%02u%cfile%06llu.txt", s, s, (unsigned)(i % 32), s, (unsigned long long)i);
    uint32_t tl = plen + ascii16(tail, target + plen, 512 - plen);
    snprintf(tail, sizeof tail, K.flavor == KAWIN_FLAVOR_WINDOWS ? "\\Windows\\System32\\kawin-load.exe" : "/usr/bin/kawin-load");
    uint32_t il = plen + ascii16(tail, image + plen, 512 - plen);
    uint32_t pid = 7000 + (uint32_t)(i % 8) * 4;
    EventIn ev = {KAWIN_EVENT_FILE_OPEN, KAWIN_DECISION_AUDIT, LOAD_RULE_BASE + i % 16 + 1, pid, 4, pid + 4,
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
    EventRec *chunk[CHUNK];
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
        for (uint32_t i = 0; i < n; i++)
            if ((chunk[k] = load_event(done + i, prefix, plen)) != NULL) k++;
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
