/* cliopt.h: a tool's command-line options as one table, parsed the way
 * every tool must (doc/design.md §5): getopt_long with
 * opterr = 0 and a leading ':', numbers with range checks, --help and
 * --version, and one-line usage errors (64) through cli.h.
 *
 * The table replaces the struct option array and the switch each tool
 * wrote by hand: one entry names an option, says how its value is parsed
 * and where it goes. Like cli.c, it prints only usage errors, --help and
 * --version, and never exits.
 */
#ifndef ORA_CLIOPT_H
#define ORA_CLIOPT_H

#include <stddef.h>
#include <stdint.h>

enum cli_opt_kind {
    CLI_FLAG,    /* no argument: *(int *)dest = 1 */
    CLI_STR,     /* *(const char **)dest = the argument (argv keeps owning it) */
    CLI_U64,     /* cli_parse_u64 into dest (stored as .as says), within [u.min, u.max] */
    CLI_SIZE,    /* cli_parse_size (K/M/G) into dest (as .as says), within [u.min, u.max] */
    CLI_RANGE,   /* cli_parse_range "A..B": A into dest, B into dest2 (as .as says), within [u.min, u.max] */
    CLI_I64,     /* cli_parse_i64 into *(int64_t *)dest, within [i.min, i.max] */
    CLI_DOUBLE,  /* cli_parse_double into *(double *)dest, within [d.min, d.max] */
    CLI_CALL,    /* call(arg, dest), arg NULL unless takes_arg: 0, or the exit status to stop with */
    CLI_HELP,    /* prints the text dest points at (cli_print_usage) and stops */
    CLI_VERSION, /* cli_print_version and stops */
};

/* The type of a CLI_U64, CLI_SIZE or CLI_RANGE destination; u.max must fit it. */
enum cli_opt_store { CLI_AS_U64 = 0, CLI_AS_U32, CLI_AS_INT };

typedef struct cli_opt {
    const char *name;       /* long name without "--", or NULL */
    int letter;             /* short option letter, or 0 */
    enum cli_opt_kind kind;
    void *dest;
    void *dest2;            /* CLI_RANGE: where B goes */
    enum cli_opt_store as;
    struct { uint64_t min, max; } u;
    struct { int64_t min, max; } i;
    struct { double min, max; } d;
    /* A bad value: printf format with exactly one %s, the value as typed,
     * for cli_usage_error (cli_opt_bad), unless cli_opts.bad reports. */
    const char *bad;
    int (*call)(const char *arg, void *dest);
    int takes_arg;          /* CLI_CALL only: the option takes an argument */
    int *given;             /* when not NULL: set to 1 once the option was applied */
    unsigned tag;           /* the tool's own (cli_opts.before reads it); cliopt ignores it */
} cli_opt;

/* Entries that mean the same in every tool. */
#define CLI_OPT_HELP(text) {.name = "help", .letter = 'h', .kind = CLI_HELP, .dest = (void *)(text)}
#define CLI_OPT_VERSION {.name = "version", .kind = CLI_VERSION}
#define CLI_OPT_INPUT(path) {.name = "input", .letter = 'i', .kind = CLI_STR, .dest = (path)}
#define CLI_OPT_OUTPUT(path) {.name = "output", .letter = 'o', .kind = CLI_STR, .dest = (path)}
/* The options every filter stage (ora-deframe, ora-order) takes, with
 * their defaults (CLI_FILTER_ARGS_INIT). */
typedef struct cli_filter_args {
    const char *in, *out;      /* -i, -o: NULL for stdin, stdout */
    int strict;                /* --strict */
    const char *metrics;       /* --metrics FILE, or NULL */
    double metrics_interval;   /* --metrics-interval SECONDS (0.1..86400) */
} cli_filter_args;
#define CLI_FILTER_ARGS_INIT {.metrics_interval = 10}
/* Their entries (a points at the cli_filter_args), with --help showing
 * usage_text and --version. */
#define CLI_OPTS_FILTER(a, usage_text)                                                                \
    CLI_OPT_INPUT(&(a)->in), CLI_OPT_OUTPUT(&(a)->out),                                               \
    {.name = "strict", .kind = CLI_FLAG, .dest = &(a)->strict},                                       \
    {.name = "metrics", .kind = CLI_STR, .dest = &(a)->metrics},                                      \
    {.name = "metrics-interval", .kind = CLI_DOUBLE, .dest = &(a)->metrics_interval, .d = {0.1, 86400}, \
     .bad = "unable to use --metrics-interval %s: not seconds in 0.1..86400"},                        \
    CLI_OPT_HELP(usage_text), CLI_OPT_VERSION
/* The --help lines of the last of those (the tool writes the others). */
#define CLI_USAGE_FILTER_TAIL                                                                         \
    "      --metrics FILE      write Prometheus metrics to FILE (atomically)\n"                        \
    "      --metrics-interval SECONDS\n"                                                              \
    "                          how often (default 10)\n"                                               \
    "  -h, --help              this help\n"                                                            \
    "      --version           print the version\n"
/* What a filter stage says of an operand: it takes none. */
#define CLI_FILTER_OPERAND "unable to parse options: unexpected argument %s"

/* "--name" as the option is known in messages ("-x" for a short-only one),
 * in buf (n bytes). Returns buf. */
const char *cli_opt_name(const cli_opt *o, char *buf, size_t n);

/* A tool's own report of a bad value arg of o, for messages built from the
 * entry (its name, range) or written its own way. Returns the exit status
 * (64). */
typedef int (*cli_bad_value_fn)(const cli_opt *o, const char *arg);
/* The report without one: cli_usage_error with o->bad (or "unable to use
 * ARG" without it). Returns 64. */
int cli_opt_bad(const cli_opt *o, const char *arg);

/* A tool's options: the table, and how it reports what the table cannot
 * say by itself. */
typedef struct cli_opts {
    const cli_opt *opt;
    size_t n;               /* entries in opt, at most 64 */
    cli_bad_value_fn bad;   /* reports every bad value; NULL: cli_opt_bad */
    /* Called before an option is applied (NULL: none): 0, or the exit
     * status to stop with (an option this use of the tool does not take). */
    int (*before)(const cli_opt *o);
    /* The usage error for an operand (printf format, one %s: the first
     * operand). NULL: the tool looks at its operands, from optind on. */
    const char *operand;
} cli_opts;

/* The value cli_getopt returns when every option was applied and the tool
 * goes on. */
#define CLI_GO (-1)

/* Applies the options of argv, in order, as t describes them. Stops at the
 * first that is unknown, lacks its argument or has a bad value, after its
 * usage error, and at --help or --version after printing. Returns CLI_GO,
 * or the exit status for main to return: 0 (--help, --version), 64
 * (usage), 74 (stdout failed) or what a CLI_CALL returned. */
int cli_getopt(int argc, char **argv, const cli_opts *t);

#endif
