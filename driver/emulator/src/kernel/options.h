/* Command-line options of kawin-driverd. */
#ifndef KAWIN_OPTIONS_H
#define KAWIN_OPTIONS_H

#include "kernel.h"

typedef struct Options {
    const char *dir, *log, *sid;
    int flavor, daemonize;
    uint32_t ring, maxRules;
    const char *drives[26];
    int ndrives;
} Options;

void parse_args(int argc, char **argv, Options *o);
void add_drive(const char *spec); /* "C:=\\Device\\HarddiskVolume3" into K.drives; exits on error */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
