/* sbprobe.so: an LD_PRELOAD shim that tries, from inside a running stage,
 * what its sandbox should refuse, for tests/sandbox.bats. A stage confines
 * itself before it waits for its input or connects anywhere, so the probe
 * runs the first time the process calls read() or poll() on fd 0, or
 * connect() (ora-connect reads no input). It runs once, in that thread.
 *
 * SBPROBE_OUT      file to report into (opened when the shim loads, before
 *                  any confinement; one line per attempt, then "done")
 * SBPROBE_OPEN     paths to open(2) read-only, separated by ':'
 * SBPROBE_EXEC     a path to execve(2) (a name that does not exist: ENOENT
 *                  when allowed, so the stage is never replaced)
 * SBPROBE_CONNECT  TCP ports on 127.0.0.1 to connect(2) to, ':'-separated
 *                  (nothing listens: ECONNREFUSED when allowed)
 *
 * Lines: "open PATH ok", "open PATH EACCES", "exec PATH ENOENT",
 * "connect PORT ECONNREFUSED"... (the errno's name, or "ok").
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int out = -1;
static int done;

__attribute__((constructor)) static void sbprobe_init(void)
{
    const char *p = getenv("SBPROBE_OUT");
    if (p && *p)
        out = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

static void report(const char *what, const char *arg, int rc, int err)
{
    char line[1200];
    const char *name = rc >= 0 ? "ok" : strerrorname_np(err);
    int n = snprintf(line, sizeof line, "%s %s %s\n", what, arg, name ? name : "?");
    if (n > 0 && write(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
        _exit(97);
}

static void probe(void)
{
    if (out < 0 || __atomic_exchange_n(&done, 1, __ATOMIC_SEQ_CST))
        return;
    int saved = errno;
    char buf[4096];
    const char *v = getenv("SBPROBE_OPEN");
    snprintf(buf, sizeof buf, "%s", v ? v : "");
    for (char *save = NULL, *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
        int fd = open(t, O_RDONLY | O_CLOEXEC);
        report("open", t, fd, errno);
        if (fd >= 0)
            close(fd);
    }
    if ((v = getenv("SBPROBE_EXEC")) && *v) {
        char *argv[] = {(char *)v, NULL}, *envp[] = {NULL};
        long rc = syscall(SYS_execve, v, argv, envp);
        report("exec", v, (int)rc, errno);
    }
    v = getenv("SBPROBE_CONNECT");
    snprintf(buf, sizeof buf, "%s", v ? v : "");
    for (char *save = NULL, *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            report("connect", t, -1, errno);
            continue;
        }
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(t))};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = (int)syscall(SYS_connect, s, (struct sockaddr *)&a, sizeof a);
        report("connect", t, rc, errno);
        close(s);
    }
    if (write(out, "done\n", 5) < 0)
        _exit(97);
    errno = saved;
}

ssize_t read(int fd, void *b, size_t n)
{
    static ssize_t (*real)(int, void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    if (fd == 0)
        probe();
    return real(fd, b, n);
}

int connect(int fd, const struct sockaddr *a, socklen_t l)
{
    static int (*real)(int, const struct sockaddr *, socklen_t);
    if (!real)
        real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    probe();
    return real(fd, a, l);
}

static int has_stdin(const struct pollfd *f, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (f[i].fd == 0)
            return 1;
    return 0;
}

int poll(struct pollfd *f, nfds_t n, int timeout)
{
    static int (*real)(struct pollfd *, nfds_t, int);
    if (!real)
        real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
    if (has_stdin(f, n))
        probe();
    return real(f, n, timeout);
}

int ppoll(struct pollfd *f, nfds_t n, const struct timespec *t, const sigset_t *m)
{
    static int (*real)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    if (!real)
        real = (int (*)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))dlsym(RTLD_NEXT, "ppoll");
    if (has_stdin(f, n))
        probe();
    return real(f, n, t, m);
}
