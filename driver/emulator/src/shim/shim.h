/*
 * Internals of the Win32 shim (libkawin_emu.so): the handle table and the request helper
 * that forwards a call to the emulated kernel over its device socket.
 */
#ifndef KAWIN_SHIM_H
#define KAWIN_SHIM_H

#include <pthread.h>
#include <stdint.h>

#include "../../../abi/kawin_abi.h"
#include "../common/wire.h"

#define KW_EXPORT __attribute__((visibility("default")))

typedef void *HANDLE;
typedef uint32_t DWORD;
typedef int32_t BOOL;
typedef int32_t HRESULT;
typedef uint16_t WORD;
typedef uint16_t WCHAR;
#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)
#define S_OK 0
#define E_INVALIDARG ((HRESULT)0x80070057u)
#define HR(e) ((HRESULT)KAWIN_HRESULT_FROM_WIN32(e))
#define KW_ERROR_NOT_FOUND 1168u

enum { H_DEVICE = 1, H_PORT = 2 };

typedef struct Handle {
    uintptr_t value;
    int kind, fd, refs;
    int closed, dead, getPending; /* guarded by state */
    int cancel[2];                /* port: CancelIoEx/CloseHandle wake the blocked getter */
    uint32_t tag;
    pthread_mutex_t call;  /* one request (device) or one getter (port) at a time */
    pthread_mutex_t state;
    uint8_t *stash;        /* port: a message that arrived for a cancelled or too-small read */
    uint32_t stashLen;
} Handle;

void shim_set_error(uint32_t e);
Handle *handle_new(int kind, int fd);          /* registered, one reference for the table */
Handle *handle_get(HANDLE h, int kind);        /* kind 0: any; NULL when unknown */
void handle_put(Handle *h);
Handle *handle_unregister(HANDLE h);           /* removes from the table; caller owns that reference */

/* Connects to a unix socket path. Returns fd, or -1 with *win32 set (2 absent/refused, 5 denied). */
int shim_connect(const char *path, uint32_t *win32);
/* Converts a UTF-16 name to a socket path (\\.\X and \X resolve under $KAWIN_EMU_DIR). malloc'ed. */
char *shim_name_to_path(const uint16_t *name);
/* One request/answer on fd: 0 and the kernel's error/answer (malloc'ed base in *payload),
 * or -1 when the connection failed. */
int shim_call(int fd, uint16_t type, const void *a, uint32_t alen, const void *b, uint32_t blen,
              uint32_t *err, uint8_t **payload, const uint8_t **data, uint32_t *dataLen);
void shim_remember_device(const char *path);
char *shim_last_device(void);

#endif
