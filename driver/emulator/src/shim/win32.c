/*
 * kernel32 exports of the shim: CreateFileW / DeviceIoControl / CloseHandle / CancelIoEx /
 * GetLogicalDrives, QueryDosDeviceW with Windows' signatures, error codes and METHOD_BUFFERED semantics.
 * The device name is the emulated kernel's device socket path.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

KW_EXPORT HANDLE CreateFileW(const WCHAR *fileName, DWORD desiredAccess, DWORD shareMode, void *securityAttributes,
                             DWORD creationDisposition, DWORD flagsAndAttributes, HANDLE templateFile)
{
    (void)desiredAccess, (void)shareMode, (void)securityAttributes, (void)creationDisposition;
    (void)flagsAndAttributes, (void)templateFile;
    char *path = shim_name_to_path(fileName);
    if (!path) {
        shim_set_error(KAWIN_ERROR_INVALID_PARAMETER);
        return INVALID_HANDLE_VALUE;
    }
    uint32_t err;
    int fd = shim_connect(path, &err);
    if (fd < 0) {
        free(path);
        shim_set_error(err);
        return INVALID_HANDLE_VALUE;
    }
    Handle *h = handle_new(H_DEVICE, fd);
    if (!h) {
        close(fd);
        free(path);
        shim_set_error(KAWIN_ERROR_NOT_ENOUGH_QUOTA);
        return INVALID_HANDLE_VALUE;
    }
    shim_remember_device(path);
    free(path);
    shim_set_error(0);
    return (HANDLE)h->value;
}

static BOOL fail_with(uint32_t e)
{
    shim_set_error(e);
    return 0;
}

KW_EXPORT BOOL DeviceIoControl(HANDLE device, DWORD code, void *in, DWORD inSize, void *out, DWORD outSize,
                               DWORD *bytesReturned, void *overlapped)
{
    if (bytesReturned) *bytesReturned = 0;
    if (overlapped || (inSize && !in) || (outSize && !out) || inSize > KAWIN_MAX_IOCTL_INPUT)
        return fail_with(KAWIN_ERROR_INVALID_PARAMETER);
    Handle *h = handle_get(device, H_DEVICE);
    if (!h) return fail_with(KAWIN_ERROR_INVALID_HANDLE);
    uint32_t head[2] = {code, outSize}, err = KAWIN_ERROR_INVALID_HANDLE, len = 0;
    uint8_t *payload = NULL;
    const uint8_t *data = NULL;
    pthread_mutex_lock(&h->call);
    if (!h->dead && shim_call(h->fd, KW_REQ_IOCTL, head, sizeof head, in, inSize, &err, &payload, &data, &len) != 0) {
        h->dead = 1; /* the kernel went away: the handle stays invalid */
        err = KAWIN_ERROR_INVALID_HANDLE;
    }
    pthread_mutex_unlock(&h->call);
    handle_put(h);
    uint32_t n = 0;
    if (err == 0 || err == KAWIN_ERROR_MORE_DATA) {
        n = len < outSize ? len : outSize;
        if (n) memcpy(out, data, n);
    }
    free(payload);
    if (bytesReturned) *bytesReturned = n;
    shim_set_error(err);
    return err == 0;
}

KW_EXPORT BOOL CloseHandle(HANDLE handle)
{
    Handle *h = handle_unregister(handle);
    if (!h) return fail_with(KAWIN_ERROR_INVALID_HANDLE);
    pthread_mutex_lock(&h->state);
    h->closed = 1;
    if (h->cancel[1] >= 0 && write(h->cancel[1], "c", 1) < 0) { /* pipe full: a wake is pending anyway */ }
    pthread_mutex_unlock(&h->state);
    handle_put(h);
    shim_set_error(0);
    return 1;
}

KW_EXPORT BOOL CancelIoEx(HANDLE handle, void *overlapped)
{
    (void)overlapped;
    Handle *h = handle_get(handle, 0);
    if (!h) return fail_with(KAWIN_ERROR_INVALID_HANDLE);
    pthread_mutex_lock(&h->state);
    int pending = h->getPending;
    if (pending && write(h->cancel[1], "x", 1) < 0) { /* pipe full: a wake is pending anyway */ }
    pthread_mutex_unlock(&h->state);
    handle_put(h);
    if (!pending) return fail_with(KW_ERROR_NOT_FOUND); /* nothing to cancel, as on Windows */
    shim_set_error(0);
    return 1;
}

typedef struct DriveList {
    int n;
    WCHAR name[26][3];
    WCHAR *target[26];
    uint32_t targetLen[26];
} DriveList;

static uint32_t load_drives(DriveList *d)
{
    memset(d, 0, sizeof *d);
    char *path = shim_last_device();
    uint32_t err;
    int fd = path ? shim_connect(path, &err) : -1;
    free(path);
    if (fd < 0) return KAWIN_ERROR_FILE_NOT_FOUND;
    uint8_t *payload;
    const uint8_t *data;
    uint32_t len;
    int rc = shim_call(fd, KW_REQ_DRIVES, NULL, 0, NULL, 0, &err, &payload, &data, &len);
    close(fd);
    if (rc != 0 || err) {
        free(payload);
        return KAWIN_ERROR_FILE_NOT_FOUND;
    }
    KW_READER r;
    kw_reader_init(&r, data, len);
    uint32_t n = kw_rd_u32(&r);
    for (uint32_t i = 0; i < n && i < 26 && r.ok; i++) {
        uint32_t nl, tl;
        const char *name = kw_rd_str(&r, &nl), *target = kw_rd_str(&r, &tl);
        if (!r.ok || nl != 2) break;
        d->name[i][0] = (uint8_t)name[0];
        d->name[i][1] = ':';
        d->target[i] = malloc(((size_t)tl + 1) * 2);
        long k = d->target[i] ? kw_utf8_to_utf16(target, tl, d->target[i], tl) : -1;
        d->targetLen[i] = k < 0 ? 0 : (uint32_t)k;
        d->n = (int)i + 1;
    }
    free(payload);
    return 0;
}

static void free_drives(DriveList *d)
{
    for (int i = 0; i < d->n; i++) free(d->target[i]);
}

static int find_drive(const DriveList *d, const WCHAR *name)
{
    if (kw_wcslen(name) != 2 || name[1] != ':') return -1;
    WCHAR c = (name[0] >= 'a' && name[0] <= 'z') ? (WCHAR)(name[0] - 32) : name[0];
    for (int i = 0; i < d->n; i++)
        if (d->name[i][0] == c) return i;
    return -1;
}

/* The drive letters present (bit 0 = A:), from the same drive map as QueryDosDeviceW;
 * 0 with the last error set when there is no kernel to ask. */
KW_EXPORT DWORD GetLogicalDrives(void)
{
    DriveList d;
    uint32_t err = load_drives(&d);
    if (err) return (DWORD)fail_with(err);
    DWORD mask = 0;
    for (int i = 0; i < d.n; i++) {
        WCHAR c = d.name[i][0];
        if (c >= 'a' && c <= 'z') c = (WCHAR)(c - 32);
        if (c >= 'A' && c <= 'Z') mask |= (DWORD)1 << (c - 'A');
    }
    free_drives(&d);
    shim_set_error(0);
    return mask;
}

/* Answers from the drive map of the kernel whose device this process opened last
 * (or $KAWIN_EMU_DIR/Karmor). Returns characters written incl. both terminators. */
KW_EXPORT DWORD QueryDosDeviceW(const WCHAR *deviceName, WCHAR *targetPath, DWORD max)
{
    DriveList d;
    uint32_t err = load_drives(&d);
    if (err) return (DWORD)fail_with(err);
    WCHAR buf[26 * 3 + 1];
    const WCHAR *src = buf;
    uint32_t n = 0;
    if (!deviceName) {
        for (int i = 0; i < d.n; i++) {
            memcpy(buf + n, d.name[i], 4);
            n += 2;
            buf[n++] = 0;
        }
    } else {
        int i = find_drive(&d, deviceName);
        if (i < 0) {
            free_drives(&d);
            return (DWORD)fail_with(KAWIN_ERROR_FILE_NOT_FOUND);
        }
        src = d.target[i];
        n = d.targetLen[i];
    }
    DWORD total = n + (deviceName ? 2 : 1);
    if (deviceName == NULL && d.n == 0) total = 2;
    if (!targetPath || total > max) {
        free_drives(&d);
        return (DWORD)fail_with(KAWIN_ERROR_INSUFFICIENT_BUFFER);
    }
    memcpy(targetPath, src, (size_t)n * 2);
    memset(targetPath + n, 0, (size_t)(total - n) * 2);
    free_drives(&d);
    shim_set_error(0);
    return total;
}
