/* sandbox_test: each profile of lib/sandbox.h, applied in a child process,
 * allows what the profile names and refuses the rest. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

static char dir[64], inside[128], outside[128];

static void *thread_fn(void *p) { return p; }

/* Runs fn in a child after confining it with s; the child's exit status is
 * the number of failed expectations (or 100 + reason on a sandbox error). */
static int in_child(const ora_sandbox *s, int (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        char note[256];
        if (ora_sandbox_apply(s, note, sizeof note) < 0) {
            fprintf(stderr, "sandbox: %s\n", note);
            _exit(100);
        }
        _exit(fn());
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

#define EXPECT(c) do { if (!(c)) { fprintf(stderr, "child %s:%d: %s (errno %s)\n", __FILE__, __LINE__, #c, strerror(errno)); bad++; } } while (0)

static int stdio_child(void)
{
    int bad = 0;
    EXPECT(write(3, "x", 1) == 1);                       /* opened before: still writable */
    if (ora_sandbox_landlock_abi() > 0 || ora_sandbox_seccomp()) {
        EXPECT(open("/etc/hostname", O_RDONLY) < 0);     /* no file at all */
        EXPECT(open(inside, O_RDONLY) < 0);
    }
    if (!ora_sandbox_seccomp())
        return bad;                                      /* the rest is seccomp's */
    EXPECT(socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM);
    pthread_t t;                                         /* threads are fine */
    EXPECT(pthread_create(&t, NULL, thread_fn, NULL) == 0 && pthread_join(t, NULL) == 0);
    pid_t p = fork();                                    /* a new process is not */
    if (p == 0)
        _exit(0);
    EXPECT(p < 0);
    char *argv[] = {"/bin/false", NULL};
    execv("/bin/false", argv);                           /* exit 1 if it ran */
    return bad;
}

static int files_child(void)
{
    int bad = 0;
    char tmp[160], fin[160];
    snprintf(tmp, sizeof tmp, "%s/f.tmp", dir);
    snprintf(fin, sizeof fin, "%s/f", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    EXPECT(fd >= 0 && write(fd, "ok", 2) == 2 && fsync(fd) == 0 && close(fd) == 0);
    EXPECT(rename(tmp, fin) == 0);
    EXPECT(unlink(fin) == 0);
    EXPECT(open(outside, O_RDONLY) < 0 && errno == EACCES);     /* Landlock */
    EXPECT(open("/etc/hostname", O_RDONLY) < 0);
    EXPECT(open("/etc/passwd", O_RDONLY) >= 0);                  /* listed for reading */
    EXPECT(open("/etc/passwd", O_WRONLY) < 0);
    if (ora_sandbox_seccomp())
        EXPECT(socket(AF_INET, SOCK_STREAM, 0) < 0);
    return bad;
}

static int fork_child(void)
{
    int bad = 0;
    pid_t p = fork();
    if (p == 0)
        _exit(7);
    int st = 0;
    EXPECT(p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 7);
    return bad;
}

static int net_child(void)
{
    int bad = 0;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(9)};
    /* port 9 is not listed: Landlock refuses before the network does */
    if (ora_sandbox_landlock_abi() >= 4)
        EXPECT(connect(s, (struct sockaddr *)&a, sizeof a) < 0 && errno == EACCES);
    close(s);
    s = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = htons(0);
    if (ora_sandbox_landlock_abi() >= 4)
        EXPECT(bind(s, (struct sockaddr *)&a, sizeof a) < 0 && errno == EACCES);  /* no listening */
    close(s);
    return bad;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sandbox_test.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(inside, sizeof inside, "%s/in", dir);
    snprintf(outside, sizeof outside, "%s.outside", dir);
    int fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    close(fd);
    fd = open(inside, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK(dup2(open("/dev/null", O_WRONLY), 3) == 3);

    int abi = ora_sandbox_landlock_abi();
    printf("sandbox_test: Landlock ABI %d, seccomp %s\n", abi, ora_sandbox_seccomp() ? "yes" : "no (sanitizer build)");

    ora_sandbox s = {0};
    s.profile = ORA_SB_STDIO;
    int rc = in_child(&s, stdio_child);
    if (rc) fprintf(stderr, "stdio child: %d\n", rc);
    CHECK(rc == 0);

    ora_sandbox f = {0};
    f.profile = ORA_SB_FILES;
    CHECK(ora_sandbox_add(f.write, dir) == 0);
    CHECK(ora_sandbox_add(f.read, "/etc/passwd") == 0);
    CHECK(ora_sandbox_add(f.read, "/etc/passwd") == 0);  /* duplicates ignored */
    CHECK(ora_sandbox_add(f.read, "/no/such/path") == 0);  /* skipped when applied */
    CHECK(f.read[1] && !f.read[2]);
    if (abi > 0)
        CHECK(in_child(&f, files_child) == 0);

    ora_sandbox k = {0};
    k.profile = ORA_SB_FILES | ORA_SB_FORK;
    CHECK(ora_sandbox_add(k.write, dir) == 0);
    CHECK(in_child(&k, fork_child) == 0);

    ora_sandbox n = {0};
    n.profile = ORA_SB_NET;
    CHECK(ora_sandbox_port(&n, 443) == 0);
    CHECK(in_child(&n, net_child) == 0);

    /* the directory a file is replaced in, and the one-line description */
    char d[16], line[512];
    CHECK(strcmp(ora_sandbox_dir("/var/lib/ora/m.prom", d, sizeof d), "/var/lib/ora") == 0);
    CHECK(strcmp(ora_sandbox_dir("m.prom", d, sizeof d), ".") == 0);
    CHECK(strcmp(ora_sandbox_dir("/m.prom", d, sizeof d), "/") == 0);
    CHECK(strcmp(ora_sandbox_dir("a/m", d, sizeof d), "a") == 0);
    CHECK(ora_sandbox_dir("/a/very/long/directory/m", d, sizeof d) == NULL);
    ora_sandbox q;
    ora_sandbox_filter(&q, NULL, d, sizeof d);
    CHECK(q.profile == ORA_SB_STDIO && !q.write[0] && !q.read[0]);
    ora_sandbox_filter(&q, "out/m.prom", d, sizeof d);
    CHECK(q.profile == (ORA_SB_STDIO | ORA_SB_FILES) && q.write[0] == d && strcmp(d, "out") == 0 && !q.write[1]);
    CHECK(ora_sandbox_port(&q, 443) == 0 && ora_sandbox_add(q.read, "/etc") == 0);
    q.profile |= ORA_SB_NET;
    ora_sandbox_describe(&q, line, sizeof line);
    CHECK(strncmp(line, "stdio+files+net, read /etc, write out, exec -", 45) == 0 && strstr(line, ", tcp 443"));
    ora_sandbox_describe(&q, line, 20);                  /* cut short, terminated */
    CHECK(strlen(line) == 19);
    ora_sandbox full = {0};
    for (int i = 0; i < ORA_SB_MAX_PORTS; i++)
        CHECK(ora_sandbox_port(&full, (uint16_t)(i + 1)) == 0);
    CHECK(ora_sandbox_port(&full, 999) == -1);         /* full */

    unlink(inside);
    unlink(outside);
    rmdir(dir);
    return unit_summary("sandbox_test");
}
