/*
 * The emulated kernel's state: what the minifilter would hold in its device extension.
 * One instance per daemon process (K). Locks: `lock` (rwlock) guards table and config;
 * ring.mu guards the event ring and its counters; portMu guards the port connection;
 * faultMu the injected faults.
 */
#ifndef KAWIN_KERNEL_H
#define KAWIN_KERNEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../../../abi/kawin_abi.h"
#include "table.h"
#include "../common/wire.h"

#define KAWIN_EMU_MAX_FAULTS 64 /* distinct pending fault injections */
#define KAWIN_EMU_MAX_RECORD (KAWIN_MAX_MESSAGE_BYTES - sizeof(KAWIN_FILTER_MESSAGE_HEADER) - sizeof(KAWIN_EVENT_BATCH))

typedef struct EventRec {
    uint32_t size; /* bytes of the KAWIN_EVENT record that follows */
    uint8_t data[];
} EventRec;

typedef struct Ring {
    pthread_mutex_t mu;
    EventRec **slot;
    uint32_t cap, head, count;
    uint64_t emitted, dropped, pendingDropped, truncated;
    int waiterFd; /* eventfd of a port reader waiting for records, -1 when none */
} Ring;

typedef struct Drive {
    char letter; /* upper case */
    uint16_t *nt;
    uint32_t ntLen;
} Drive;

typedef struct PortConn PortConn;

typedef struct Fault {
    uint32_t code, remaining, error;
} Fault;

typedef struct Kernel {
    int flavor;
    uint16_t sep;
    Drive drives[26];
    int ndrives;
    uint16_t sid[64];
    uint32_t sidLen;
    char *devPath, *portPath;

    pthread_rwlock_t lock;
    Table table;
    KAWIN_CONFIG config;

    Ring ring;

    pthread_mutex_t portMu;
    PortConn *port;

    pthread_mutex_t faultMu;
    Fault faults[KAWIN_EMU_MAX_FAULTS];

    atomic_uint epoch;      /* bumped by Reload: device connections of older epochs are invalid */
    atomic_uint nextPid;
    atomic_ullong messageId;
} Kernel;

extern Kernel K;

void kernel_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
KAWIN_CONFIG kernel_default_config(void);
void kernel_reload(int clearFaults);

/* ring.c */
void ring_init(Ring *r, uint32_t cap);
void ring_clear(Ring *r);
void ring_push(Ring *r, EventRec **recs, uint32_t n); /* takes ownership */
uint64_t filetime_now(void);

typedef struct EventIn {
    uint16_t type;
    uint8_t decision;
    uint64_t ruleId;
    uint32_t pid, ppid, tid, status, access, session, newPid;
    PathRef target, image, parentImage, cmdline, sid, cwd; /* sid empty: the kernel's --user-sid */
} EventIn;
EventRec *event_build(const EventIn *in);

/* ioctl.c: the six IOCTLs. *out is malloc'ed (or NULL), at most outCap bytes. */
uint32_t ioctl_dispatch(uint32_t code, const uint8_t *in, uint32_t inLen, uint32_t outCap, uint8_t **out, uint32_t *outLen);
uint32_t fault_take(uint32_t code);

/* decide.c */
typedef struct DecideOut {
    uint8_t decision;
    uint8_t report;
    uint64_t ruleId;
    uint32_t status;
} DecideOut;
/* target and image are NT paths (unfolded). Caller holds K.lock for reading. */
void decide(int kind, PathRef target, PathRef image, uint32_t access, DecideOut *out);
/* Converts a UTF-8 DOS/posix path to an NT path (malloc'ed). 0 or a KAWIN_ERROR_*. */
uint32_t to_nt_path(const char *s, uint32_t len, uint16_t **out, uint32_t *outLen);

/* port.c */
void port_accept(int fd);
void port_drop(void);

/* device.c */
void device_serve(int fd);

/* drives.c: "Q:=\\Device\\HarddiskVolume9" into the drive map. 0 or KAWIN_ERROR_INVALID_PARAMETER
 * (malformed, or the letter is taken). drive_add: at start; drive_mount: while running. */
uint32_t drive_add(const char *spec);
uint32_t drive_mount(const char *spec);

/* proc.c: the machine's processes as the driver tracks them (pid -> parent, image,
 * session, user, current directory), so events carry what a minifilter knows. */
typedef struct ProcIn {
    uint32_t pid, ppid, session;
    PathRef image, sid, cwd; /* copied */
} ProcIn;
typedef struct ProcFacts {
    uint32_t ppid, session;
    uint16_t *image, *parentImage, *sid, *cwd; /* malloc'ed copies (NULL when empty) */
    uint32_t imageLen, parentImageLen, sidLen, cwdLen;
} ProcFacts;
#define KAWIN_EMU_MAX_PROCESSES 1024u /* tracked processes; the oldest entry is replaced beyond */
void proc_define(const ProcIn *p);
void proc_facts(uint32_t pid, ProcFacts *out); /* zeroes when pid is unknown */
void proc_facts_free(ProcFacts *f);

/* loadgen.c */
uint32_t loadgen_start(uint64_t count, uint64_t rate, int wait);

#endif
