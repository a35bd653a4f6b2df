/*
 * kawin driver ABI, version 2: the one contract between the kernel minifilter (or the
 * Linux emulator) and the user-mode agent. The TypeScript codec (driver/abi/codec.ts)
 * mirrors this file byte for byte; driver/abi/layout.test.ts proves it against the
 * layout table the emulator exports.
 *
 * Wire rules: little-endian; every input and message starts with a versioned, self-sized
 * header; every record is 8-byte aligned and carries its own size (Size is a multiple of
 * 8, so a reader can skip records it does not understand); strings are UTF-16LE with
 * explicit byte lengths and no terminator, packed after the fixed part of their record
 * in the order the length fields are declared, and the record is zero-padded to 8.
 */
#ifndef KAWIN_ABI_H
#define KAWIN_ABI_H

#include <stdint.h>

#define KAWIN_ABI_VERSION 2u /* 2: KAWIN_EVENT carries the acting process's parent, session and
                                current directory, and the new process of a creation */

/* ---- names ---- */
#define KAWIN_DEVICE_NAME_W L"\\\\.\\Karmor"
#define KAWIN_PORT_NAME_W L"\\KarmorPort"
#define KAWIN_DEVICE_TYPE 0x8022u

/* ---- IOCTLs: CTL_CODE(type, func, METHOD_BUFFERED, access) ---- */
#define KAWIN_METHOD_BUFFERED 0u
#define KAWIN_FILE_READ_DATA 1u
#define KAWIN_FILE_WRITE_DATA 2u
#define KAWIN_CTL_CODE(func, access) \
    ((KAWIN_DEVICE_TYPE << 16) | ((access) << 14) | ((func) << 2) | KAWIN_METHOD_BUFFERED)
#define IOCTL_KAWIN_ADD_RULES KAWIN_CTL_CODE(0x800u, KAWIN_FILE_WRITE_DATA)    /* 0x8022A000 */
#define IOCTL_KAWIN_REMOVE_RULES KAWIN_CTL_CODE(0x801u, KAWIN_FILE_WRITE_DATA) /* 0x8022A004 */
#define IOCTL_KAWIN_LIST_RULES KAWIN_CTL_CODE(0x802u, KAWIN_FILE_READ_DATA)    /* 0x80226008 */
#define IOCTL_KAWIN_GET_STATE KAWIN_CTL_CODE(0x803u, KAWIN_FILE_READ_DATA)     /* 0x8022600C */
#define IOCTL_KAWIN_SET_CONFIG KAWIN_CTL_CODE(0x804u, KAWIN_FILE_WRITE_DATA)   /* 0x8022A010 */
#define IOCTL_KAWIN_APPLY KAWIN_CTL_CODE(0x805u, KAWIN_FILE_WRITE_DATA)        /* 0x8022A014 */

/* ---- limits (named, documented in docs/driver.md; exceeding one is an error, never a silent cut) ---- */
#define KAWIN_MAX_RULES 1048576u          /* rules in the table; beyond: ERROR_NOT_ENOUGH_QUOTA */
#define KAWIN_MAX_IOCTL_INPUT (64u << 20) /* bytes of one IOCTL input; beyond: ERROR_INVALID_PARAMETER */
#define KAWIN_MAX_PATH_BYTES 65534u       /* UTF-16 bytes of one path (32767 characters) */
#define KAWIN_MAX_MESSAGE_BYTES 65536u    /* one port message incl. FILTER_MESSAGE_HEADER; readers supply at least this */
#define KAWIN_DEFAULT_RING_CAPACITY 8192u /* event records the driver buffers; drop-oldest beyond, counted */

/* ---- enums ---- */
enum KAWIN_FLAVOR { KAWIN_FLAVOR_WINDOWS = 1, KAWIN_FLAVOR_POSIX = 2 };
enum KAWIN_RULE_KIND {
    KAWIN_KIND_PROCESS = 1, /* process execution: target = new image */
    KAWIN_KIND_FILE = 2,    /* file open: target = file */
    KAWIN_KIND_REGISTRY = 3,/* reserved */
    KAWIN_KIND_NETWORK = 4  /* reserved */
};
enum KAWIN_MATCH_TYPE {
    KAWIN_MATCH_NONE = 0,      /* only for SourceMatchType: no fromSource */
    KAWIN_MATCH_EXACT = 1,     /* the path itself */
    KAWIN_MATCH_DIRECTORY = 2, /* files directly in the directory (path ends with a separator) */
    KAWIN_MATCH_RECURSIVE = 3, /* everything below the directory */
    KAWIN_MATCH_GLOB = 4       /* '*' within a segment, '**' across segments, '?' one character */
};
enum KAWIN_ACTION { KAWIN_ACTION_ALLOW = 1, KAWIN_ACTION_AUDIT = 2, KAWIN_ACTION_BLOCK = 3 };
enum KAWIN_POSTURE { KAWIN_POSTURE_AUDIT = 1, KAWIN_POSTURE_BLOCK = 2 };
enum KAWIN_DECISION {
    KAWIN_DECISION_ALLOW = 1,         /* matched Allow rule, or no rule (RuleId 0) */
    KAWIN_DECISION_AUDIT = 2,         /* matched Audit rule: allowed and reported */
    KAWIN_DECISION_BLOCK = 3,         /* matched Block rule: STATUS_ACCESS_DENIED */
    KAWIN_DECISION_POSTURE_AUDIT = 4, /* outside an active allow-list, audit posture */
    KAWIN_DECISION_POSTURE_BLOCK = 5  /* outside an active allow-list, block posture */
};
enum KAWIN_EVENT_TYPE {
    KAWIN_EVENT_PROCESS_CREATE = 1,
    KAWIN_EVENT_PROCESS_EXIT = 2,
    KAWIN_EVENT_FILE_OPEN = 3,
    KAWIN_EVENT_IMAGE_LOAD = 4, /* reserved */
    KAWIN_EVENT_REGISTRY = 5    /* reserved */
};

/* rule flags */
#define KAWIN_RULE_READ_ONLY 0x1u /* Block/Audit: writes only; Allow: reads only */
/* header flags */
#define KAWIN_LIST_MORE 0x1u     /* LIST_RULES response: more records after NextCursor */
/* config flags */
#define KAWIN_CONFIG_CASE_FOLD 0x1u /* case-insensitive matching (always on for the windows flavour) */
/* event mask: what is reported besides Block/Audit/posture decisions (always reported) */
#define KAWIN_REPORT_ALLOW_MATCHES 0x1u   /* operations allowed by a matching Allow rule */
#define KAWIN_REPORT_UNMATCHED_PROCESS 0x2u /* process creations no rule matched (host telemetry) */
#define KAWIN_REPORT_UNMATCHED_FILE 0x4u  /* file opens no rule matched (host telemetry) */
#define KAWIN_REPORT_PROCESS_EXIT 0x8u    /* process exits */

/* desired-access bits (Windows ACCESS_MASK); a "write" is any of KAWIN_WRITE_ACCESS */
#define KAWIN_ACCESS_READ_DATA 0x00000001u
#define KAWIN_ACCESS_WRITE_DATA 0x00000002u
#define KAWIN_ACCESS_APPEND_DATA 0x00000004u
#define KAWIN_ACCESS_WRITE_EA 0x00000010u
#define KAWIN_ACCESS_EXECUTE 0x00000020u
#define KAWIN_ACCESS_WRITE_ATTRIBUTES 0x00000100u
#define KAWIN_ACCESS_DELETE 0x00010000u
#define KAWIN_ACCESS_WRITE_DAC 0x00040000u
#define KAWIN_ACCESS_WRITE_OWNER 0x00080000u
#define KAWIN_ACCESS_GENERIC_ALL 0x10000000u
#define KAWIN_ACCESS_GENERIC_WRITE 0x40000000u
#define KAWIN_WRITE_ACCESS                                                                 \
    (KAWIN_ACCESS_WRITE_DATA | KAWIN_ACCESS_APPEND_DATA | KAWIN_ACCESS_WRITE_EA |          \
     KAWIN_ACCESS_WRITE_ATTRIBUTES | KAWIN_ACCESS_DELETE | KAWIN_ACCESS_WRITE_DAC |        \
     KAWIN_ACCESS_WRITE_OWNER | KAWIN_ACCESS_GENERIC_ALL | KAWIN_ACCESS_GENERIC_WRITE)

/* NTSTATUS values the driver returns to callers and reports in events */
#define KAWIN_STATUS_SUCCESS 0x00000000u
#define KAWIN_STATUS_ACCESS_DENIED 0xC0000022u
/* generation conflict: the driver completes APPLY with STATUS_REVISION_MISMATCH,
 * which Win32 reports as ERROR_REVISION_MISMATCH (1306) */
#define KAWIN_STATUS_REVISION_MISMATCH 0xC0000059u

/* Win32 errors (GetLastError) and HRESULTs (filter port calls) the client maps */
#define KAWIN_ERROR_FILE_NOT_FOUND 2u          /* device absent: driver not loaded */
#define KAWIN_ERROR_ACCESS_DENIED 5u           /* not elevated */
#define KAWIN_ERROR_INVALID_HANDLE 6u          /* port disconnected / handle closed */
#define KAWIN_ERROR_INVALID_FUNCTION 1u        /* unknown IOCTL */
#define KAWIN_ERROR_INVALID_PARAMETER 87u      /* malformed request */
#define KAWIN_ERROR_INSUFFICIENT_BUFFER 122u   /* output buffer too small for any answer */
#define KAWIN_ERROR_MORE_DATA 234u             /* partial answer; grow the buffer */
#define KAWIN_ERROR_OPERATION_ABORTED 995u     /* blocking call cancelled (CancelIoEx/CloseHandle) */
#define KAWIN_ERROR_REVISION_MISMATCH 1306u    /* APPLY generation conflict */
#define KAWIN_ERROR_CONNECTION_COUNT_LIMIT 1238u /* second port connection (HRESULT 0x800704D6) */
#define KAWIN_ERROR_NOT_ENOUGH_QUOTA 1816u     /* KAWIN_MAX_RULES reached */
#define KAWIN_ERROR_GEN_FAILURE 31u            /* device not functioning (injected faults default) */
#define KAWIN_HRESULT_FROM_WIN32(e) ((uint32_t)(((e) & 0x0000FFFFu) | 0x80070000u))

#pragma pack(push, 8)

/* Every IOCTL input starts with this header. */
typedef struct KAWIN_HEADER {
    uint16_t Version;   /* KAWIN_ABI_VERSION */
    uint16_t Size;      /* sizeof(KAWIN_HEADER) */
    uint32_t Flags;
    uint32_t Count;     /* records that follow */
    uint32_t TotalSize; /* bytes of the whole input, header included */
} KAWIN_HEADER;         /* 16 bytes */

/* One rule; followed by Path then SourcePath (UTF-16LE), zero-padded to 8. */
typedef struct KAWIN_RULE {
    uint32_t Size;           /* whole record, multiple of 8 */
    uint8_t Kind;            /* KAWIN_RULE_KIND */
    uint8_t MatchType;       /* KAWIN_MATCH_TYPE (not NONE) */
    uint8_t Action;          /* KAWIN_ACTION */
    uint8_t SourceMatchType; /* KAWIN_MATCH_NONE when there is no fromSource */
    uint64_t Id;             /* nonzero; 0 means "no rule" (default posture) */
    uint32_t Flags;          /* KAWIN_RULE_* */
    uint16_t PathBytes;
    uint16_t SourcePathBytes;
} KAWIN_RULE; /* 24 bytes + strings */

/* ADD_RULES input: KAWIN_HEADER (Count = rules) + Count KAWIN_RULE records.
 *   An id already present is replaced (upsert).
 * REMOVE_RULES input: KAWIN_HEADER (Count = ids) + Count uint64_t ids. Absent ids are
 *   counted in Missing, not an error.
 * Both answer KAWIN_APPLY_RESULT when the output buffer is large enough. */

/* APPLY input: this header, then RemoveCount uint64_t ids, then AddCount KAWIN_RULE
 * records. All or nothing: on any error nothing changes. Header.Count = RemoveCount +
 * AddCount. ExpectedGeneration must equal the current generation, else
 * STATUS_REVISION_MISMATCH (ERROR_REVISION_MISMATCH) and nothing changes. */
typedef struct KAWIN_APPLY_REQUEST {
    KAWIN_HEADER Header;
    uint64_t ExpectedGeneration;
    uint32_t RemoveCount;
    uint32_t AddCount;
} KAWIN_APPLY_REQUEST; /* 32 bytes */

/* Output of ADD_RULES, REMOVE_RULES and APPLY. Every successful write that changes the
 * table bumps the generation by exactly one; a write that changes nothing keeps it. */
typedef struct KAWIN_APPLY_RESULT {
    uint64_t Generation; /* generation after the call */
    uint32_t Added;      /* new ids */
    uint32_t Replaced;   /* existing ids whose content changed */
    uint32_t Removed;
    uint32_t Missing;    /* removals of ids that were not present */
} KAWIN_APPLY_RESULT; /* 24 bytes */

/* LIST_RULES input: records with Id > Cursor in ascending id order (start with 0). */
typedef struct KAWIN_LIST_REQUEST {
    KAWIN_HEADER Header; /* Count = 0 */
    uint64_t Cursor;
} KAWIN_LIST_REQUEST; /* 24 bytes */

/* LIST_RULES output: this header, then Header.Count KAWIN_RULE records.
 * - output buffer smaller than this header: ERROR_INSUFFICIENT_BUFFER, nothing returned;
 * - room for the header but not the next record: ERROR_MORE_DATA with this header
 *   (Count 0, RequiredSize = bytes needed for header + next record);
 * - otherwise success with as many records as fit; Header.Flags has KAWIN_LIST_MORE
 *   when records remain, and NextCursor continues the listing. Generation lets the
 *   reader detect a table that changed between pages. */
typedef struct KAWIN_LIST_RESPONSE {
    KAWIN_HEADER Header; /* TotalSize = bytes returned */
    uint64_t Generation;
    uint64_t NextCursor; /* Id of the last record returned */
    uint32_t TotalRules;
    uint32_t RequiredSize;
} KAWIN_LIST_RESPONSE; /* 40 bytes */

/* SET_CONFIG input (after a KAWIN_HEADER with Count = 1) and part of GET_STATE. */
typedef struct KAWIN_CONFIG {
    uint32_t Flags;           /* KAWIN_CONFIG_* */
    uint32_t EventMask;       /* KAWIN_REPORT_* */
    uint8_t ProcessPosture;   /* KAWIN_POSTURE */
    uint8_t FilePosture;
    uint8_t NetworkPosture;
    uint8_t RegistryPosture;
    uint32_t Reserved;
} KAWIN_CONFIG; /* 16 bytes */

typedef struct KAWIN_SET_CONFIG_REQUEST {
    KAWIN_HEADER Header;
    KAWIN_CONFIG Config;
} KAWIN_SET_CONFIG_REQUEST; /* 32 bytes */

/* GET_STATE output (input: none, or a KAWIN_HEADER). */
typedef struct KAWIN_STATE {
    uint16_t Version;  /* KAWIN_ABI_VERSION */
    uint16_t Size;     /* sizeof(KAWIN_STATE) */
    uint32_t Flavor;   /* KAWIN_FLAVOR */
    uint64_t Generation;
    uint32_t RuleCount;
    uint32_t PortConnected;
    uint64_t EventsEmitted; /* records produced since load */
    uint64_t EventsDropped; /* records lost to a full ring since load */
    uint32_t RingCapacity;
    uint32_t RingUsed;
    KAWIN_CONFIG Config;
} KAWIN_STATE; /* 64 bytes */

/* ---- event port ---- */
typedef struct KAWIN_FILTER_MESSAGE_HEADER { /* FILTER_MESSAGE_HEADER of fltuser.h */
    uint32_t ReplyLength; /* 0: telemetry needs no reply */
    uint32_t Padding;
    uint64_t MessageId;
} KAWIN_FILTER_MESSAGE_HEADER; /* 16 bytes */

typedef struct KAWIN_FILTER_REPLY_HEADER { /* FILTER_REPLY_HEADER of fltuser.h */
    int32_t Status;
    uint32_t Padding;
    uint64_t MessageId;
} KAWIN_FILTER_REPLY_HEADER; /* 16 bytes */

/* A message = KAWIN_FILTER_MESSAGE_HEADER + KAWIN_EVENT_BATCH + RecordCount records. */
typedef struct KAWIN_EVENT_BATCH {
    uint16_t Version;    /* KAWIN_ABI_VERSION */
    uint16_t Size;       /* sizeof(KAWIN_EVENT_BATCH) */
    uint32_t RecordCount;
    uint32_t TotalSize;  /* batch header + records, bytes */
    uint32_t Flags;
    uint64_t Dropped;       /* records dropped since the previous message */
    uint64_t FirstSequence; /* driver-wide sequence number of the first record (from 1) */
} KAWIN_EVENT_BATCH; /* 32 bytes */

/* One event; followed by TargetPath, ImagePath, ParentImagePath, CommandLine, UserSid,
 * CurrentDirectory (UTF-16LE, in that order). The "acting process" is the one that did the
 * operation: the opener of a file, the creator of a new process, the process that exits.
 * Everything about it comes from the driver's own process tracking (create-process
 * notifications, and the process parameters read in the acting thread's context). */
typedef struct KAWIN_EVENT {
    uint32_t Size;       /* whole record, multiple of 8 */
    uint16_t Type;       /* KAWIN_EVENT_TYPE */
    uint8_t Decision;    /* KAWIN_DECISION */
    uint8_t Reserved0;
    uint64_t Time;       /* FILETIME: 100 ns ticks since 1601-01-01 UTC */
    uint64_t RuleId;     /* 0 when no rule matched (default posture or telemetry) */
    uint32_t ProcessId;  /* the acting process */
    uint32_t ParentProcessId; /* the acting process's parent (0 when unknown) */
    uint32_t ThreadId;   /* the acting thread */
    uint32_t Status;     /* NTSTATUS returned to the caller */
    uint32_t DesiredAccess;
    uint32_t SessionId;  /* the acting process's session (0: services) */
    uint32_t NewProcessId; /* process create: the new process, 0 when the creation was blocked; else 0 */
    uint16_t TargetPathBytes;       /* NT path of the file / new image */
    uint16_t ImagePathBytes;        /* NT path of the acting process's image */
    uint16_t ParentImagePathBytes;  /* NT path of its parent's image (empty when unknown or exited) */
    uint16_t CommandLineBytes;      /* process create: the new process's command line; else empty */
    uint16_t UserSidBytes;          /* the acting process's user, string SID, e.g. S-1-5-18 */
    uint16_t CurrentDirectoryBytes; /* the acting process's current directory (DOS form, as its
                                       process parameters hold it; empty when unknown) */
} KAWIN_EVENT; /* 64 bytes + strings */

#pragma pack(pop)

#endif /* KAWIN_ABI_H */
