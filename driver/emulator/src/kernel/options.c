/* Command-line options of kawin-driverd (documented in docs/driver.md). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static const char usage[] =
    "usage: kawin-driverd --dir DIR [--flavor windows|posix] [--ring N] [--drive C:=\\Device\\HarddiskVolume3]...\n"
    "                     [--user-sid SID] [--max-rules N] [--daemonize] [--log FILE]\n";

void fail(const char *fmt, ...)
{
    va_list ap;
    fputs("kawin-driverd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static uint32_t parse_num(const char *s, const char *flag, uint32_t min, uint32_t max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || v < min || v > max) fail("%s: expected a number in %u..%u, got '%s'", flag, min, max, s);
    return (uint32_t)v;
}

void parse_args(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    o->flavor = KAWIN_FLAVOR_WINDOWS;
    o->ring = KAWIN_DEFAULT_RING_CAPACITY;
    o->maxRules = KAWIN_MAX_RULES;
    o->sid = "S-1-5-18";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--daemonize")) { o->daemonize = 1; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); exit(0); }
        if (!v) fail("%s needs a value (or is unknown)\n%s", a, usage);
        i++;
        if (!strcmp(a, "--dir")) o->dir = v;
        else if (!strcmp(a, "--log")) o->log = v;
        else if (!strcmp(a, "--user-sid")) o->sid = v;
        else if (!strcmp(a, "--ring")) o->ring = parse_num(v, a, 1, 1u << 24);
        else if (!strcmp(a, "--max-rules")) o->maxRules = parse_num(v, a, 1, KAWIN_MAX_RULES);
        else if (!strcmp(a, "--flavor")) {
            if (!strcmp(v, "windows")) o->flavor = KAWIN_FLAVOR_WINDOWS;
            else if (!strcmp(v, "posix")) o->flavor = KAWIN_FLAVOR_POSIX;
            else fail("--flavor: expected windows or posix, got '%s'", v);
        } else if (!strcmp(a, "--drive")) {
            if (o->ndrives == 26) fail("--drive: at most 26 drives");
            o->drives[o->ndrives++] = v;
        } else fail("unknown option '%s'\n%s", a, usage);
    }
    if (!o->dir) fail("--dir DIR is required\n%s", usage);
}

void add_drive(const char *spec)
{
    if (drive_add(spec)) fail("--drive: expected LETTER:=\\Device\\Name with a letter not given before, got '%s'", spec);
}
