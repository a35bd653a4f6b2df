/* Every IOCTL through DeviceIoControl: results, generations, paging, malformed inputs, limits. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NT "\\Device\\HarddiskVolume3"
#define EINVAL_ KAWIN_ERROR_INVALID_PARAMETER

static void state_defaults(HANDLE h)
{
    T("GET_STATE after load: version, flavour, generation 0, default config");
    KAWIN_STATE s = get_state(h);
    CHECK_EQ(s.Version, KAWIN_ABI_VERSION);
    CHECK_EQ(s.Size, sizeof s);
    CHECK_EQ(s.Flavor, KAWIN_FLAVOR_WINDOWS);
    CHECK_EQ(s.Generation, 0);
    CHECK_EQ(s.RuleCount, 0);
    CHECK_EQ(s.RingCapacity, KAWIN_DEFAULT_RING_CAPACITY);
    CHECK_EQ(s.Config.Flags, KAWIN_CONFIG_CASE_FOLD);
    CHECK_EQ(s.Config.EventMask, 0);
    CHECK_EQ(s.Config.ProcessPosture, KAWIN_POSTURE_AUDIT);
    CHECK_EQ(s.Config.FilePosture, KAWIN_POSTURE_AUDIT);

    T("GET_STATE input variants and small buffers");
    KAWIN_HEADER hd = {KAWIN_ABI_VERSION, sizeof hd, 0, 0, sizeof hd};
    uint32_t bytes;
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, &hd, sizeof hd, &s, sizeof s, &bytes), 0);
    CHECK_EQ(bytes, sizeof s);
    hd.Version = KAWIN_ABI_VERSION + 1;
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, &hd, sizeof hd, &s, sizeof s, NULL), EINVAL_);
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s - 1, &bytes), KAWIN_ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(bytes, 0);
    CHECK_EQ(ioctl_call(h, 0x8022A018u, NULL, 0, &s, sizeof s, NULL), KAWIN_ERROR_INVALID_FUNCTION);
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_GET_STATE, NULL, KAWIN_MAX_IOCTL_INPUT + 1, &s, sizeof s, NULL), EINVAL_);
    CHECK_EQ(ioctl_call((HANDLE)(intptr_t)0x7777, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s, NULL), KAWIN_ERROR_INVALID_HANDLE);
    uint32_t b2;
    int ok = DeviceIoControl(h, IOCTL_KAWIN_GET_STATE, NULL, 0, &s, sizeof s, &b2, (void *)&b2);
    CHECK(!ok && GetLastError() == EINVAL_, "overlapped must be NULL");
}

static void add_remove(HANDLE h)
{
    T("ADD_RULES upsert, REMOVE_RULES with missing ids, generation per change");
    RuleSpec r[3] = {
        {1, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_BLOCK, 0, 0, NT "\\a.txt", NULL},
        {2, KAWIN_KIND_FILE, KAWIN_MATCH_DIRECTORY, KAWIN_ACTION_AUDIT, 0, 0, NT "\\dir\\", NULL},
        {3, KAWIN_KIND_PROCESS, KAWIN_MATCH_GLOB, KAWIN_ACTION_ALLOW, KAWIN_MATCH_RECURSIVE, KAWIN_RULE_READ_ONLY, NT "\\*.exe", NT "\\Windows\\"},
    };
    KAWIN_APPLY_RESULT res;
    CHECK_EQ(add_rules(h, r, 3, &res), 0);
    CHECK_EQ(res.Generation, 1);
    CHECK_EQ(res.Added, 3);
    CHECK_EQ(add_rules(h, r, 3, &res), 0);
    CHECK_EQ(res.Generation, 1);
    CHECK_EQ(res.Added + res.Replaced + res.Removed, 0);
    r[0].action = KAWIN_ACTION_AUDIT;
    CHECK_EQ(add_rules(h, r, 1, &res), 0);
    CHECK_EQ(res.Generation, 2);
    CHECK_EQ(res.Replaced, 1);
    CHECK_EQ(add_rules(h, NULL, 0, &res), 0);
    CHECK_EQ(res.Generation, 2);
    uint64_t ids[3] = {2, 99, 2};
    CHECK_EQ(remove_rules(h, ids, 3, &res), 0);
    CHECK_EQ(res.Removed, 1);
    CHECK_EQ(res.Missing, 1);
    CHECK_EQ(res.Generation, 3);
    CHECK_EQ(remove_rules(h, ids + 1, 1, &res), 0);
    CHECK_EQ(res.Generation, 3);
    CHECK_EQ(res.Missing, 1);
    KAWIN_STATE s = get_state(h);
    CHECK_EQ(s.RuleCount, 2);
    CHECK_EQ(s.Generation, 3);

    T("ADD_RULES: the last record of an id in one request wins");
    RuleSpec dup[2] = {r[1], r[1]};
    dup[1].action = KAWIN_ACTION_BLOCK;
    CHECK_EQ(add_rules(h, dup, 2, &res), 0);
    CHECK_EQ(res.Added, 1);
    CHECK_EQ(res.Generation, 4);

    T("ADD_RULES without an output buffer still applies");
    KW_WRITER w = {NULL, 0, 0, 1};
    RuleSpec x = {77, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_AUDIT, 0, 0, NT "\\x", NULL};
    begin_header(&w, 1);
    put_rule(&w, &x);
    finish_header(&w);
    uint32_t bytes = 9;
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_ADD_RULES, w.buf, (uint32_t)w.len, NULL, 0, &bytes), 0);
    CHECK_EQ(bytes, 0);
    free(w.buf);
    CHECK_EQ(get_state(h).RuleCount, 4);
}

static uint32_t list_page(HANDLE h, uint64_t cursor, uint8_t *buf, uint32_t size, KAWIN_LIST_RESPONSE *resp, uint32_t *bytes)
{
    KAWIN_LIST_REQUEST req = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, 0, sizeof req}, cursor};
    uint32_t err = ioctl_call(h, IOCTL_KAWIN_LIST_RULES, &req, sizeof req, buf, size, bytes);
    memset(resp, 0, sizeof *resp);
    if (*bytes >= sizeof *resp) memcpy(resp, buf, sizeof *resp);
    return err;
}

static void clear_table(HANDLE h)
{
    uint64_t ids[256];
    long n = list_all(h, ids, 256, 1u << 16, NULL);
    CHECK(n >= 0 && n <= 256, "list %ld", n);
    if (n > 0) CHECK_EQ(remove_rules(h, ids, (uint32_t)n, NULL), 0);
    CHECK_EQ(get_state(h).RuleCount, 0);
}

static void paging(HANDLE h)
{
    T("LIST_RULES paging: ascending ids, cursor, MORE flag, generation per page");
    clear_table(h);
    RuleSpec r[10];
    char paths[10][64];
    for (int i = 0; i < 10; i++) {
        snprintf(paths[i], sizeof paths[i], NT "\\page\\f%02d", i); /* equal lengths: equal record sizes */
        r[i] = (RuleSpec){(uint64_t)(1000 - i * 10), KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_AUDIT, 0, 0, paths[i], NULL};
    }
    KAWIN_APPLY_RESULT res;
    CHECK_EQ(add_rules(h, r, 10, &res), 0);
    uint32_t rec = (uint32_t)((sizeof(KAWIN_RULE) + strlen(paths[0]) * 2 + 7) & ~7u);
    uint8_t buf[4096];
    KAWIN_LIST_RESPONSE resp;
    uint32_t bytes, n = 0;
    uint64_t cursor = 0, last = 0;
    int sorted = 1;
    for (int page = 0; page < 20; page++) {
        uint32_t err = list_page(h, cursor, buf, (uint32_t)sizeof resp + 3 * rec, &resp, &bytes);
        CHECK_EQ(err, 0);
        CHECK_EQ(resp.Header.TotalSize, bytes);
        CHECK_EQ(resp.Generation, res.Generation);
        CHECK_EQ(resp.TotalRules, 10);
        for (uint32_t i = 0; i < resp.Header.Count; i++) {
            KAWIN_RULE rr;
            memcpy(&rr, buf + sizeof resp + i * rec, sizeof rr);
            sorted &= rr.Id > last;
            last = rr.Id;
            CHECK_EQ(rr.Size, rec);
        }
        n += resp.Header.Count;
        if (!(resp.Header.Flags & KAWIN_LIST_MORE)) break;
        CHECK_EQ(resp.Header.Count, 3);
        CHECK_EQ(resp.NextCursor, last);
        CHECK_EQ(resp.RequiredSize, sizeof resp + rec);
        cursor = resp.NextCursor;
    }
    CHECK(sorted, "ids not ascending");
    CHECK_EQ(n, 10);
    CHECK_EQ(last, 1000);

    T("LIST_RULES: buffer below the header, room for no record, cursor past the end");
    CHECK_EQ(list_page(h, 0, buf, sizeof resp - 1, &resp, &bytes), KAWIN_ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(bytes, 0);
    CHECK_EQ(list_page(h, 0, buf, sizeof resp + rec - 1, &resp, &bytes), KAWIN_ERROR_MORE_DATA);
    CHECK_EQ(bytes, sizeof resp);
    CHECK_EQ(resp.Header.Count, 0);
    CHECK_EQ(resp.RequiredSize, sizeof resp + rec);
    CHECK(resp.Header.Flags & KAWIN_LIST_MORE, "MORE flag on ERROR_MORE_DATA");
    CHECK_EQ(list_page(h, 955, buf, sizeof buf, &resp, &bytes), 0);
    CHECK_EQ(resp.Header.Count, 5); /* ids 960..1000 */
    CHECK_EQ(list_page(h, 1000, buf, sizeof buf, &resp, &bytes), 0);
    CHECK_EQ(resp.Header.Count, 0);
    CHECK_EQ(resp.Header.Flags, 0);
    CHECK_EQ(resp.NextCursor, 1000);
    CHECK_EQ(bytes, sizeof resp);

    T("LIST_RULES returns records byte-identical to what was added");
    KW_WRITER w = {NULL, 0, 0, 1};
    put_rule(&w, &r[0]);
    list_page(h, 999, buf, sizeof buf, &resp, &bytes);
    CHECK(resp.Header.Count == 1 && memcmp(buf + sizeof resp, w.buf, w.len) == 0, "record differs");
    free(w.buf);

    T("LIST_RULES malformed requests");
    KAWIN_LIST_REQUEST req = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, 1, sizeof req}, 0};
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_LIST_RULES, &req, sizeof req, buf, sizeof buf, NULL), EINVAL_);
    req.Header.Count = 0;
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_LIST_RULES, &req, sizeof req - 8, buf, sizeof buf, NULL), EINVAL_);
}

typedef void (*mutator)(uint8_t *in, uint32_t *len);
#define RULE_AT 16
static void m_version(uint8_t *in, uint32_t *len) { (void)len; in[0] = KAWIN_ABI_VERSION + 1; }
static void m_hsize(uint8_t *in, uint32_t *len) { (void)len; in[2] = 24; }
static void m_hflags(uint8_t *in, uint32_t *len) { (void)len; in[4] = 1; }
static void m_total(uint8_t *in, uint32_t *len) { (void)len; in[12] += 8; }
static void m_count2(uint8_t *in, uint32_t *len) { (void)len; in[8] = 2; }
static void m_trailing(uint8_t *in, uint32_t *len) { memset(in + *len, 0, 8); *len += 8; in[12] = (uint8_t)*len; }
static void m_rsize_small(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT] = 16; }
static void m_rsize_odd(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT] -= 4; }
static void m_rsize_big(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 1] = 1; }
static void m_kind0(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 4] = 0; }
static void m_kind5(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 4] = 5; }
static void m_match0(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 5] = 0; }
static void m_match5(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 5] = 5; }
static void m_action0(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 6] = 0; }
static void m_action4(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 6] = 4; }
static void m_src5(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 7] = 5; }
static void m_src_nobytes(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 7] = 1; }
static void m_id0(uint8_t *in, uint32_t *len) { (void)len; memset(in + RULE_AT + 8, 0, 8); }
static void m_flags(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 16] = 2; }
static void m_path0(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 20] = 0; in[RULE_AT + 21] = 0; }
static void m_path_odd(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 20] -= 1; }
static void m_path_long(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 21] = 1; }
static void m_src_bytes(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 22] = 2; }
static void m_path_nul(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 24 + 4] = 0; in[RULE_AT + 24 + 5] = 0; }
static void m_relative(uint8_t *in, uint32_t *len) { (void)len; in[RULE_AT + 24] = 'x'; }

static void malformed(HANDLE h)
{
    T("malformed ADD_RULES inputs: ERROR_INVALID_PARAMETER and nothing changes");
    static const struct {
        const char *name;
        mutator fn;
    } cases[] = {
        {"version", m_version}, {"header size", m_hsize}, {"header flags", m_hflags}, {"total size", m_total},
        {"count too high", m_count2}, {"trailing bytes", m_trailing}, {"record size < fixed part", m_rsize_small},
        {"record size not multiple of 8", m_rsize_odd}, {"record size beyond input", m_rsize_big},
        {"kind 0", m_kind0}, {"kind 5", m_kind5}, {"match none", m_match0}, {"match 5", m_match5},
        {"action 0", m_action0}, {"action 4", m_action4}, {"source match 5", m_src5},
        {"source match without path", m_src_nobytes}, {"id 0", m_id0}, {"unknown flag", m_flags},
        {"empty path", m_path0}, {"odd path bytes", m_path_odd}, {"path beyond record", m_path_long},
        {"source bytes without match type", m_src_bytes}, {"NUL in path", m_path_nul}, {"relative path", m_relative},
    };
    RuleSpec r = {4242, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_BLOCK, 0, 0, NT "\\m.txt", NULL};
    KAWIN_STATE before = get_state(h);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        KW_WRITER w = {NULL, 0, 0, 1};
        begin_header(&w, 1);
        put_rule(&w, &r);
        finish_header(&w);
        kw_wr_bytes(&w, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16); /* room for m_trailing */
        uint32_t len = (uint32_t)w.len - 16;
        cases[i].fn(w.buf, &len);
        uint32_t err = ioctl_call(h, IOCTL_KAWIN_ADD_RULES, w.buf, len, NULL, 0, NULL);
        CHECK(err == EINVAL_, "%s: error %u", cases[i].name, err);
        free(w.buf);
    }
    KAWIN_STATE after = get_state(h);
    CHECK_EQ(after.Generation, before.Generation);
    CHECK_EQ(after.RuleCount, before.RuleCount);

    T("one bad record spoils the whole ADD (all or nothing)");
    RuleSpec two[2] = {r, r};
    two[1].id = 0;
    CHECK_EQ(add_rules(h, two, 2, NULL), EINVAL_);
    CHECK_EQ(get_state(h).RuleCount, before.RuleCount);

    T("malformed REMOVE_RULES and SET_CONFIG");
    KW_WRITER w = {NULL, 0, 0, 1};
    begin_header(&w, 2);
    uint64_t id = 1;
    kw_wr_bytes(&w, &id, 8);
    finish_header(&w);
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_REMOVE_RULES, w.buf, (uint32_t)w.len, NULL, 0, NULL), EINVAL_);
    free(w.buf);
    CHECK_EQ(set_config(h, 0, 0, 0, KAWIN_POSTURE_AUDIT), EINVAL_);
    CHECK_EQ(set_config(h, 0, 0, KAWIN_POSTURE_AUDIT, 3), EINVAL_);
    CHECK_EQ(set_config(h, 0, 0x10, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), EINVAL_);
    CHECK_EQ(set_config(h, 2, 0, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), EINVAL_);
    KAWIN_SET_CONFIG_REQUEST sc = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, 1, sizeof sc},
                                   {0, 0, 1, 1, 1, 1, 7}};
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_SET_CONFIG, &sc, sizeof sc, NULL, 0, NULL), EINVAL_);
    sc.Config.Reserved = 0;
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_SET_CONFIG, &sc, sizeof sc - 4, NULL, 0, NULL), EINVAL_);

    T("SET_CONFIG applies, keeps the generation, case folding stays on for windows");
    uint64_t gen = get_state(h).Generation;
    CHECK_EQ(set_config(h, 0, KAWIN_REPORT_ALLOW_MATCHES, KAWIN_POSTURE_BLOCK, KAWIN_POSTURE_AUDIT), 0);
    KAWIN_STATE s = get_state(h);
    CHECK_EQ(s.Config.Flags, KAWIN_CONFIG_CASE_FOLD);
    CHECK_EQ(s.Config.EventMask, KAWIN_REPORT_ALLOW_MATCHES);
    CHECK_EQ(s.Config.ProcessPosture, KAWIN_POSTURE_BLOCK);
    CHECK_EQ(s.Generation, gen);
}

static void apply(HANDLE h)
{
    T("APPLY: generation check, all or nothing, one bump per change");
    KAWIN_STATE s = get_state(h);
    RuleSpec adds[2] = {
        {501, KAWIN_KIND_FILE, KAWIN_MATCH_RECURSIVE, KAWIN_ACTION_BLOCK, 0, 0, NT "\\apply\\", NULL},
        {502, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_AUDIT, 0, 0, NT "\\apply.txt", NULL},
    };
    uint64_t rem[2] = {1000, 12345};
    KAWIN_APPLY_RESULT res;
    CHECK_EQ(apply_rules(h, s.Generation + 1, rem, 2, adds, 2, &res), KAWIN_ERROR_REVISION_MISMATCH);
    KAWIN_STATE s2 = get_state(h);
    CHECK_EQ(s2.Generation, s.Generation);
    CHECK_EQ(s2.RuleCount, s.RuleCount);
    RuleSpec bad[2] = {adds[0], adds[1]};
    bad[1].match = 9;
    CHECK_EQ(apply_rules(h, s.Generation, rem, 2, bad, 2, &res), EINVAL_);
    CHECK_EQ(get_state(h).RuleCount, s.RuleCount);
    CHECK_EQ(apply_rules(h, s.Generation, rem, 2, adds, 2, &res), 0);
    CHECK_EQ(res.Generation, s.Generation + 1);
    CHECK_EQ(res.Added, 2);
    CHECK_EQ(res.Removed, 1);
    CHECK_EQ(res.Missing, 1);
    CHECK_EQ(get_state(h).RuleCount, s.RuleCount + 1);
    CHECK_EQ(apply_rules(h, res.Generation, NULL, 0, adds, 2, &res), 0);
    CHECK_EQ(res.Generation, s.Generation + 1);

    T("APPLY: remove and re-add the same id in one transaction");
    uint64_t r501 = 501;
    CHECK_EQ(apply_rules(h, res.Generation, &r501, 1, adds, 1, &res), 0);
    CHECK_EQ(res.Removed, 1);
    CHECK_EQ(res.Added, 1);
    CHECK_EQ(res.Generation, s.Generation + 2);

    T("APPLY: header count must equal RemoveCount + AddCount");
    KW_WRITER w = {NULL, 0, 0, 1};
    KAWIN_APPLY_REQUEST a = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, 3, 0}, res.Generation, 1, 1};
    kw_wr_bytes(&w, &a, sizeof a);
    kw_wr_bytes(&w, &r501, 8);
    put_rule(&w, &adds[0]);
    finish_header(&w);
    CHECK_EQ(ioctl_call(h, IOCTL_KAWIN_APPLY, w.buf, (uint32_t)w.len, NULL, 0, NULL), EINVAL_);
    free(w.buf);
}

static void fuzz(HANDLE h)
{
    T("mutated ADD/APPLY/LIST/SET_CONFIG inputs never crash the kernel; errors are the documented ones");
    RuleSpec r[3] = {
        {31, KAWIN_KIND_FILE, KAWIN_MATCH_GLOB, KAWIN_ACTION_BLOCK, KAWIN_MATCH_RECURSIVE, 0, NT "\\fz\\**\\*.x", NT "\\bin\\"},
        {32, KAWIN_KIND_PROCESS, KAWIN_MATCH_DIRECTORY, KAWIN_ACTION_ALLOW, 0, KAWIN_RULE_READ_ONLY, NT "\\fz\\", NULL},
        {33, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_AUDIT, KAWIN_MATCH_GLOB, 0, NT "\\fz.txt", "*\\a?.exe"},
    };
    KW_WRITER w = {NULL, 0, 0, 1};
    uint64_t rem = 31;
    KAWIN_APPLY_REQUEST a = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, 4, 0}, 0, 1, 3};
    kw_wr_bytes(&w, &a, sizeof a);
    kw_wr_bytes(&w, &rem, 8);
    for (int i = 0; i < 3; i++) put_rule(&w, &r[i]);
    finish_header(&w);
    static const uint32_t codes[] = {IOCTL_KAWIN_ADD_RULES, IOCTL_KAWIN_APPLY, IOCTL_KAWIN_LIST_RULES, IOCTL_KAWIN_REMOVE_RULES,
                                     IOCTL_KAWIN_SET_CONFIG, IOCTL_KAWIN_GET_STATE};
    uint8_t *m = malloc(w.len), out[512];
    uint32_t seed = 12345, bad = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(m, w.buf, w.len);
        uint32_t len = (uint32_t)w.len;
        for (int k = 0; k < 1 + it % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            m[(seed >> 8) % len] ^= (uint8_t)(1u << ((seed >> 3) % 8));
        }
        seed = seed * 1103515245u + 12345u;
        if (seed % 5 == 0) len = (seed >> 8) % len;
        uint32_t code = codes[it % 6];
        if (code == IOCTL_KAWIN_APPLY) { /* keep the generation right half of the time, to reach the table */
            uint64_t g = get_state(h).Generation;
            if (it % 2) memcpy(m + offsetof(KAWIN_APPLY_REQUEST, ExpectedGeneration), &g, 8);
        }
        uint32_t err = ioctl_call(h, code, m, len, out, sizeof out, NULL);
        if (err != 0 && err != EINVAL_ && err != KAWIN_ERROR_REVISION_MISMATCH && err != KAWIN_ERROR_MORE_DATA) bad++;
    }
    CHECK_EQ(bad, 0);
    free(m);
    free(w.buf);
    CHECK_EQ(get_state(h).Version, KAWIN_ABI_VERSION);
    CHECK_EQ(set_config(h, KAWIN_CONFIG_CASE_FOLD, 0, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), 0);
}

static void quota(void)
{
    T("KAWIN_MAX_RULES (configurable with --max-rules): ERROR_NOT_ENOUGH_QUOTA, nothing changes");
    Daemon d;
    const char *args[] = {"--flavor", "posix", "--max-rules", "8", NULL};
    if (daemon_start(&d, args) != 0) {
        CHECK(0, "daemon");
        return;
    }
    HANDLE h = open_device(&d);
    RuleSpec r[9];
    char p[9][32];
    for (int i = 0; i < 9; i++) {
        snprintf(p[i], sizeof p[i], "/q/%d", i);
        r[i] = (RuleSpec){(uint64_t)i + 1, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, KAWIN_ACTION_BLOCK, 0, 0, p[i], NULL};
    }
    KAWIN_APPLY_RESULT res;
    CHECK_EQ(add_rules(h, r, 9, &res), KAWIN_ERROR_NOT_ENOUGH_QUOTA);
    CHECK_EQ(get_state(h).RuleCount, 0);
    CHECK_EQ(add_rules(h, r, 8, &res), 0);
    CHECK_EQ(add_rules(h, r + 8, 1, &res), KAWIN_ERROR_NOT_ENOUGH_QUOTA);
    r[0].action = KAWIN_ACTION_AUDIT;
    CHECK_EQ(add_rules(h, r, 1, &res), 0); /* upsert of an existing id needs no room */
    CHECK_EQ(res.Replaced, 1);
    uint64_t one = 1;
    CHECK_EQ(apply_rules(h, res.Generation, &one, 1, r + 8, 1, &res), 0);
    CHECK_EQ(get_state(h).RuleCount, 8);
    CloseHandle(h);
    daemon_stop(&d);
}

static void large(HANDLE h)
{
    T("100k-rule APPLY and LIST (figures printed, not asserted)");
    const uint32_t n = 100000;
    KW_WRITER w = {NULL, 0, 0, 1};
    KAWIN_STATE s = get_state(h);
    KAWIN_APPLY_REQUEST a = {{KAWIN_ABI_VERSION, sizeof(KAWIN_HEADER), 0, n, 0}, s.Generation, 0, n};
    kw_wr_bytes(&w, &a, sizeof a);
    char path[128];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, NT "\\big\\d%03u\\file%06u.dat", i % 500, i);
        RuleSpec r = {0x100000000ull + i * 7919ull, KAWIN_KIND_FILE, (uint8_t)(i % 3 ? KAWIN_MATCH_EXACT : KAWIN_MATCH_RECURSIVE),
                      KAWIN_ACTION_AUDIT, 0, 0, path, NULL};
        put_rule(&w, &r);
    }
    finish_header(&w);
    KAWIN_APPLY_RESULT res;
    double t0 = now_s();
    uint32_t err = ioctl_call(h, IOCTL_KAWIN_APPLY, w.buf, (uint32_t)w.len, &res, sizeof res, NULL);
    double tApply = now_s() - t0;
    free(w.buf);
    CHECK_EQ(err, 0);
    CHECK_EQ(res.Added, n);
    uint64_t *ids = malloc(sizeof *ids * (n + 100));
    t0 = now_s();
    long listed = list_all(h, ids, n + 100, 1u << 20, NULL);
    double tList = now_s() - t0;
    CHECK_EQ(listed, get_state(h).RuleCount);
    int asc = 1;
    for (long i = 1; i < listed; i++) asc &= ids[i] > ids[i - 1];
    CHECK(asc, "listing not ascending");
    free(ids);
    printf("  (sanitized build) APPLY of %u rules: %.1f ms, LIST in 1 MiB pages: %.1f ms\n", n, tApply * 1e3, tList * 1e3);
}

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The table's ids (listed) against the model's (sorted in place); 1 when equal. */
static int table_is(HANDLE h, uint64_t *model, uint32_t n)
{
    qsort(model, n, sizeof *model, cmp_id);
    uint64_t *ids = malloc(sizeof *ids * (n + 1));
    long listed = list_all(h, ids, n + 1, 64 * 1024, NULL);
    int same = listed == (long)n && memcmp(ids, model, sizeof *ids * n) == 0;
    free(ids);
    return same;
}

static void large_random(HANDLE h)
{
    T("APPLY at scale in random id order: the last record of an id wins, removals and merges keep the table sorted");
    enum { N = 6000, DUPS = 300, REMOVE = 1000, ABSENT = 50, ADD = 1500 };
    uint64_t x = 0x9e3779b97f4a7c15ull;
    RuleSpec *r = calloc(N + ADD, sizeof *r);
    char (*paths)[64] = calloc(N + ADD, sizeof *paths);
    uint64_t *model = malloc(sizeof *model * (N + ADD));
    for (uint32_t i = 0; i < N + ADD; i++) {
        /* ids over the whole 64-bit range (every radix digit varies); the first DUPS after
         * N - DUPS repeat earlier ids with another action and path */
        uint64_t id = i >= N - DUPS && i < N ? r[(i * 7) % (N - DUPS)].id : (next_random(&x) | 1);
        snprintf(paths[i], sizeof paths[i], NT "\\r\\%u.dat", i);
        r[i] = (RuleSpec){id, KAWIN_KIND_FILE, KAWIN_MATCH_EXACT, i < N - DUPS ? KAWIN_ACTION_AUDIT : KAWIN_ACTION_BLOCK, 0, 0, paths[i], NULL};
    }
    KAWIN_APPLY_RESULT res;
    /* From an empty table (earlier cases leave rules behind). */
    uint64_t *before = malloc(sizeof *before * 4096);
    long present = list_all(h, before, 4096, 64 * 1024, NULL);
    CHECK(present >= 0 && present <= 4096, "listing the table before");
    if (present > 0) CHECK_EQ(remove_rules(h, before, (uint32_t)present, &res), 0);
    free(before);
    CHECK_EQ(get_state(h).RuleCount, 0);
    const uint32_t unique = N - DUPS;
    CHECK_EQ(apply_rules(h, get_state(h).Generation, NULL, 0, r, N, &res), 0);
    CHECK_EQ(res.Added, unique);
    for (uint32_t i = 0; i < unique; i++) model[i] = r[i].id;
    CHECK(table_is(h, model, unique), "table after the first APPLY");

    /* The records that won, sent again in reverse: nothing differs, nothing is written. */
    RuleSpec *won = malloc(sizeof *won * unique);
    for (uint32_t i = 0; i < unique; i++) won[unique - 1 - i] = r[i];
    for (uint32_t i = N - DUPS; i < N; i++) won[unique - 1 - (i * 7) % (N - DUPS)] = r[i];
    uint64_t generation = get_state(h).Generation;
    CHECK_EQ(apply_rules(h, generation, NULL, 0, won, unique, &res), 0);
    CHECK_EQ(res.Added + res.Replaced, 0);
    CHECK_EQ(get_state(h).Generation, generation);

    /* Remove a spread of present ids and some absent ones, add new ones in between. */
    uint64_t *rem = malloc(sizeof *rem * (REMOVE + ABSENT));
    uint32_t kept = 0;
    for (uint32_t i = 0; i < unique; i++) {
        if (i % 3 == 1 && i / 3 < REMOVE) rem[i / 3] = r[i].id;
        else model[kept++] = r[i].id;
    }
    for (uint32_t i = 0; i < ABSENT; i++) rem[REMOVE + i] = next_random(&x) | 1;
    for (uint32_t i = 0; i < ADD; i++) model[kept++] = r[N + i].id;
    CHECK_EQ(apply_rules(h, generation, rem, REMOVE + ABSENT, r + N, ADD, &res), 0);
    CHECK_EQ(res.Removed, REMOVE);
    CHECK_EQ(res.Missing, ABSENT);
    CHECK_EQ(res.Added, ADD);
    CHECK(table_is(h, model, kept), "table after removals and additions");
    CHECK_EQ(get_state(h).RuleCount, kept);

    /* Remove everything: the table is empty. */
    CHECK_EQ(remove_rules(h, model, kept, &res), 0);
    CHECK_EQ(res.Removed, kept);
    CHECK_EQ(get_state(h).RuleCount, 0);
    free(rem);
    free(won);
    free(model);
    free(paths);
    free(r);
}

static void layout(void)
{
    T("KawinEmu_GetLayout: sizes, offsets and constants as JSON, no kernel needed");
    static char buf[16384];
    CHECK_EQ(KawinEmu_GetLayout(buf, sizeof buf), 0);
    CHECK(strstr(buf, "\"KAWIN_RULE\":{\"size\":24,\"fields\":{\"Size\":0,\"Kind\":4,") != NULL, "KAWIN_RULE entry");
    CHECK(strstr(buf, "\"KAWIN_EVENT\":{\"size\":64,") != NULL, "KAWIN_EVENT entry");
    CHECK(strstr(buf, "\"KAWIN_STATE\":{\"size\":64,") != NULL, "KAWIN_STATE entry");
    CHECK(strstr(buf, "\"IOCTL_KAWIN_APPLY\":2149752852") != NULL, "APPLY code");
    CHECK(buf[0] == '{' && buf[strlen(buf) - 1] == '}', "JSON object");
    CHECK_EQ(KawinEmu_GetLayout(buf, 64), KAWIN_ERROR_INSUFFICIENT_BUFFER);
    CHECK_EQ(KawinEmu_GetLayout(NULL, 0), KAWIN_ERROR_INSUFFICIENT_BUFFER);
}

void test_ioctls(void)
{
    layout();
    Daemon d;
    if (daemon_start(&d, NULL) != 0) {
        CHECK(0, "daemon did not start");
        return;
    }
    HANDLE h = open_device(&d);
    CHECK(h != INVALID_HANDLE_VALUE, "CreateFileW failed: %u", GetLastError());
    state_defaults(h);
    add_remove(h);
    paging(h);
    malformed(h);
    apply(h);
    fuzz(h);
    large_random(h);
    large(h);
    T("CloseHandle twice: second is ERROR_INVALID_HANDLE");
    CHECK(CloseHandle(h), "close");
    CHECK(!CloseHandle(h) && GetLastError() == KAWIN_ERROR_INVALID_HANDLE, "second close");
    daemon_stop(&d);
    quota();
}
