/* cli.c: diagnostics, numbers, summary and progress (cli.h). */
#include "cli.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <getopt.h>
#include <unistd.h>

static char prog[64] = "ora";
static int level = ORA_LOG_INFO;
static volatile sig_atomic_t usr1;
static cli_summary_fn summary_fn;
static double t0, last_progress;
static int tty = -1;
static int progress_shown;
static unsigned poll_count;

static void on_usr1(int sig)
{
    (void)sig;
    usr1 = 1;
}

/* A core file or a ptrace attach would expose the secrets a stage holds
 * (JWT, AWS keys, the TLS key). ORA_ALLOW_CORE=1 keeps both for debugging. */
static void no_core_dumps(void)
{
    const char *a = getenv("ORA_ALLOW_CORE");
    if (a && strcmp(a, "1") == 0)
        return;
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int cli_init(const char *argv0)
{
    const char *b = argv0 ? strrchr(argv0, '/') : NULL;
    snprintf(prog, sizeof prog, "%s", b ? b + 1 : (argv0 ? argv0 : "ora"));
    t0 = cli_now();
    signal(SIGPIPE, SIG_IGN);
    no_core_dumps();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    const char *l = getenv("ORA_LOG");
    if (!l || !*l)
        return 0;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(l, names[i]) == 0) {
            level = i;
            return 0;
        }
    return -1;
}

int cli_start(const char *argv0)
{
    if (cli_init(argv0) == 0)
        return 0;
    log_error("unable to use ORA_LOG '%s': not one of debug, info, warn, error", getenv("ORA_LOG"));
    return ORA_EX_CONFIG;
}

const char *cli_prog(void) { return prog; }

int cli_print_usage(const char *text)
{
    fputs(text, stdout);
    return cli_close_stdout() == 0 ? ORA_EX_OK : ORA_EX_IOERR;
}

int cli_print_version(void)
{
    printf("%s %s\n", prog, ora_version);
    return cli_close_stdout() == 0 ? ORA_EX_OK : ORA_EX_IOERR;
}

int cli_usage_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_error("%s; try '%s --help'", msg, prog);
    return ORA_EX_USAGE;
}

int cli_bad_option(int c, char *const argv[])
{
    char name[8];
    const char *opt = argv[optind - 1];
    if (c == '?' && optopt > 0 && optopt < 256) {
        snprintf(name, sizeof name, "-%c", optopt);
        opt = name;
    }
    if (c == ':')
        return cli_usage_error("unable to parse options: %s needs an argument", opt);
    return cli_usage_error("unable to parse options: unknown option %s", opt);
}
void cli_set_level(int l) { level = l; }
int cli_level(void) { return level; }

static void clear_progress(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        progress_shown = 0;
    }
}

void log_at(int l, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (l > level)
        return;
    /* One write per line, so lines of concurrent stages never interleave. */
    char line[4096];
    int n = snprintf(line, sizeof line, "%s: %s: ", prog, names[l]);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    clear_progress();
    fflush(stderr);
    cli_write_all(2, line, len);
}

#define LOG_FN(name, lvl)                   \
    void name(const char *fmt, ...)         \
    {                                       \
        va_list ap;                         \
        va_start(ap, fmt);                  \
        log_at(lvl, fmt, ap);               \
        va_end(ap);                         \
    }
LOG_FN(log_error, ORA_LOG_ERROR)
LOG_FN(log_warn, ORA_LOG_WARN)
LOG_FN(log_info, ORA_LOG_INFO)
LOG_FN(log_debug, ORA_LOG_DEBUG)

/* The leading digits of s (no sign, no space: strtoull would take both) into
 * *v, *end after them. 0, or -1 when s does not start with a digit or the
 * number overflows. */
static int scan_digits(const char *s, unsigned long long *v, char **end)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *v = strtoull(s, end, 10);
    return errno ? -1 : 0;
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;
    if (scan_digits(s, &v, &end) < 0 || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;
    if (scan_digits(s, &v, &end) < 0)
        return -1;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift) {
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
        else if (*end == 'B')
            end++;
    }
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    v <<= shift;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_range(const char *s, uint64_t min, uint64_t max, uint64_t *a, uint64_t *b)
{
    if (!s)
        return -1;
    const char *dots = strstr(s, "..");
    if (!dots) {
        if (cli_parse_u64(s, min, max, a) < 0)
            return -1;
        *b = *a;
        return 0;
    }
    char left[32];
    size_t n = (size_t)(dots - s);
    if (n == 0 || n >= sizeof left)
        return -1;
    memcpy(left, s, n);
    left[n] = 0;
    uint64_t x, y;
    if (cli_parse_u64(left, min, max, &x) < 0 || cli_parse_u64(dots + 2, min, max, &y) < 0 || x > y)
        return -1;
    *a = x;
    *b = y;
    return 0;
}

const char *cli_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_number(const char *name, int (*parse)(const char *, uint64_t, uint64_t, uint64_t *),
                      const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *v = cli_env(name);
    if (!v || parse(v, min, max, out) == 0)
        return 0;
    log_error("unable to use %s=%s: not %s in %" PRIu64 "..%" PRIu64, name, v, what, min, max);
    return ORA_EX_CONFIG;
}

int cli_env_u64(const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
    return env_number(name, cli_parse_u64, "a whole number", min, max, out);
}

int cli_env_size(const char *name, uint64_t min, uint64_t max, uint64_t *out)
{
    return env_number(name, cli_parse_size, "a size", min, max, out);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t cli_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cli_set_summary(cli_summary_fn fn) { summary_fn = fn; }
int cli_usr1_pending(void) { return usr1 != 0; }

static void print_summary(const char *tag, const char *end)
{
    char buf[1024] = "";
    if (summary_fn)
        summary_fn(buf, sizeof buf, cli_now() - t0);
    char line[1200];
    int n = snprintf(line, sizeof line, "%s: %s: %s%s", prog, tag, buf, end);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    cli_write_all(2, line, (size_t)n);
}

void cli_poll(void)
{
    if (usr1) {
        usr1 = 0; /* asked for explicitly: printed at every log level */
        clear_progress();
        print_summary("summary", "\n");
    }
    if ((++poll_count & 1023) != 0)
        return;
    if (tty < 0)
        tty = isatty(2);
    if (!tty || level < ORA_LOG_INFO)
        return;
    double now = cli_now();
    if (now - last_progress < 1.0)
        return;
    last_progress = now;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    print_summary("progress", "");
    progress_shown = 1;
}

void cli_summary(void)
{
    if (level < ORA_LOG_INFO)
        return;
    clear_progress();
    print_summary("summary", "\n");
}

const char *cli_human(double v, char *buf, size_t n)
{
    if (v >= 1e9)
        snprintf(buf, n, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, n, "%.1fk", v / 1e3);
    else
        snprintf(buf, n, "%.0f", v);
    return buf;
}

int cli_close_stdout(void)
{
    if (fflush(stdout) != 0)
        return -1;
    if (fclose(stdout) != 0)
        return -1;
    return 0;
}

int cli_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int cli_open_in(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return 0;
    return open(path, O_RDONLY | O_CLOEXEC);
}

int cli_open_out(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return 1;
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
}

int cli_open_io(const char *in_path, const char *out_path, int *in_fd, int *out_fd)
{
    if ((*in_fd = cli_open_in(in_path)) < 0) {
        log_error("unable to open %s: %s", in_path, strerror(errno));
        return ORA_EX_IOERR;
    }
    if ((*out_fd = cli_open_out(out_path)) < 0) {
        log_error("unable to open %s: %s", out_path, strerror(errno));
        if (*in_fd > 0)
            close(*in_fd);
        return ORA_EX_IOERR;
    }
    return 0;
}

void cli_on_stop(void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int cli_confine(const ora_sandbox *sb)
{
    char note[1024];
    if (!ora_sandbox_wanted()) {
        log_debug("sandbox: off (ORA_SANDBOX)");
        return 0;
    }
    tzset(); /* glibc reads /etc/localtime at the first time conversion, even gmtime_r */
    int rc = ora_sandbox_apply(sb, note, sizeof note);
    if (rc < 0) {
        log_error("unable to confine: %s", note);
        return ORA_EX_SOFTWARE;
    }
    if (rc > 0)
        log_info("confined in part: %s", note);
    ora_sandbox_describe(sb, note, sizeof note);
    log_debug("sandbox: %s", note);
    return 0;
}

int cli_confine_filter(const char *metrics_path)
{
    ora_sandbox sb;
    char dir[4096];
    ora_sandbox_filter(&sb, metrics_path, dir, sizeof dir);
    return cli_confine(&sb);
}
