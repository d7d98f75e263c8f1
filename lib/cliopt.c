/* cliopt.c: a tool's options from one table (cliopt.h). */
#include "cliopt.h"
#include "cli.h"

#include <getopt.h>
#include <stdio.h>

#define MAX_OPTS 64
/* getopt_long returns this plus the entry's index for a long-only option */
#define LONG_BASE 256

static int takes_arg(const cli_opt *o)
{
    switch (o->kind) {
    case CLI_FLAG: case CLI_HELP: case CLI_VERSION: return 0;
    case CLI_CALL: return o->takes_arg;
    default: return 1;
    }
}

/* The struct option array and the optstring (":" first) getopt_long wants.
 * 0, or -1 when the table is too large. */
static int build(const cli_opt *opts, size_t n, struct option *lo, char *shorts)
{
    if (n > MAX_OPTS)
        return -1;
    size_t k = 0, s = 0;
    shorts[s++] = ':';
    for (size_t j = 0; j < n; j++) {
        const cli_opt *o = &opts[j];
        int val = o->letter ? o->letter : LONG_BASE + (int)j;
        if (o->name)
            lo[k++] = (struct option){o->name, takes_arg(o) ? required_argument : no_argument, NULL, val};
        if (o->letter) {
            shorts[s++] = (char)o->letter;
            if (takes_arg(o))
                shorts[s++] = ':';
        }
    }
    lo[k] = (struct option){NULL, 0, NULL, 0};
    shorts[s] = 0;
    return 0;
}

static const cli_opt *find(const cli_opt *opts, size_t n, int c)
{
    if (c >= LONG_BASE && (size_t)(c - LONG_BASE) < n)
        return &opts[c - LONG_BASE];
    for (size_t j = 0; j < n; j++)
        if (opts[j].letter && opts[j].letter == c)
            return &opts[j];
    return NULL;
}

/* cli_usage_error with a message of the tool's table: fmt is a constant
 * with one %s, for arg. */
static int usage_error_with(const char *fmt, const char *arg)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    return cli_usage_error(fmt, arg);
#pragma GCC diagnostic pop
}

static void store(enum cli_opt_store as, void *dest, uint64_t v)
{
    switch (as) {
    case CLI_AS_U64: *(uint64_t *)dest = v; break;
    case CLI_AS_U32: *(uint32_t *)dest = (uint32_t)v; break;
    case CLI_AS_INT: *(int *)dest = (int)v; break;
    }
}

/* Parses arg into o->dest by o's kind: 0, or -1 when it is not a valid
 * value (nothing is stored then). */
static int parse_value(const cli_opt *o, const char *arg)
{
    uint64_t a, b;
    int rc;
    switch (o->kind) {
    case CLI_I64: return cli_parse_i64(arg, o->i.min, o->i.max, o->dest);
    case CLI_DOUBLE: return cli_parse_double(arg, o->d.min, o->d.max, o->dest);
    case CLI_U64: rc = cli_parse_u64(arg, o->u.min, o->u.max, &a); break;
    case CLI_SIZE: rc = cli_parse_size(arg, o->u.min, o->u.max, &a); break;
    case CLI_RANGE:
        if (cli_parse_range(arg, o->u.min, o->u.max, &a, &b) < 0)
            return -1;
        store(o->as, o->dest2, b);
        rc = 0;
        break;
    default: return -1;
    }
    if (rc == 0)
        store(o->as, o->dest, a);
    return rc;
}

/* Applies one option: CLI_GO, or the exit status to stop with. */
static int apply(const cli_opt *o, const char *arg, cli_bad_value_fn bad)
{
    switch (o->kind) {
    case CLI_FLAG: *(int *)o->dest = 1; return CLI_GO;
    case CLI_STR: *(const char **)o->dest = arg; return CLI_GO;
    case CLI_CALL: {
        int rc = o->call(arg, o->dest);
        return rc ? rc : CLI_GO;
    }
    case CLI_HELP: return cli_print_usage(o->dest);
    case CLI_VERSION: return cli_print_version();
    default: break;
    }
    if (parse_value(o, arg) == 0)
        return CLI_GO;
    return bad ? bad(o, arg) : cli_opt_bad(o, arg);
}

int cli_opt_bad(const cli_opt *o, const char *arg)
{
    return o->bad ? usage_error_with(o->bad, arg) : cli_usage_error("unable to use %s", arg);
}

int cli_getopt(int argc, char **argv, const cli_opts *t)
{
    struct option lo[MAX_OPTS + 1];
    char shorts[2 + 2 * MAX_OPTS];
    if (build(t->opt, t->n, lo, shorts) < 0)
        return cli_usage_error("unable to parse options: more than %d in the table", MAX_OPTS);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        const cli_opt *o = c == '?' || c == ':' ? NULL : find(t->opt, t->n, c);
        if (!o)
            return cli_bad_option(c, argv);
        int rc = t->before ? t->before(o) : 0;
        if (rc)
            return rc;
        rc = apply(o, optarg, t->bad);
        if (rc != CLI_GO)
            return rc;
        if (o->given)
            *o->given = 1;
    }
    if (t->operand && optind < argc)
        return usage_error_with(t->operand, argv[optind]);
    return CLI_GO;
}

const char *cli_opt_name(const cli_opt *o, char *buf, size_t n)
{
    if (o->name)
        snprintf(buf, n, "--%s", o->name);
    else
        snprintf(buf, n, "-%c", o->letter);
    return buf;
}
