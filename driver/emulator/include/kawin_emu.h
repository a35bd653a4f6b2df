/*
 * The emulator's extra exports: operations "from the machine" that on Windows would be
 * caused by applications (a file open, a process start) or by an administrator (driver
 * unload/reload), plus load generation and fault injection for tests and benchmarks.
 * They are exported by the same shim library as the Win32 names (libkawin_emu.so) and
 * are not part of the driver contract: the agent never needs them to enforce.
 *
 * `device` is the emulator's device name: the path of the emulated kernel's device
 * socket (UTF-8). Every function returns 0 or a Win32 error code (KAWIN_ERROR_*).
 */
#ifndef KAWIN_EMU_H
#define KAWIN_EMU_H

#include <stdint.h>
#include "../../abi/kawin_abi.h"

typedef struct KAWIN_EMU_DECISION {
    uint32_t Decision;  /* KAWIN_DECISION */
    uint32_t Status;    /* NTSTATUS the caller gets (STATUS_ACCESS_DENIED when blocked) */
    uint64_t RuleId;    /* deciding rule, 0 for none / default posture */
    uint32_t ProcessId; /* process create: pid of the new process (0 when blocked) */
    uint32_t Reserved;
} KAWIN_EMU_DECISION; /* 24 bytes */

/* A process of the emulated machine, as the driver tracks it (KawinEmu_DefineProcess). */
typedef struct KAWIN_EMU_PROCESS {
    uint32_t ProcessId;        /* nonzero */
    uint32_t ParentProcessId;  /* 0 when unknown */
    uint32_t SessionId;
    uint32_t Reserved;
    const char *Image;            /* DOS or posix path (NULL: unknown) */
    const char *UserSid;          /* string SID (NULL: the kernel's --user-sid) */
    const char *CurrentDirectory; /* DOS or posix directory (NULL: unknown) */
} KAWIN_EMU_PROCESS;

/* Layout table of every ABI struct as JSON text:
 * {"abiVersion":1,"structs":{"KAWIN_RULE":{"size":24,"fields":{"Size":0,...}},...},
 *  "constants":{"IOCTL_KAWIN_APPLY":2149752852,...}}
 * Needs no running kernel. Returns KAWIN_ERROR_INSUFFICIENT_BUFFER if size is too small. */
uint32_t KawinEmu_GetLayout(char *buffer, uint32_t size);

/* A file open by processImage (pid) with desiredAccess (KAWIN_ACCESS_*). path and
 * processImage are DOS (C:\...) or posix paths; the kernel converts them to NT paths with
 * its drive map, decides, emits the event to the port and returns the decision. What the
 * event says about the process beyond pid and image (parent, session, user, current
 * directory) comes from the kernel's process tracking (KawinEmu_DefineProcess, or a
 * simulated creation of that pid); an unknown pid has none of it. */
uint32_t KawinEmu_SimulateFileOpen(const char *device, const char *path, const char *processImage,
                                   uint32_t processId, uint32_t desiredAccess, KAWIN_EMU_DECISION *out);

/* A process creation of image by parentImage (parentPid, the creator); commandLine may be
 * NULL. An allowed creation gets a new pid, tracked as the creator's child (same session,
 * user and current directory). */
uint32_t KawinEmu_SimulateProcessCreate(const char *device, const char *image, const char *parentImage,
                                        uint32_t parentProcessId, const char *commandLine,
                                        KAWIN_EMU_DECISION *out);

/* Emit count synthetic file-open events at ratePerSecond (0 = as fast as possible).
 * Returns when all are emitted if wait != 0, else at once. */
uint32_t KawinEmu_GenerateLoad(const char *device, uint64_t count, uint64_t ratePerSecond, uint32_t wait);

/* The next count calls of ioctlCode (0 = any IOCTL) fail with win32Error (0 = ERROR_GEN_FAILURE). */
uint32_t KawinEmu_InjectFault(const char *device, uint32_t ioctlCode, uint32_t count, uint32_t win32Error);

/* Declare a running process to the kernel's process tracking (as a driver learns of the
 * processes that ran before it loaded): later events of that pid carry its parent, the
 * parent's image (when the parent is known), session, user and current directory.
 * Replaces an earlier definition of the pid; at most KAWIN_EMU_MAX_PROCESSES (1024) are
 * tracked, the oldest replaced beyond. */
uint32_t KawinEmu_DefineProcess(const char *device, const KAWIN_EMU_PROCESS *process);

/* Mount a volume while running: drive ("Q:") now maps to ntDevice ("\\Device\\HarddiskVolume9")
 * for QueryDosDeviceW and simulated operations, as when a disk appears on Windows.
 * ERROR_INVALID_PARAMETER when malformed or the letter is taken. */
uint32_t KawinEmu_MountVolume(const char *device, const char *drive, const char *ntDevice);

/* Drop the port connection (the blocked reader gets ERROR_INVALID_HANDLE). */
uint32_t KawinEmu_DropPort(const char *device);

/* Unload and load the driver again: table cleared, generation 0, config to defaults,
 * port connection dropped, ring emptied; open device handles become invalid. */
uint32_t KawinEmu_Reload(const char *device);

/* Back to a freshly loaded state (like Reload) and clear all injected faults. */
uint32_t KawinEmu_Reset(const char *device);

/* Time the decision procedure inside the kernel (no IPC in the measurement): decide a
 * file open of path by processImage `iterations` times and report nanoseconds per
 * decision. Used by bench:driver to show lookup cost does not grow with the table. */
uint32_t KawinEmu_BenchDecide(const char *device, const char *path, const char *processImage,
                              uint32_t desiredAccess, uint64_t iterations, double *nanosecondsPerDecision);

/* The table's generation and when it last moved: CLOCK_MONOTONIC nanoseconds taken in the
 * kernel as it committed the write (0: never since the driver loaded). Lets a benchmark time
 * "a change reached the table" on the kernel's clock instead of by polling GET_STATE. */
uint32_t KawinEmu_TableChanged(const char *device, uint64_t *generation, uint64_t *changedAtNs);

/* Stop the emulated kernel process (driver unloaded: the sockets disappear). */
uint32_t KawinEmu_Shutdown(const char *device);

#endif /* KAWIN_EMU_H */
