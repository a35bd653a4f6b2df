/* Case folding, pattern keys and the matchers of the four match types. */
#include "path.h"

#include <stdlib.h>
#include <string.h>

#include "../../../abi/kawin_abi.h"

uint16_t path_upcase(uint16_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') ? (uint16_t)(c - 32) : c;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return (uint16_t)(c - 32); /* Latin-1 */
    if (c == 0xFF) return 0x178;
    if (c >= 0x100 && c <= 0x17F) { /* Latin Extended-A: upper/lower pairs */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c : (uint16_t)(c - 1);
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
        return (c & 1) ? (uint16_t)(c - 1) : c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return (uint16_t)(c - 32); /* Greek */
    if (c >= 0x430 && c <= 0x44F) return (uint16_t)(c - 32);                /* Cyrillic */
    if (c >= 0x450 && c <= 0x45F) return (uint16_t)(c - 80);
    return c;
}

void path_fold(uint16_t *dst, const uint16_t *src, uint32_t len, int fold)
{
    if (!fold) {
        memcpy(dst, src, (size_t)len * 2);
        return;
    }
    for (uint32_t i = 0; i < len; i++) {
        uint16_t c = src[i];
        dst[i] = c < 0x80 ? (uint16_t)((c >= 'a' && c <= 'z') ? c - 32 : c) : path_upcase(c);
    }
}

static int is_wild(uint16_t c) { return c == '*' || c == '?'; }

uint32_t path_key_len(const uint16_t *p, uint32_t len, int matchType, uint16_t sep)
{
    if (matchType == KAWIN_MATCH_EXACT) return len;
    if (matchType == KAWIN_MATCH_DIRECTORY || matchType == KAWIN_MATCH_RECURSIVE)
        return (len > 0 && p[len - 1] == sep) ? len - 1 : len;
    uint32_t lastSep = 0, i;
    int seen = 0;
    for (i = 0; i < len && !is_wild(p[i]); i++)
        if (p[i] == sep) { lastSep = i; seen = 1; }
    if (i == len) { /* no wildcard: bucket by the parent directory */
        for (uint32_t j = len; j-- > 0;)
            if (p[j] == sep) return j;
        return 0;
    }
    return seen ? lastSep : 0;
}

static int has_prefix(PathRef t, const uint16_t *p, uint32_t n)
{
    return t.len >= n && memcmp(t.s, p, (size_t)n * 2) == 0;
}

int path_match(int matchType, const uint16_t *pat, uint32_t patLen, uint32_t keyLen, PathRef t, uint16_t sep)
{
    switch (matchType) {
    case KAWIN_MATCH_EXACT:
        return t.len == patLen && memcmp(t.s, pat, (size_t)patLen * 2) == 0;
    case KAWIN_MATCH_DIRECTORY:
        if (!has_prefix(t, pat, keyLen) || t.len <= keyLen + 1 || t.s[keyLen] != sep) return 0;
        for (uint32_t i = keyLen + 1; i < t.len; i++)
            if (t.s[i] == sep) return 0;
        return 1;
    case KAWIN_MATCH_RECURSIVE:
        return has_prefix(t, pat, keyLen) && t.len > keyLen + 1 && t.s[keyLen] == sep;
    case KAWIN_MATCH_GLOB:
        return glob_match(pat, patLen, t, sep);
    default:
        return 0;
    }
}

enum { TOK_ANY1 = 0x10000, TOK_STAR = 0x10001, TOK_GLOBSTAR = 0x10002 };

static void closure(uint8_t *st, const uint32_t *tok, uint32_t nt, uint16_t sep)
{
    for (uint32_t i = 0; i < nt; i++) {
        if (!st[i]) continue;
        if (tok[i] == TOK_STAR || tok[i] == TOK_GLOBSTAR) st[i + 1] = 1;
        if (tok[i] == TOK_GLOBSTAR && i > 0 && tok[i - 1] == sep && i + 1 < nt && tok[i + 1] == sep) st[i + 2] = 1;
    }
}

static int nfa_run(const uint32_t *tok, uint32_t nt, PathRef t, uint16_t sep, uint8_t *cur, uint8_t *next)
{
    memset(cur, 0, nt + 1);
    cur[0] = 1;
    closure(cur, tok, nt, sep);
    for (uint32_t k = 0; k < t.len; k++) {
        uint16_t c = t.s[k];
        int any = 0;
        memset(next, 0, nt + 1);
        for (uint32_t i = 0; i < nt; i++) {
            if (!cur[i]) continue;
            uint32_t tk = tok[i];
            if (tk == TOK_GLOBSTAR || (tk == TOK_STAR && c != sep)) next[i] = any = 1;
            else if ((tk == TOK_ANY1 && c != sep) || tk == c) next[i + 1] = any = 1;
        }
        if (!any) return 0;
        closure(next, tok, nt, sep);
        uint8_t *sw = cur;
        cur = next;
        next = sw;
    }
    return cur[nt];
}

int glob_match(const uint16_t *pat, uint32_t patLen, PathRef t, uint16_t sep)
{
    uint32_t stackTok[256];
    uint8_t stackSt[2 * 257];
    uint32_t *tok = stackTok;
    uint8_t *st = stackSt;
    if (patLen > 256) {
        tok = malloc(sizeof *tok * patLen);
        st = malloc(2 * ((size_t)patLen + 1));
        if (!tok || !st) {
            free(tok);
            free(st);
            return 0;
        }
    }
    uint32_t nt = 0;
    for (uint32_t i = 0; i < patLen; i++) {
        if (pat[i] == '*' && i + 1 < patLen && pat[i + 1] == '*') {
            while (i + 1 < patLen && pat[i + 1] == '*') i++;
            tok[nt++] = TOK_GLOBSTAR;
        } else if (pat[i] == '*') tok[nt++] = TOK_STAR;
        else if (pat[i] == '?') tok[nt++] = TOK_ANY1;
        else tok[nt++] = pat[i];
    }
    int r = nfa_run(tok, nt, t, sep, st, st + nt + 1);
    if (tok != stackTok) {
        free(tok);
        free(st);
    }
    return r;
}

uint64_t path_hash_init(void) { return 1469598103934665603ull; }
uint64_t path_hash_step(uint64_t h, uint16_t c) { return (h ^ c) * 1099511628211ull; }
uint64_t path_hash(const uint16_t *s, uint32_t len)
{
    uint64_t h = path_hash_init();
    for (uint32_t i = 0; i < len; i++) h = path_hash_step(h, s[i]);
    return h;
}

/* Is seg[0..n) "::$DATA" at its end (any case)? Returns the length without it. */
static uint32_t strip_default_stream(const uint16_t *seg, uint32_t n)
{
    static const char suffix[] = "::$DATA";
    const uint32_t k = sizeof suffix - 1;
    if (n <= k) return n;
    for (uint32_t i = 0; i < k; i++)
        if (path_upcase(seg[n - k + i]) != (uint16_t)suffix[i]) return n;
    return n - k;
}

/* Components kept at the start: "\Device\HarddiskVolumeN" on Windows, so ".." stops at the volume root. */
static uint32_t root_components(const uint16_t *p, uint32_t len, int windows)
{
    static const char dev[] = "\\DEVICE\\";
    if (!windows || len < sizeof dev - 1) return 0;
    for (uint32_t i = 0; i < sizeof dev - 1; i++)
        if (path_upcase(p[i]) != (uint16_t)dev[i]) return 0;
    return 2;
}

uint32_t path_normalize(uint16_t *dst, const uint16_t *src, uint32_t len, uint16_t sep, int windows)
{
    uint32_t out = 0, depth = 0, keep = root_components(src, len, windows);
    uint32_t starts[256]; /* where each kept component starts in dst, for ".." (deeper paths fall back to a scan) */
    int absolute = len > 0 && src[0] == sep, dirForm = len > 0 && src[len - 1] == sep;
    for (uint32_t i = 0; i < len;) {
        while (i < len && src[i] == sep) i++;
        uint32_t b = i;
        while (i < len && src[i] != sep) i++;
        uint32_t n = i - b;
        if (n == 0) break;
        if (n == 1 && src[b] == '.') continue;
        if (n == 2 && src[b] == '.' && src[b + 1] == '.') {
            if (depth > keep) {
                depth--;
                if (depth < 256) out = starts[depth];
                else while (out > 0 && dst[--out] != sep) {}
            }
            continue;
        }
        if (windows) {
            if (i == len) n = strip_default_stream(src + b, n);
            while (n > 0 && (src[b + n - 1] == '.' || src[b + n - 1] == ' ')) n--;
            if (n == 0) continue;
        }
        if (depth < 256) starts[depth] = out;
        if (out > 0 || absolute) dst[out++] = sep;
        memcpy(dst + out, src + b, (size_t)n * 2);
        out += n;
        depth++;
    }
    if ((dirForm || out == 0) && absolute && (out == 0 || dst[out - 1] != sep)) dst[out++] = sep;
    return out;
}
