/* unit.h: what every C unit test shares. Each tests/unit/NAME.c is a program
 * of its own that includes this once: checks that count failures and name
 * the file and line, the summary that becomes the exit status, and small
 * helpers. The exit status is the verdict (make unit, tests/tools/mutants):
 * 0 when every check held, non-zero otherwise.
 *
 * A test that may fail in a loop many times over defines UNIT_MAX_FAILS
 * before including this: past that many failures it stops with status 1. */
#ifndef ORA_UNIT_H
#define ORA_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Checks failed so far. */
static int unit_fails;

/* Counts one failed check (its message is already written). */
static inline void unit_failed(void)
{
    unit_fails++;
#ifdef UNIT_MAX_FAILS
    if (unit_fails > UNIT_MAX_FAILS) {
        fprintf(stderr, "too many failures (%d)\n", unit_fails);
        exit(1);
    }
#endif
}

/* Reports check cond at file:line as failed, with a printf-style detail
 * when fmt is given, and counts it. */
static inline void unit_check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline void unit_check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
{
    fprintf(stderr, "%s:%d: check failed: %s", file, line, cond);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs(": ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    unit_failed();
}

/* CHECK(cond): a failed cond is reported as FILE:LINE and its text.
 * CHECKF(cond, fmt, ...): the same, followed by a printf-style detail. */
#define CHECK(c) do { if (!(c)) unit_check_failed(__FILE__, __LINE__, #c, NULL); } while (0)
#define CHECKF(c, ...) do { if (!(c)) unit_check_failed(__FILE__, __LINE__, #c, __VA_ARGS__); } while (0)

#define UNIT_LEN(a) (sizeof(a) / sizeof(a)[0])

/* Says how test `name` went (stdout when it passed, stderr when not) and
 * returns the exit status for main: 0 when every check held, else 1. */
static inline int unit_summary(const char *name)
{
    if (unit_fails) {
        fprintf(stderr, "%s: %d checks failed\n", name, unit_fails);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

/* malloc that never returns NULL (n may be 0): out of memory ends the test
 * with status 2, as a test that could not run. */
static inline void *unit_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        perror("malloc");
        exit(2);
    }
    return p;
}

#endif
