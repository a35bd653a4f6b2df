/*
 * The machine's drive map (drive letter -> NT device): given at start (--drive) and
 * grown while running when a volume is mounted (KawinEmu_MountVolume), as a new disk or
 * a USB stick appears on Windows. QueryDosDeviceW answers from it; simulated operations
 * convert DOS paths with it. Entries are only ever added, under K.lock held for writing.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

uint32_t drive_add(const char *spec)
{
    char c = spec[0];
    if (c >= 'a' && c <= 'z') c = (char)(c - 32);
    if (c < 'A' || c > 'Z' || spec[1] != ':' || spec[2] != '=' || spec[3] != '\\') return KAWIN_ERROR_INVALID_PARAMETER;
    for (int i = 0; i < K.ndrives; i++)
        if (K.drives[i].letter == c) return KAWIN_ERROR_INVALID_PARAMETER; /* the letter is taken */
    size_t n = strlen(spec + 3);
    uint16_t *nt = malloc(n * 2 + 2);
    if (!nt) return KAWIN_ERROR_NOT_ENOUGH_QUOTA;
    long k = kw_utf8_to_utf16(spec + 3, n, nt, n);
    while (k > 1 && nt[k - 1] == '\\') k--;
    if (k <= 0 || k > 1024) {
        free(nt);
        return KAWIN_ERROR_INVALID_PARAMETER;
    }
    K.drives[K.ndrives] = (Drive){c, nt, (uint32_t)k};
    K.ndrives++;
    return 0;
}

uint32_t drive_mount(const char *spec)
{
    pthread_rwlock_wrlock(&K.lock);
    uint32_t err = drive_add(spec);
    pthread_rwlock_unlock(&K.lock);
    if (!err) kernel_log("volume mounted: %s", spec);
    return err;
}
