/*
 * A small harness for the emulator's C tests: checks that count instead of aborting,
 * daemons started in temp directories (the sanitized build), and helpers that speak the
 * driver ABI through the shim's Win32 exports exactly as the agent does.
 */
#ifndef KAWIN_TEST_HARNESS_H
#define KAWIN_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../../abi/kawin_abi.h"
#include "../include/kawin_emu.h"
#include "../src/common/wire.h"

typedef void *HANDLE;
typedef int32_t HRESULT;
#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)

/* the shim's exports */
HANDLE CreateFileW(const uint16_t *, uint32_t, uint32_t, void *, uint32_t, uint32_t, HANDLE);
int32_t DeviceIoControl(HANDLE, uint32_t, void *, uint32_t, void *, uint32_t, uint32_t *, void *);
int32_t CloseHandle(HANDLE);
int32_t CancelIoEx(HANDLE, void *);
uint32_t GetLastError(void);
HRESULT FilterConnectCommunicationPort(const uint16_t *, uint32_t, const void *, uint16_t, void *, HANDLE *);
HRESULT FilterGetMessage(HANDLE, void *, uint32_t, void *);
HRESULT FilterReplyMessage(HANDLE, void *, uint32_t);
uint32_t QueryDosDeviceW(const uint16_t *, uint16_t *, uint32_t);

extern int g_failed, g_checks;
extern const char *g_daemon_bin;
extern const char *g_test;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        g_checks++;                                                                        \
        if (!(cond)) {                                                                     \
            g_failed++;                                                                    \
            fprintf(stderr, "  FAIL %s (%s:%d): %s: ", g_test, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)
#define CHECK_EQ(a, b) CHECK((uint64_t)(a) == (uint64_t)(b), "%s = %llu (0x%llx), expected %llu (0x%llx)", #a, \
                             (unsigned long long)(a), (unsigned long long)(a), (unsigned long long)(b), (unsigned long long)(b))

typedef struct Daemon {
    pid_t pid;
    char dir[128], dev[160], port[160];
    uint16_t wdev[160], wport[160];
} Daemon;

/* Starts kawin-driverd --dir <new temp dir> <args...> (NULL-terminated) and waits until it accepts. */
int daemon_start(Daemon *d, const char *const *args);
void daemon_stop(Daemon *d);
int run_daemon_cmd(const char *const *argv); /* runs to completion, returns the exit status */

void to16(const char *s, uint16_t *out, size_t cap);
HANDLE open_device(const Daemon *d);
HANDLE open_port(const Daemon *d);

/* Win32 error of one IOCTL (0 on success). */
uint32_t ioctl_call(HANDLE h, uint32_t code, const void *in, uint32_t inLen, void *out, uint32_t outLen, uint32_t *bytes);

typedef struct RuleSpec {
    uint64_t id;
    uint8_t kind, match, action, srcMatch;
    uint32_t flags;
    const char *path, *src;
} RuleSpec;

void put_rule(KW_WRITER *w, const RuleSpec *r);
void begin_header(KW_WRITER *w, uint32_t count);
void finish_header(KW_WRITER *w); /* TotalSize = length */
uint32_t add_rules(HANDLE h, const RuleSpec *rules, uint32_t n, KAWIN_APPLY_RESULT *res);
uint32_t remove_rules(HANDLE h, const uint64_t *ids, uint32_t n, KAWIN_APPLY_RESULT *res);
uint32_t apply_rules(HANDLE h, uint64_t expected, const uint64_t *rem, uint32_t nrem, const RuleSpec *adds, uint32_t nadd,
                     KAWIN_APPLY_RESULT *res);
KAWIN_STATE get_state(HANDLE h);
uint32_t set_config(HANDLE h, uint32_t flags, uint32_t mask, uint8_t processPosture, uint8_t filePosture);
/* Lists the whole table into ids (cap entries); returns the count or -1 on error. */
long list_all(HANDLE h, uint64_t *ids, uint32_t cap, uint32_t bufSize, uint64_t *generation);

typedef struct Batch {
    HRESULT hr;
    KAWIN_EVENT_BATCH b;
    uint32_t count;
    uint8_t msg[KAWIN_MAX_MESSAGE_BYTES];
} Batch;
HRESULT read_batch(HANDLE port, Batch *out, uint32_t size);
/* i-th record of a batch (NULL past the end); strings decoded to UTF-8 into the given buffers. */
const KAWIN_EVENT *batch_record(const Batch *b, uint32_t i, char *target, char *image, char *cmd, char *sid);
/* The parent image and current directory of record i (UTF-8). */
void batch_process(const Batch *b, uint32_t i, char *parentImage, char *cwd);

/* Starts a named test case (ending the previous one); the summary counts cases. */
void T(const char *name);

double now_s(void);
void sleep_ms(int ms);

/* test groups */
void test_ioctls(void);
void test_decisions(void);
void test_events(void);
void test_port(void);
void test_daemon(void);
void test_concurrency(void);

#endif
