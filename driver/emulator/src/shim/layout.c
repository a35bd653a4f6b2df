/* KawinEmu_GetLayout: sizes and field offsets of every struct of kawin_abi.h (and the
 * emulator's KAWIN_EMU_DECISION), plus the IOCTL codes and constants, as JSON, so the
 * TypeScript codec can be proved byte-compatible with the C header. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../../include/kawin_emu.h"
#include "shim.h"

typedef struct Field {
    const char *name;
    size_t offset;
} Field;

typedef struct StructInfo {
    const char *name;
    size_t size;
    const Field *fields;
    size_t n;
} StructInfo;

#define F(s, f) {#f, offsetof(s, f)}
#define S(s, arr) {#s, sizeof(s), arr, sizeof arr / sizeof arr[0]}

static const Field header[] = {F(KAWIN_HEADER, Version), F(KAWIN_HEADER, Size), F(KAWIN_HEADER, Flags),
                               F(KAWIN_HEADER, Count), F(KAWIN_HEADER, TotalSize)};
static const Field rule[] = {F(KAWIN_RULE, Size), F(KAWIN_RULE, Kind), F(KAWIN_RULE, MatchType),
                             F(KAWIN_RULE, Action), F(KAWIN_RULE, SourceMatchType), F(KAWIN_RULE, Id),
                             F(KAWIN_RULE, Flags), F(KAWIN_RULE, PathBytes), F(KAWIN_RULE, SourcePathBytes)};
static const Field applyReq[] = {F(KAWIN_APPLY_REQUEST, Header), F(KAWIN_APPLY_REQUEST, ExpectedGeneration),
                                 F(KAWIN_APPLY_REQUEST, RemoveCount), F(KAWIN_APPLY_REQUEST, AddCount)};
static const Field applyRes[] = {F(KAWIN_APPLY_RESULT, Generation), F(KAWIN_APPLY_RESULT, Added),
                                 F(KAWIN_APPLY_RESULT, Replaced), F(KAWIN_APPLY_RESULT, Removed),
                                 F(KAWIN_APPLY_RESULT, Missing)};
static const Field listReq[] = {F(KAWIN_LIST_REQUEST, Header), F(KAWIN_LIST_REQUEST, Cursor)};
static const Field listResp[] = {F(KAWIN_LIST_RESPONSE, Header), F(KAWIN_LIST_RESPONSE, Generation),
                                 F(KAWIN_LIST_RESPONSE, NextCursor), F(KAWIN_LIST_RESPONSE, TotalRules),
                                 F(KAWIN_LIST_RESPONSE, RequiredSize)};
static const Field config[] = {F(KAWIN_CONFIG, Flags), F(KAWIN_CONFIG, EventMask), F(KAWIN_CONFIG, ProcessPosture),
                               F(KAWIN_CONFIG, FilePosture), F(KAWIN_CONFIG, NetworkPosture),
                               F(KAWIN_CONFIG, RegistryPosture), F(KAWIN_CONFIG, Reserved)};
static const Field setConfig[] = {F(KAWIN_SET_CONFIG_REQUEST, Header), F(KAWIN_SET_CONFIG_REQUEST, Config)};
static const Field state[] = {F(KAWIN_STATE, Version), F(KAWIN_STATE, Size), F(KAWIN_STATE, Flavor),
                              F(KAWIN_STATE, Generation), F(KAWIN_STATE, RuleCount), F(KAWIN_STATE, PortConnected),
                              F(KAWIN_STATE, EventsEmitted), F(KAWIN_STATE, EventsDropped),
                              F(KAWIN_STATE, RingCapacity), F(KAWIN_STATE, RingUsed), F(KAWIN_STATE, Config)};
static const Field msgHeader[] = {F(KAWIN_FILTER_MESSAGE_HEADER, ReplyLength), F(KAWIN_FILTER_MESSAGE_HEADER, Padding),
                                  F(KAWIN_FILTER_MESSAGE_HEADER, MessageId)};
static const Field replyHeader[] = {F(KAWIN_FILTER_REPLY_HEADER, Status), F(KAWIN_FILTER_REPLY_HEADER, Padding),
                                    F(KAWIN_FILTER_REPLY_HEADER, MessageId)};
static const Field batch[] = {F(KAWIN_EVENT_BATCH, Version), F(KAWIN_EVENT_BATCH, Size),
                              F(KAWIN_EVENT_BATCH, RecordCount), F(KAWIN_EVENT_BATCH, TotalSize),
                              F(KAWIN_EVENT_BATCH, Flags), F(KAWIN_EVENT_BATCH, Dropped),
                              F(KAWIN_EVENT_BATCH, FirstSequence)};
static const Field event[] = {F(KAWIN_EVENT, Size), F(KAWIN_EVENT, Type), F(KAWIN_EVENT, Decision),
                              F(KAWIN_EVENT, Reserved0), F(KAWIN_EVENT, Time), F(KAWIN_EVENT, RuleId),
                              F(KAWIN_EVENT, ProcessId), F(KAWIN_EVENT, ParentProcessId), F(KAWIN_EVENT, ThreadId),
                              F(KAWIN_EVENT, Status), F(KAWIN_EVENT, DesiredAccess), F(KAWIN_EVENT, SessionId),
                              F(KAWIN_EVENT, NewProcessId), F(KAWIN_EVENT, TargetPathBytes),
                              F(KAWIN_EVENT, ImagePathBytes), F(KAWIN_EVENT, ParentImagePathBytes),
                              F(KAWIN_EVENT, CommandLineBytes), F(KAWIN_EVENT, UserSidBytes),
                              F(KAWIN_EVENT, CurrentDirectoryBytes)};
static const Field decision[] = {F(KAWIN_EMU_DECISION, Decision), F(KAWIN_EMU_DECISION, Status),
                                 F(KAWIN_EMU_DECISION, RuleId), F(KAWIN_EMU_DECISION, ProcessId),
                                 F(KAWIN_EMU_DECISION, Reserved)};

static const StructInfo structs[] = {
    S(KAWIN_HEADER, header), S(KAWIN_RULE, rule), S(KAWIN_APPLY_REQUEST, applyReq), S(KAWIN_APPLY_RESULT, applyRes),
    S(KAWIN_LIST_REQUEST, listReq), S(KAWIN_LIST_RESPONSE, listResp), S(KAWIN_CONFIG, config),
    S(KAWIN_SET_CONFIG_REQUEST, setConfig), S(KAWIN_STATE, state), S(KAWIN_FILTER_MESSAGE_HEADER, msgHeader),
    S(KAWIN_FILTER_REPLY_HEADER, replyHeader), S(KAWIN_EVENT_BATCH, batch), S(KAWIN_EVENT, event),
    S(KAWIN_EMU_DECISION, decision),
};

#define C(x) {#x, (unsigned long long)(x)}
static const struct {
    const char *name;
    unsigned long long value;
} constants[] = {
    C(KAWIN_ABI_VERSION), C(KAWIN_DEVICE_TYPE), C(IOCTL_KAWIN_ADD_RULES), C(IOCTL_KAWIN_REMOVE_RULES),
    C(IOCTL_KAWIN_LIST_RULES), C(IOCTL_KAWIN_GET_STATE), C(IOCTL_KAWIN_SET_CONFIG), C(IOCTL_KAWIN_APPLY),
    C(KAWIN_MAX_RULES), C(KAWIN_MAX_IOCTL_INPUT), C(KAWIN_MAX_PATH_BYTES), C(KAWIN_MAX_MESSAGE_BYTES),
    C(KAWIN_DEFAULT_RING_CAPACITY), C(KAWIN_FLAVOR_WINDOWS), C(KAWIN_FLAVOR_POSIX), C(KAWIN_KIND_PROCESS),
    C(KAWIN_KIND_FILE), C(KAWIN_KIND_REGISTRY), C(KAWIN_KIND_NETWORK), C(KAWIN_MATCH_NONE), C(KAWIN_MATCH_EXACT),
    C(KAWIN_MATCH_DIRECTORY), C(KAWIN_MATCH_RECURSIVE), C(KAWIN_MATCH_GLOB), C(KAWIN_ACTION_ALLOW),
    C(KAWIN_ACTION_AUDIT), C(KAWIN_ACTION_BLOCK), C(KAWIN_POSTURE_AUDIT), C(KAWIN_POSTURE_BLOCK),
    C(KAWIN_DECISION_ALLOW), C(KAWIN_DECISION_AUDIT), C(KAWIN_DECISION_BLOCK), C(KAWIN_DECISION_POSTURE_AUDIT),
    C(KAWIN_DECISION_POSTURE_BLOCK), C(KAWIN_EVENT_PROCESS_CREATE), C(KAWIN_EVENT_PROCESS_EXIT),
    C(KAWIN_EVENT_FILE_OPEN), C(KAWIN_EVENT_IMAGE_LOAD), C(KAWIN_EVENT_REGISTRY), C(KAWIN_RULE_READ_ONLY),
    C(KAWIN_LIST_MORE), C(KAWIN_CONFIG_CASE_FOLD), C(KAWIN_REPORT_ALLOW_MATCHES), C(KAWIN_REPORT_UNMATCHED_PROCESS),
    C(KAWIN_REPORT_UNMATCHED_FILE), C(KAWIN_REPORT_PROCESS_EXIT), C(KAWIN_ACCESS_READ_DATA),
    C(KAWIN_ACCESS_WRITE_DATA), C(KAWIN_ACCESS_APPEND_DATA), C(KAWIN_ACCESS_WRITE_EA), C(KAWIN_ACCESS_EXECUTE),
    C(KAWIN_ACCESS_WRITE_ATTRIBUTES), C(KAWIN_ACCESS_DELETE), C(KAWIN_ACCESS_WRITE_DAC),
    C(KAWIN_ACCESS_WRITE_OWNER), C(KAWIN_ACCESS_GENERIC_ALL), C(KAWIN_ACCESS_GENERIC_WRITE), C(KAWIN_WRITE_ACCESS),
    C(KAWIN_STATUS_SUCCESS), C(KAWIN_STATUS_ACCESS_DENIED), C(KAWIN_STATUS_REVISION_MISMATCH),
    C(KAWIN_ERROR_FILE_NOT_FOUND), C(KAWIN_ERROR_ACCESS_DENIED), C(KAWIN_ERROR_INVALID_HANDLE),
    C(KAWIN_ERROR_INVALID_FUNCTION), C(KAWIN_ERROR_INVALID_PARAMETER), C(KAWIN_ERROR_INSUFFICIENT_BUFFER),
    C(KAWIN_ERROR_MORE_DATA), C(KAWIN_ERROR_OPERATION_ABORTED), C(KAWIN_ERROR_REVISION_MISMATCH),
    C(KAWIN_ERROR_CONNECTION_COUNT_LIMIT), C(KAWIN_ERROR_NOT_ENOUGH_QUOTA), C(KAWIN_ERROR_GEN_FAILURE),
};

static void put(char *buf, uint32_t size, size_t *len, const char *fmt, const char *s, unsigned long long v)
{
    size_t room = *len < size ? size - *len : 0;
    int n = snprintf(room ? buf + *len : NULL, room, fmt, s, v);
    if (n > 0) *len += (size_t)n;
}

KW_EXPORT uint32_t KawinEmu_GetLayout(char *buffer, uint32_t size)
{
    size_t len = 0;
    put(buffer, size, &len, "{\"abiVersion\":%s%llu,\"structs\":{", "", KAWIN_ABI_VERSION);
    for (size_t i = 0; i < sizeof structs / sizeof structs[0]; i++) {
        const StructInfo *s = &structs[i];
        put(buffer, size, &len, i ? ",\"%s\":{\"size\":%llu,\"fields\":{" : "\"%s\":{\"size\":%llu,\"fields\":{", s->name, s->size);
        for (size_t j = 0; j < s->n; j++)
            put(buffer, size, &len, j ? ",\"%s\":%llu" : "\"%s\":%llu", s->fields[j].name, s->fields[j].offset);
        put(buffer, size, &len, "%s}}", "", 0);
    }
    put(buffer, size, &len, "%s},\"constants\":{", "", 0);
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        put(buffer, size, &len, i ? ",\"%s\":%llu" : "\"%s\":%llu", constants[i].name, constants[i].value);
    put(buffer, size, &len, "%s}}", "", 0);
    if (!buffer || len + 1 > size) return KAWIN_ERROR_INSUFFICIENT_BUFFER;
    return 0;
}
