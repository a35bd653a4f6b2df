/*
 * The private wire protocol between the Win32 shim (libkawin_emu.so) and the emulated
 * kernel (kawin-driverd) over its two unix sockets. Not part of the driver contract:
 * only these two programs speak it, and they are always built together.
 *
 * Every message is a 16-byte KW_MSG header followed by Length payload bytes. A peer that
 * sees a wrong magic or an oversized Length answers an error and closes the connection;
 * nothing it receives can make it crash.
 */
#ifndef KAWIN_WIRE_H
#define KAWIN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define KW_MAGIC 0x3145574Bu /* "KWE1": protocol version 1 */
#define KW_MAX_PAYLOAD ((64u << 20) + 4096u) /* KAWIN_MAX_IOCTL_INPUT + request fields */

typedef struct KW_MSG {
    uint32_t Magic;
    uint16_t Type;
    uint16_t Flags;
    uint32_t Length; /* payload bytes after this header */
    uint32_t Tag;    /* echoed in the answer */
} KW_MSG;

enum KW_TYPE {
    /* device socket: shim -> kernel; every request gets one KW_RESP */
    KW_REQ_IOCTL = 1,     /* u32 code, u32 outSize, input bytes */
    KW_REQ_SIM_FILE = 2,  /* u32 pid, u32 access, str path, str image */
    KW_REQ_SIM_PROC = 3,  /* u32 ppid, str image, str parentImage, str cmdline */
    KW_REQ_LOAD = 4,      /* u64 count, u64 rate, u32 wait */
    KW_REQ_FAULT = 5,     /* u32 code, u32 count, u32 error */
    KW_REQ_DROP_PORT = 6,
    KW_REQ_RELOAD = 7,
    KW_REQ_RESET = 8,
    KW_REQ_BENCH = 9,     /* u32 access, u64 iterations, str path, str image */
    KW_REQ_SHUTDOWN = 10,
    KW_REQ_DRIVES = 11,   /* answer: u32 n, n x (str name, str target) */
    KW_REQ_MOUNT = 12,
    KW_REQ_TABLE_CHANGED = 14, /* answer: u64 generation, u64 CLOCK_MONOTONIC ns of its change (0: never) */
    KW_REQ_PROCESS = 13,  /* u32 pid, u32 ppid, u32 session, str image, str sid, str cwd */    /* str "Q:=\\Device\\HarddiskVolume9" */
    KW_RESP = 0x80,       /* u32 win32 error, u32 reserved, answer bytes */
    /* port socket */
    KW_PORT_HELLO = 0x20,  /* kernel -> shim on connect: u32 HRESULT (0 = connected) */
    KW_PORT_GET = 0x21,    /* shim -> kernel: u32 buffer size */
    KW_PORT_CANCEL = 0x22, /* shim -> kernel: cancel the pending GET; answered by CANCEL_ACK */
    KW_PORT_MESSAGE = 0x23,/* kernel -> shim: FILTER_MESSAGE_HEADER + batch */
    KW_PORT_ERROR = 0x24,  /* kernel -> shim: u32 HRESULT (answer to GET) */
    KW_PORT_CANCEL_ACK = 0x25
};

/* Strings inside payloads: u32 byte length + UTF-8 bytes (no terminator). */

int kw_send_all(int fd, const void *buf, size_t len);
int kw_recv_all(int fd, void *buf, size_t len); /* 0 ok, -1 error or EOF */
int kw_send_msg(int fd, uint16_t type, uint32_t tag, const void *payload, uint32_t len);
int kw_send_msg2(int fd, uint16_t type, uint32_t tag, const void *a, uint32_t alen, const void *b, uint32_t blen);
/* Reads one message; *payload is malloc'ed (NULL when Length is 0). Returns 0, or -1 on
 * EOF/IO error, -2 on a bad header (wrong magic or Length above maxLen). */
int kw_recv_msg(int fd, KW_MSG *hdr, uint8_t **payload, uint32_t maxLen);

/* Bounds-checked reader over a payload. */
typedef struct KW_READER {
    const uint8_t *p;
    const uint8_t *end;
    int ok;
} KW_READER;
void kw_reader_init(KW_READER *r, const void *p, size_t len);
uint32_t kw_rd_u32(KW_READER *r);
uint64_t kw_rd_u64(KW_READER *r);
const char *kw_rd_str(KW_READER *r, uint32_t *len); /* pointer into the payload, not terminated */

/* Growable writer. */
typedef struct KW_WRITER {
    uint8_t *buf;
    size_t len, cap;
    int ok;
} KW_WRITER;
void kw_wr_bytes(KW_WRITER *w, const void *p, size_t len);
void kw_wr_u32(KW_WRITER *w, uint32_t v);
void kw_wr_u64(KW_WRITER *w, uint64_t v);
void kw_wr_str(KW_WRITER *w, const char *s); /* NULL writes an empty string */

/* UTF-8 <-> UTF-16LE. Both return the number of units written (excluding any terminator),
 * or -1 on invalid input or when the output does not fit. */
long kw_utf8_to_utf16(const char *s, size_t len, uint16_t *out, size_t outCap);
long kw_utf16_to_utf8(const uint16_t *s, size_t len, char *out, size_t outCap);
size_t kw_wcslen(const uint16_t *s);

#endif
