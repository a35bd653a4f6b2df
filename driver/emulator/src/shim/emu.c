/* The KawinEmu_* exports (kawin_emu.h): one-shot requests to the emulated kernel. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../include/kawin_emu.h"
#include "shim.h"

/* Sends w's bytes as one request to the kernel at device; copies up to outLen answer bytes. */
static uint32_t request(const char *device, uint16_t type, KW_WRITER *w, void *out, uint32_t outLen)
{
    if (!device || !w->ok) {
        free(w->buf);
        return KAWIN_ERROR_INVALID_PARAMETER;
    }
    uint32_t err;
    int fd = shim_connect(device, &err);
    if (fd < 0) {
        free(w->buf);
        return err;
    }
    uint8_t *payload;
    const uint8_t *data;
    uint32_t len;
    int rc = shim_call(fd, type, w->buf, (uint32_t)w->len, NULL, 0, &err, &payload, &data, &len);
    close(fd);
    free(w->buf);
    if (rc != 0) return KAWIN_ERROR_FILE_NOT_FOUND; /* the kernel went away mid-request */
    if (!err && out) {
        if (len < outLen) err = KAWIN_ERROR_INVALID_PARAMETER;
        else memcpy(out, data, outLen);
    }
    free(payload);
    return err;
}

#define WRITER {NULL, 0, 0, 1}

KW_EXPORT uint32_t KawinEmu_SimulateFileOpen(const char *device, const char *path, const char *processImage,
                                             uint32_t processId, uint32_t desiredAccess, KAWIN_EMU_DECISION *out)
{
    if (!path) return KAWIN_ERROR_INVALID_PARAMETER;
    KW_WRITER w = WRITER;
    kw_wr_u32(&w, processId);
    kw_wr_u32(&w, desiredAccess);
    kw_wr_str(&w, path);
    kw_wr_str(&w, processImage);
    KAWIN_EMU_DECISION d;
    uint32_t err = request(device, KW_REQ_SIM_FILE, &w, &d, sizeof d);
    if (!err && out) *out = d;
    return err;
}

KW_EXPORT uint32_t KawinEmu_SimulateProcessCreate(const char *device, const char *image, const char *parentImage,
                                                  uint32_t parentProcessId, const char *commandLine,
                                                  KAWIN_EMU_DECISION *out)
{
    if (!image) return KAWIN_ERROR_INVALID_PARAMETER;
    KW_WRITER w = WRITER;
    kw_wr_u32(&w, parentProcessId);
    kw_wr_str(&w, image);
    kw_wr_str(&w, parentImage);
    kw_wr_str(&w, commandLine);
    KAWIN_EMU_DECISION d;
    uint32_t err = request(device, KW_REQ_SIM_PROC, &w, &d, sizeof d);
    if (!err && out) *out = d;
    return err;
}

KW_EXPORT uint32_t KawinEmu_GenerateLoad(const char *device, uint64_t count, uint64_t ratePerSecond, uint32_t wait)
{
    KW_WRITER w = WRITER;
    kw_wr_u64(&w, count);
    kw_wr_u64(&w, ratePerSecond);
    kw_wr_u32(&w, wait);
    return request(device, KW_REQ_LOAD, &w, NULL, 0);
}

KW_EXPORT uint32_t KawinEmu_InjectFault(const char *device, uint32_t ioctlCode, uint32_t count, uint32_t win32Error)
{
    KW_WRITER w = WRITER;
    kw_wr_u32(&w, ioctlCode);
    kw_wr_u32(&w, count);
    kw_wr_u32(&w, win32Error);
    return request(device, KW_REQ_FAULT, &w, NULL, 0);
}

KW_EXPORT uint32_t KawinEmu_MountVolume(const char *device, const char *drive, const char *ntDevice)
{
    if (!drive || !ntDevice || strlen(drive) != 2 || drive[1] != ':') return KAWIN_ERROR_INVALID_PARAMETER;
    size_t n = strlen(ntDevice);
    char *spec = malloc(n + 4);
    if (!spec) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    memcpy(spec, drive, 2);
    spec[2] = '=';
    memcpy(spec + 3, ntDevice, n + 1);
    KW_WRITER w = WRITER;
    kw_wr_str(&w, spec);
    free(spec);
    return request(device, KW_REQ_MOUNT, &w, NULL, 0);
}

KW_EXPORT uint32_t KawinEmu_DefineProcess(const char *device, const KAWIN_EMU_PROCESS *process)
{
    if (!process || !process->ProcessId) return KAWIN_ERROR_INVALID_PARAMETER;
    KW_WRITER w = WRITER;
    kw_wr_u32(&w, process->ProcessId);
    kw_wr_u32(&w, process->ParentProcessId);
    kw_wr_u32(&w, process->SessionId);
    kw_wr_str(&w, process->Image);
    kw_wr_str(&w, process->UserSid);
    kw_wr_str(&w, process->CurrentDirectory);
    return request(device, KW_REQ_PROCESS, &w, NULL, 0);
}

static uint32_t simple(const char *device, uint16_t type)
{
    KW_WRITER w = WRITER;
    kw_wr_bytes(&w, NULL, 0);
    return request(device, type, &w, NULL, 0);
}

KW_EXPORT uint32_t KawinEmu_DropPort(const char *device) { return simple(device, KW_REQ_DROP_PORT); }
KW_EXPORT uint32_t KawinEmu_Reload(const char *device) { return simple(device, KW_REQ_RELOAD); }
KW_EXPORT uint32_t KawinEmu_Reset(const char *device) { return simple(device, KW_REQ_RESET); }

KW_EXPORT uint32_t KawinEmu_BenchDecide(const char *device, const char *path, const char *processImage,
                                        uint32_t desiredAccess, uint64_t iterations, double *nanosecondsPerDecision)
{
    if (!path || !nanosecondsPerDecision) return KAWIN_ERROR_INVALID_PARAMETER;
    KW_WRITER w = WRITER;
    kw_wr_u32(&w, desiredAccess);
    kw_wr_u64(&w, iterations);
    kw_wr_str(&w, path);
    kw_wr_str(&w, processImage);
    return request(device, KW_REQ_BENCH, &w, nanosecondsPerDecision, sizeof(double));
}

KW_EXPORT uint32_t KawinEmu_TableChanged(const char *device, uint64_t *generation, uint64_t *changedAtNs)
{
    if (!generation || !changedAtNs) return KAWIN_ERROR_INVALID_PARAMETER;
    KW_WRITER w = WRITER;
    uint64_t answer[2];
    uint32_t err = request(device, KW_REQ_TABLE_CHANGED, &w, answer, sizeof answer);
    if (!err) {
        *generation = answer[0];
        *changedAtNs = answer[1];
    }
    return err;
}

/* Returns once the kernel process has exited (its end of the connection closes), so the
 * sockets are gone and a new kernel may start on the same directory. */
KW_EXPORT uint32_t KawinEmu_Shutdown(const char *device)
{
    if (!device) return KAWIN_ERROR_INVALID_PARAMETER;
    uint32_t err;
    int fd = shim_connect(device, &err);
    if (fd < 0) return err;
    uint8_t *payload;
    const uint8_t *data;
    uint32_t len;
    int rc = shim_call(fd, KW_REQ_SHUTDOWN, NULL, 0, NULL, 0, &err, &payload, &data, &len);
    free(payload);
    if (rc == 0 && !err) {
        char b;
        struct pollfd p = {fd, POLLIN, 0};
        while (poll(&p, 1, 10000) > 0 && read(fd, &b, 1) > 0) {}
    }
    close(fd);
    return rc != 0 ? KAWIN_ERROR_FILE_NOT_FOUND : err;
}
