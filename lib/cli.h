/* cli.h: conventions shared by every tool (doc/design.md §5): diagnostics,
 * exit codes, range-checked numbers, environment options, the exit/SIGUSR1
 * summary and the terminal progress line.
 *
 * This is the one part of lib/ that prints: log_*() write one line each to
 * stderr, prefixed "prog: level: ". Nothing here exits.
 */
#ifndef ORA_CLI_H
#define ORA_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum ora_exit {
    ORA_EX_OK = 0, ORA_EX_USAGE = 64, ORA_EX_DATAERR = 65, ORA_EX_UNAVAILABLE = 69,
    ORA_EX_SOFTWARE = 70, ORA_EX_IOERR = 74, ORA_EX_TEMPFAIL = 75, ORA_EX_CONFIG = 78
};

enum ora_log_level { ORA_LOG_ERROR = 0, ORA_LOG_WARN = 1, ORA_LOG_INFO = 2, ORA_LOG_DEBUG = 3 };

/* Sets the program name (basename of argv0) and the level from ORA_LOG
 * (debug|info|warn|error; default info), ignores SIGPIPE so that a failed
 * write returns EPIPE, and installs the SIGUSR1 handler behind
 * cli_poll(). Unless ORA_ALLOW_CORE=1, turns core dumps off (RLIMIT_CORE 0,
 * PR_SET_DUMPABLE 0: no core file, no ptrace by other processes), since
 * stages hold secrets. Returns -1 when ORA_LOG holds an unknown level (the level
 * stays info; the caller reports it). */
int cli_init(const char *argv0);
/* cli_init, and when ORA_LOG is unknown the error saying so. Returns 0, or
 * ORA_EX_CONFIG (78) for main to return. */
int cli_start(const char *argv0);
const char *cli_prog(void);

/* The version of the whole suite, set by the Makefile: "1.1.0 (git 1a2b3c4)". */
extern const char ora_version[];
/* --help: prints text on stdout and closes it. Returns the exit status (0,
 * or 74 when stdout could not be written). */
int cli_print_usage(const char *text);
/* --version: prints "prog VERSION" on stdout and closes it. Returns the exit
 * status (0, or 74 when stdout could not be written). */
int cli_print_version(void);
/* A command-line error: one line "prog: error: <msg>; try 'prog --help'".
 * Returns ORA_EX_USAGE (64) for the caller to exit with. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For getopt_long's default case, with opterr = 0 and ':' leading the
 * optstring: reports c (':' missing argument, '?' unknown option), naming
 * the option as typed, through cli_usage_error. Returns ORA_EX_USAGE. */
int cli_bad_option(int c, char *const argv[]);
void cli_set_level(int level);
int cli_level(void);

/* "prog: error: <fmt>\n" etc. Messages must never contain secrets. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_at(int level, const char *fmt, va_list ap);

/* Numbers. Each returns 0 and sets *out, or -1 when s is not a whole valid
 * number within [min, max] (no sign for unsigned, no trailing junk).
 * cli_parse_size also takes a K/M/G suffix (powers of 1024). */
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int cli_parse_double(const char *s, double min, double max, double *out);
/* "A..B" or "A" (then B = A), both within [min, max], A <= B. */
int cli_parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *a, uint64_t *b);

/* getenv(name) when set and non-empty, else NULL. Flags win over it: call
 * before parsing options, or only for options the user did not give. */
const char *cli_env(const char *name);

/* A number from the environment, when name is set (cli_env): parsed into
 * *out as cli_parse_u64 (whole number) or cli_parse_size (K/M/G) would.
 * Returns 0 (also when unset: *out keeps its default), or ORA_EX_CONFIG
 * (78) after "unable to use NAME=VALUE: not a whole number in MIN..MAX"
 * ("a size" for cli_env_size). */
int cli_env_u64(const char *name, uint64_t min, uint64_t max, uint64_t *out);
int cli_env_size(const char *name, uint64_t min, uint64_t max, uint64_t *out);

/* Time. */
double cli_now(void);          /* monotonic seconds */
uint64_t cli_wall_ns(void);    /* CLOCK_REALTIME in ns */

/* Summary. The tool registers a function that formats its counters into
 * buf (no prefix, no newline), given the seconds since cli_init(). */
typedef void (*cli_summary_fn)(char *buf, size_t n, double elapsed);
void cli_set_summary(cli_summary_fn fn);
/* Cheap; call often (per record). Prints "prog: summary: ..." when SIGUSR1
 * arrived, and a progress line ("\r" on a terminal, once a second) when
 * stderr is a tty. */
void cli_poll(void);
/* The final "prog: summary: ..." line (call once, on exit); not printed
 * when ORA_LOG is warn or error. */
void cli_summary(void);
/* Nonzero once SIGUSR1 arrived and not yet served (cli_poll serves it). */
int cli_usr1_pending(void);

/* Rates for summaries: "12.3k", "1.20M" style for counts per second. */
const char *cli_human(double v, char *buf, size_t n);

/* Closes stdout checking every error (a full disk, a closed pipe): 0 or -1
 * with errno. Call once at the end when stdout was written with stdio or fd 1. */
int cli_close_stdout(void);

/* -i FILE / -o FILE: path opened for reading, or for writing (created with
 * mode 0666 less the umask, truncated), close-on-exec. A NULL path or "-"
 * gives standard input (0) or output (1). The fd, or -1 with errno. */
int cli_open_in(const char *path);
int cli_open_out(const char *path);
/* Both of the above, in that order, each failure logged as "unable to
 * open PATH: reason". 0 with *in_fd and *out_fd set, or ORA_EX_IOERR (an
 * input opened before the output failed is closed). */
int cli_open_io(const char *in_path, const char *out_path, int *in_fd, int *out_fd);

/* Installs fn for SIGTERM and SIGINT without SA_RESTART, so that a blocked
 * read(2) or poll(2) returns EINTR at once and the tool can drain. */
void cli_on_stop(void (*fn)(int));

/* write(2) all of buf to fd, retrying on EINTR and short writes. 0, or -1 with errno. */
int cli_write_all(int fd, const void *buf, size_t n);

/* Confines the process with sb (sandbox.h), unless ORA_SANDBOX=off: logs
 * what it allows (debug) and, once, a layer this kernel or build lacks
 * (info). 0, or ORA_EX_SOFTWARE after "unable to confine: reason" (the
 * stage must not run believing it is confined). */
struct ora_sandbox;
int cli_confine(const struct ora_sandbox *sb);
/* cli_confine with the allowance of a filter stage (ora_sandbox_filter):
 * stdio, and the directory of metrics_path (may be NULL). */
int cli_confine_filter(const char *metrics_path);

#endif
