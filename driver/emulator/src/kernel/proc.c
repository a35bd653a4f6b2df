/*
 * The processes of the emulated machine as the driver tracks them: what a minifilter
 * learns from its create-process notifications (parent, image, session, token user) and
 * from the process parameters (current directory). Simulated process creations register
 * the new process; KawinEmu_DefineProcess declares one that was running before. Bounded
 * (KAWIN_EMU_MAX_PROCESSES): beyond it the oldest entry is replaced, as a driver's table
 * would forget long-gone processes.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

typedef struct Proc {
    uint32_t pid, ppid, session;
    uint16_t *image, *sid, *cwd;
    uint32_t imageLen, sidLen, cwdLen;
} Proc;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static Proc procs[KAWIN_EMU_MAX_PROCESSES];
static uint32_t used, next;

static uint16_t *dup16(const uint16_t *s, uint32_t len)
{
    if (!s || !len) return NULL;
    uint16_t *d = malloc((size_t)len * 2);
    if (d) memcpy(d, s, (size_t)len * 2);
    return d;
}

static void clear(Proc *p)
{
    free(p->image);
    free(p->sid);
    free(p->cwd);
    memset(p, 0, sizeof *p);
}

/* Caller holds mu. */
static Proc *find(uint32_t pid)
{
    for (uint32_t i = 0; pid && i < used; i++)
        if (procs[i].pid == pid) return &procs[i];
    return NULL;
}

void proc_define(const ProcIn *in)
{
    if (!in->pid) return;
    pthread_mutex_lock(&mu);
    Proc *p = find(in->pid);
    if (!p) {
        p = used < KAWIN_EMU_MAX_PROCESSES ? &procs[used++] : &procs[next];
        next = (next + 1) % KAWIN_EMU_MAX_PROCESSES;
    }
    clear(p);
    *p = (Proc){in->pid, in->ppid, in->session, dup16(in->image.s, in->image.len), dup16(in->sid.s, in->sid.len),
                dup16(in->cwd.s, in->cwd.len), 0, 0, 0};
    p->imageLen = p->image ? in->image.len : 0;
    p->sidLen = p->sid ? in->sid.len : 0;
    p->cwdLen = p->cwd ? in->cwd.len : 0;
    pthread_mutex_unlock(&mu);
}

void proc_facts(uint32_t pid, ProcFacts *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&mu);
    const Proc *p = find(pid);
    if (p) {
        out->ppid = p->ppid;
        out->session = p->session;
        if ((out->image = dup16(p->image, p->imageLen))) out->imageLen = p->imageLen;
        if ((out->sid = dup16(p->sid, p->sidLen))) out->sidLen = p->sidLen;
        if ((out->cwd = dup16(p->cwd, p->cwdLen))) out->cwdLen = p->cwdLen;
        const Proc *parent = find(p->ppid);
        if (parent && (out->parentImage = dup16(parent->image, parent->imageLen))) out->parentImageLen = parent->imageLen;
    }
    pthread_mutex_unlock(&mu);
}

void proc_facts_free(ProcFacts *f)
{
    free(f->image);
    free(f->parentImage);
    free(f->sid);
    free(f->cwd);
    memset(f, 0, sizeof *f);
}

/* Frees every entry at exit, so leak checkers see a clean heap. */
__attribute__((destructor)) static void proc_cleanup(void)
{
    for (uint32_t i = 0; i < used; i++) clear(&procs[i]);
    used = next = 0;
}
