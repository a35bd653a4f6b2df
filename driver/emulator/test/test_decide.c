/* The decision procedure, table-driven, on both flavours (driver-abi.md "Decision for one operation"). */
#include <string.h>

#include "harness.h"

#define NT "\\Device\\HarddiskVolume3"
#define R KAWIN_ACCESS_READ_DATA
#define W KAWIN_ACCESS_WRITE_DATA
#define F KAWIN_KIND_FILE
#define P KAWIN_KIND_PROCESS
#define EX KAWIN_MATCH_EXACT
#define DI KAWIN_MATCH_DIRECTORY
#define RE KAWIN_MATCH_RECURSIVE
#define GL KAWIN_MATCH_GLOB
#define ALLOW KAWIN_ACTION_ALLOW
#define AUDIT KAWIN_ACTION_AUDIT
#define BLOCK KAWIN_ACTION_BLOCK

typedef struct Case {
    int kind; /* F: file open, P: process create (path = image, image = parent) */
    const char *path, *image;
    uint32_t access;
    uint32_t decision;
    uint64_t ruleId;
    uint32_t err;
} Case;

static void run_cases(const Daemon *d, const Case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        KAWIN_EMU_DECISION out;
        memset(&out, 0, sizeof out);
        uint32_t err = c[i].kind == F ? KawinEmu_SimulateFileOpen(d->dev, c[i].path, c[i].image, 1234, c[i].access, &out)
                                      : KawinEmu_SimulateProcessCreate(d->dev, c[i].path, c[i].image, 1234, NULL, &out);
        CHECK(err == c[i].err, "case %zu %s by %s: error %u, expected %u", i, c[i].path, c[i].image, err, c[i].err);
        if (err) continue;
        CHECK(out.Decision == c[i].decision && out.RuleId == c[i].ruleId,
              "case %zu %s by %s access 0x%x: decision %u rule %llu, expected %u rule %llu", i, c[i].path, c[i].image,
              c[i].access, out.Decision, (unsigned long long)out.RuleId, c[i].decision, (unsigned long long)c[i].ruleId);
        int denied = out.Decision == KAWIN_DECISION_BLOCK || out.Decision == KAWIN_DECISION_POSTURE_BLOCK;
        CHECK_EQ(out.Status, denied ? KAWIN_STATUS_ACCESS_DENIED : KAWIN_STATUS_SUCCESS);
        if (c[i].kind == P) CHECK(denied ? out.ProcessId == 0 : out.ProcessId != 0, "pid %u", out.ProcessId);
    }
}

static const RuleSpec winRules[] = {
    {1, F, EX, BLOCK, 0, 0, NT "\\Windows\\System32\\cmd.exe", NULL},
    {2, F, DI, AUDIT, 0, 0, NT "\\Secrets\\", NULL},
    {3, F, RE, BLOCK, 0, 0, NT "\\Private\\", NULL},
    {4, F, GL, AUDIT, 0, 0, NT "\\Users\\*\\.ssh\\*.pem", NULL},
    {5, F, GL, BLOCK, 0, 0, NT "\\Logs\\**\\*.log", NULL},
    {6, F, EX, BLOCK, EX, 0, NT "\\Data\\db.txt", NT "\\Tools\\bad.exe"},
    {7, F, RE, BLOCK, 0, KAWIN_RULE_READ_ONLY, NT "\\Etc\\", NULL},
    {8, F, EX, AUDIT, 0, 0, NT "\\Both.txt", NULL},
    {9, F, EX, BLOCK, 0, 0, NT "\\Both.txt", NULL},
    {12, F, EX, BLOCK, 0, 0, NT "\\Tie.txt", NULL},
    {11, F, EX, BLOCK, 0, 0, NT "\\Tie.txt", NULL},
    {13, F, RE, BLOCK, RE, 0, NT "\\Vault\\", NT "\\Untrusted\\"},
    {14, F, EX, AUDIT, GL, 0, NT "\\Audit.txt", "**\\powershell.exe"},
    {15, F, EX, BLOCK, 0, 0, NT "\\Caf\xc3\xa9\\\xc3\x89T\xc3\x89.txt", NULL},
    {16, F, EX, BLOCK, 0, 0, NT "\\\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", NULL},
    {17, F, GL, AUDIT, 0, 0, NT "\\Srv\\file?.txt", NULL},
    {18, F, EX, BLOCK, 0, 0, "\\Device\\HarddiskVolume7\\d.txt", NULL},
    {19, F, GL, AUDIT, 0, 0, "**\\*.key", NULL},
    {24, P, EX, BLOCK, 0, 0, NT "\\Windows\\System32\\certutil.exe", NULL},
};

#define X "C:\\Windows\\explorer.exe"
static const Case winCases[] = {
    {F, "C:\\Windows\\System32\\cmd.exe", X, R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "c:\\windows\\system32\\CMD.EXE", X, R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "c:/windows/system32/cmd.exe", X, R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, NT "\\Windows\\System32\\cmd.exe", X, R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "C:\\Windows\\System32\\cmd.exe.bak", X, R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Secrets\\a.txt", X, R, KAWIN_DECISION_AUDIT, 2, 0},
    {F, "C:\\Secrets\\sub\\a.txt", X, R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Secrets", X, R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Private\\x\\y\\z.txt", X, R, KAWIN_DECISION_BLOCK, 3, 0},
    {F, "C:\\PrivateX\\a", X, R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Users\\bob\\.ssh\\id.pem", X, R, KAWIN_DECISION_AUDIT, 4, 0},
    {F, "C:\\Users\\bob\\x\\.ssh\\id.pem", X, R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Logs\\a.log", X, R, KAWIN_DECISION_BLOCK, 5, 0},
    {F, "C:\\Logs\\x\\y\\a.log", X, R, KAWIN_DECISION_BLOCK, 5, 0},
    {F, "C:\\Logs\\x\\a.txt", X, R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Data\\db.txt", "C:\\Tools\\bad.exe", R, KAWIN_DECISION_BLOCK, 6, 0},
    {F, "C:\\Data\\db.txt", "C:\\Tools\\good.exe", R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Data\\db.txt", "", R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Etc\\hosts", X, R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Etc\\hosts", X, W, KAWIN_DECISION_BLOCK, 7, 0},
    {F, "C:\\Etc\\hosts", X, KAWIN_ACCESS_DELETE, KAWIN_DECISION_BLOCK, 7, 0},
    {F, "C:\\Both.txt", X, R, KAWIN_DECISION_BLOCK, 9, 0},
    {F, "C:\\Tie.txt", X, R, KAWIN_DECISION_BLOCK, 11, 0},
    {F, "C:\\Vault\\k", "C:\\Untrusted\\x\\app.exe", R, KAWIN_DECISION_BLOCK, 13, 0},
    {F, "C:\\Vault\\k", "C:\\Trusted\\app.exe", R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Audit.txt", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\POWERSHELL.exe", R, KAWIN_DECISION_AUDIT, 14, 0},
    {F, "C:\\CAF\xc3\x89\\\xc3\xa9t\xc3\xa9.TXT", X, R, KAWIN_DECISION_BLOCK, 15, 0},
    {F, "C:\\\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", X, R, KAWIN_DECISION_BLOCK, 16, 0},
    {F, "C:\\Srv\\file1.txt", X, R, KAWIN_DECISION_AUDIT, 17, 0},
    {F, "C:\\Srv\\file12.txt", X, R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "D:\\d.txt", X, R, KAWIN_DECISION_BLOCK, 18, 0},
    {F, "C:\\any\\where\\my.KEY", X, R, KAWIN_DECISION_AUDIT, 19, 0},
    {F, "Z:\\nowhere.txt", X, R, 0, 0, KAWIN_ERROR_INVALID_PARAMETER},
    {F, "relative.txt", X, R, 0, 0, KAWIN_ERROR_INVALID_PARAMETER},
    {P, "C:\\Windows\\System32\\cmd.exe", X, 0, KAWIN_DECISION_ALLOW, 0, 0}, /* file rules do not govern exec */
    /* Path forms: the filter manager hands the minifilter normalized names, so none of these bypasses a rule. */
    {P, "C:\\Windows\\System32\\certutil.exe", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\Windows\\\\System32\\\\certutil.exe", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\Windows\\.\\System32\\.\\certutil.exe", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\Windows\\Temp\\..\\System32\\certutil.exe", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\..\\..\\Windows\\System32\\certutil.exe", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\Windows\\System32\\certutil.exe.", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\Windows\\System32\\certutil.exe . .", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\Windows.\\System32 \\certutil.exe", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\Windows\\System32\\certutil.exe::$DATA", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "c:/windows/system32/CERTUTIL.EXE::$data", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, NT "\\Windows\\System32\\..\\System32\\certutil.exe", X, 0, KAWIN_DECISION_BLOCK, 24, 0},
    {P, "C:\\Windows\\System32\\certutil.exe:evil", X, 0, KAWIN_DECISION_ALLOW, 0, 0}, /* another stream: another object */
    {P, "C:\\Windows\\System32\\certutil.exe2", X, 0, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\Data\\db.txt", "C:\\Tools\\.\\x\\..\\bad.exe.", R, KAWIN_DECISION_BLOCK, 6, 0}, /* the image too */
    {F, "C:\\Secrets\\sub\\..\\a.txt", X, R, KAWIN_DECISION_AUDIT, 2, 0},
};

static const RuleSpec allowRules[] = {
    {20, P, EX, ALLOW, 0, 0, NT "\\Windows\\System32\\notepad.exe", NULL},
    {21, F, RE, ALLOW, EX, 0, NT "\\App\\Data\\", NT "\\App\\app.exe"},
    {22, F, EX, ALLOW, EX, KAWIN_RULE_READ_ONLY, NT "\\App\\config.ini", NT "\\App\\app.exe"},
    {23, F, EX, BLOCK, 0, 0, NT "\\App\\Data\\secret", NULL},
};

#define APP "C:\\App\\app.exe"
static const Case allowAudit[] = {
    {P, "C:\\Windows\\System32\\notepad.exe", X, 0, KAWIN_DECISION_ALLOW, 20, 0},
    {P, "C:\\Windows\\System32\\calc.exe", X, 0, KAWIN_DECISION_POSTURE_AUDIT, 0, 0},
    {F, "C:\\App\\Data\\x", APP, R, KAWIN_DECISION_ALLOW, 21, 0},
    {F, "C:\\App\\Data\\x", APP, W, KAWIN_DECISION_ALLOW, 21, 0},
    {F, "C:\\Other\\y", APP, R, KAWIN_DECISION_POSTURE_AUDIT, 0, 0},
    {F, "C:\\Other\\y", "C:\\Other\\other.exe", R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "C:\\App\\config.ini", APP, R, KAWIN_DECISION_ALLOW, 22, 0},
    {F, "C:\\App\\config.ini", APP, W, KAWIN_DECISION_POSTURE_AUDIT, 0, 0},
    {F, "C:\\App\\Data\\secret", APP, R, KAWIN_DECISION_BLOCK, 23, 0},
};
static const Case allowBlock[] = {
    {P, "C:\\Windows\\System32\\calc.exe", X, 0, KAWIN_DECISION_POSTURE_BLOCK, 0, 0},
    {F, "C:\\Other\\y", APP, R, KAWIN_DECISION_POSTURE_BLOCK, 0, 0},
    {F, "C:\\App\\config.ini", APP, W, KAWIN_DECISION_POSTURE_BLOCK, 0, 0},
    {F, "C:\\Other\\y", "C:\\Other\\other.exe", R, KAWIN_DECISION_ALLOW, 0, 0},
};

static const RuleSpec posixRules[] = {
    {1, F, EX, BLOCK, 0, 0, "/etc/shadow", NULL},
    {2, F, DI, AUDIT, 0, 0, "/etc/", NULL},
    {3, F, RE, BLOCK, 0, KAWIN_RULE_READ_ONLY, "/var/log/", NULL},
    {4, F, GL, AUDIT, 0, 0, "/home/*/.bashrc", NULL},
    {5, F, GL, BLOCK, 0, 0, "/tmp/**", NULL},
    {6, F, GL, AUDIT, 0, 0, "/srv/file?.txt", NULL},
    {7, P, DI, ALLOW, 0, 0, "/usr/bin/", NULL},
    {8, F, EX, BLOCK, GL, 0, "/data/x", "/opt/*/bin/*"},
};
static const Case posixCases[] = {
    {F, "/etc/shadow", "/bin/cat", R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "/etc/SHADOW", "/bin/cat", R, KAWIN_DECISION_AUDIT, 2, 0}, /* case-sensitive: only the directory rule */
    {F, "/etc/passwd", "/bin/cat", R, KAWIN_DECISION_AUDIT, 2, 0},
    {F, "/etc/ssh/sshd_config", "/bin/cat", R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "/var/log/a/b", "/bin/sh", W, KAWIN_DECISION_BLOCK, 3, 0},
    {F, "/var/log/a/b", "/bin/sh", R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "/home/u/.bashrc", "/bin/sh", R, KAWIN_DECISION_AUDIT, 4, 0},
    {F, "/home/u/x/.bashrc", "/bin/sh", R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "/tmp/a/b/c", "/bin/sh", R, KAWIN_DECISION_BLOCK, 5, 0},
    {F, "/srv/file1.txt", "/bin/sh", R, KAWIN_DECISION_AUDIT, 6, 0},
    {F, "/srv/file12.txt", "/bin/sh", R, KAWIN_DECISION_ALLOW, 0, 0},
    {F, "/data/x", "/opt/tool/bin/run", R, KAWIN_DECISION_BLOCK, 8, 0},
    {F, "/data/x", "/opt/tool/sbin/run", R, KAWIN_DECISION_ALLOW, 0, 0},
    {P, "/usr/bin/ls", "/bin/sh", 0, KAWIN_DECISION_ALLOW, 7, 0},
    {P, "/usr/local/bin/x", "/bin/sh", 0, KAWIN_DECISION_POSTURE_AUDIT, 0, 0},
    {F, "//etc///shadow", "/bin/cat", R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "/etc/./shadow", "/bin/cat", R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "/tmp/../etc/shadow", "/bin/cat", R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "/../../etc/shadow", "/bin/cat", R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "/etc/shadow.", "/bin/cat", R, KAWIN_DECISION_AUDIT, 2, 0}, /* a trailing dot is part of a posix name */
};
static const Case posixFolded[] = {
    {F, "/etc/SHADOW", "/bin/cat", R, KAWIN_DECISION_BLOCK, 1, 0},
    {F, "/HOME/u/.BASHRC", "/bin/sh", R, KAWIN_DECISION_AUDIT, 4, 0},
};

#define N(a) (sizeof a / sizeof a[0])

void test_decisions(void)
{
    Daemon d;
    const char *args[] = {"--drive", "C:=\\Device\\HarddiskVolume3", "--drive", "d:=\\Device\\HarddiskVolume7\\", NULL};
    if (daemon_start(&d, args) != 0) {
        CHECK(0, "daemon");
        return;
    }
    HANDLE h = open_device(&d);
    T("windows: exact/directory/recursive/glob, fromSource, read-only, precedence, folding, drives");
    CHECK_EQ(add_rules(h, winRules, N(winRules), NULL), 0);
    run_cases(&d, winCases, N(winCases));

    T("windows: allow-lists (global and per source), default posture audit");
    CHECK_EQ(KawinEmu_Reset(d.dev), 0);
    CloseHandle(h);
    h = open_device(&d);
    CHECK_EQ(add_rules(h, allowRules, N(allowRules), NULL), 0);
    run_cases(&d, allowAudit, N(allowAudit));
    T("windows: default posture block");
    CHECK_EQ(set_config(h, 0, 0, KAWIN_POSTURE_BLOCK, KAWIN_POSTURE_BLOCK), 0);
    run_cases(&d, allowBlock, N(allowBlock));

    T("windows: removing the only Allow rule deactivates the allow-list");
    uint64_t id20 = 20;
    CHECK_EQ(remove_rules(h, &id20, 1, NULL), 0);
    Case after[] = {{P, "C:\\Windows\\System32\\calc.exe", X, 0, KAWIN_DECISION_ALLOW, 0, 0}};
    run_cases(&d, after, 1);

    T("rules of one path leave one at a time: the index keeps finding the others");
    CHECK_EQ(KawinEmu_Reset(d.dev), 0);
    CloseHandle(h);
    h = open_device(&d);
    const RuleSpec same[] = {
        {40, F, EX, AUDIT, 0, 0, NT "\\Shared\\Same.txt", NULL},
        {41, F, EX, BLOCK, 0, 0, NT "\\shared\\SAME.TXT", NULL},
        {42, F, EX, AUDIT, 0, KAWIN_RULE_READ_ONLY, NT "\\Shared\\same.txt", NULL},
    };
    CHECK_EQ(add_rules(h, same, N(same), NULL), 0);
    Case all[] = {{F, "C:\\Shared\\Same.txt", X, R, KAWIN_DECISION_BLOCK, 41, 0}};
    run_cases(&d, all, 1);
    uint64_t id40 = 40, id41 = 41, id42 = 42;
    CHECK_EQ(remove_rules(h, &id40, 1, NULL), 0); /* the rule whose string the index entry used */
    run_cases(&d, all, 1);
    CHECK_EQ(remove_rules(h, &id41, 1, NULL), 0);
    Case readOnly[] = {{F, "C:\\Shared\\Same.txt", X, W, KAWIN_DECISION_AUDIT, 42, 0},
                       {F, "C:\\Shared\\Same.txt", X, R, KAWIN_DECISION_ALLOW, 0, 0}};
    run_cases(&d, readOnly, N(readOnly));
    CHECK_EQ(add_rules(h, same, 1, NULL), 0);
    CHECK_EQ(remove_rules(h, &id42, 1, NULL), 0);
    Case first[] = {{F, "C:\\Shared\\Same.txt", X, R, KAWIN_DECISION_AUDIT, 40, 0}};
    run_cases(&d, first, 1);
    CHECK_EQ(remove_rules(h, &id40, 1, NULL), 0);
    Case none[] = {{F, "C:\\Shared\\Same.txt", X, R, KAWIN_DECISION_ALLOW, 0, 0}};
    run_cases(&d, none, 1);

    T("BenchDecide reports a time per decision");
    double ns = 0;
    CHECK_EQ(KawinEmu_BenchDecide(d.dev, "C:\\App\\Data\\x", APP, R, 1000, &ns), 0);
    CHECK(ns > 0, "ns %f", ns);
    CHECK_EQ(KawinEmu_BenchDecide(d.dev, "C:\\App\\Data\\x", APP, R, 0, &ns), KAWIN_ERROR_INVALID_PARAMETER);
    CloseHandle(h);
    daemon_stop(&d);

    const char *pargs[] = {"--flavor", "posix", NULL};
    if (daemon_start(&d, pargs) != 0) {
        CHECK(0, "posix daemon");
        return;
    }
    h = open_device(&d);
    T("posix: '/' separators, case-sensitive by default");
    KAWIN_STATE s = get_state(h);
    CHECK_EQ(s.Flavor, KAWIN_FLAVOR_POSIX);
    CHECK_EQ(s.Config.Flags, 0);
    CHECK_EQ(add_rules(h, posixRules, N(posixRules), NULL), 0);
    run_cases(&d, posixCases, N(posixCases));
    T("posix: CASE_FOLD on reindexes the table");
    CHECK_EQ(set_config(h, KAWIN_CONFIG_CASE_FOLD, 0, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), 0);
    CHECK_EQ(get_state(h).Config.Flags, KAWIN_CONFIG_CASE_FOLD);
    run_cases(&d, posixFolded, N(posixFolded));
    CHECK_EQ(set_config(h, 0, 0, KAWIN_POSTURE_AUDIT, KAWIN_POSTURE_AUDIT), 0);
    run_cases(&d, posixCases, N(posixCases));
    CloseHandle(h);
    daemon_stop(&d);
}
