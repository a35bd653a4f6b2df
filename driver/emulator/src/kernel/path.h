/*
 * Paths inside the emulated kernel: UTF-16 code units, as the minifilter sees them.
 * Folding upcases like RtlUpcaseUnicodeChar for the ranges the emulator knows (ASCII,
 * Latin-1, Latin Extended-A, Greek, Cyrillic); other characters compare exactly.
 */
#ifndef KAWIN_PATH_H
#define KAWIN_PATH_H

#include <stdint.h>

typedef struct PathRef {
    const uint16_t *s;
    uint32_t len; /* code units */
} PathRef;

uint16_t path_upcase(uint16_t c);
void path_fold(uint16_t *dst, const uint16_t *src, uint32_t len, int fold);

/* Length of the index key of a pattern: the path itself for exact, the directory without
 * its trailing separator for directory/recursive, the literal directory prefix for glob. */
uint32_t path_key_len(const uint16_t *p, uint32_t len, int matchType, uint16_t sep);

/* Does one (already folded) pattern of matchType match the (folded) path? */
int path_match(int matchType, const uint16_t *pat, uint32_t patLen, uint32_t keyLen, PathRef t, uint16_t sep);

/* '*' within a segment, '**' across segments ("\**\" also matches a single separator),
 * '?' one character other than the separator. Linear-time NFA: no backtracking blowup. */
int glob_match(const uint16_t *pat, uint32_t patLen, PathRef t, uint16_t sep);

/*
 * The name as the filter manager hands it to a minifilter (FLT_FILE_NAME_NORMALIZED):
 * duplicate separators collapsed, "." and ".." resolved (".." never above the volume
 * root, \Device\X), and on Windows trailing dots and spaces stripped from every
 * component and a trailing "::$DATA" (the default stream) dropped. 8.3 short names are
 * not expanded here (that needs the volume; docs/driver.md). dst holds len units; the
 * result is never longer. Returns its length.
 */
uint32_t path_normalize(uint16_t *dst, const uint16_t *src, uint32_t len, uint16_t sep, int windows);

uint64_t path_hash_init(void);
uint64_t path_hash_step(uint64_t h, uint16_t c);
uint64_t path_hash(const uint16_t *s, uint32_t len);

#endif
