/* sandbox.c: Landlock + seccomp confinement of a stage (sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SB_SANITIZER 1
#endif
#endif
#ifndef SB_SANITIZER
#define SB_SANITIZER 0
#endif

/* ---- Landlock (the kernel headers of Debian 12 stop at ABI 3) ------------- */

#define LL_FS_EXECUTE (1ull << 0)
#define LL_FS_WRITE_FILE (1ull << 1)
#define LL_FS_READ_FILE (1ull << 2)
#define LL_FS_READ_DIR (1ull << 3)
#define LL_FS_REMOVE_DIR (1ull << 4)
#define LL_FS_REMOVE_FILE (1ull << 5)
#define LL_FS_MAKE_REG (1ull << 8)
#define LL_FS_REFER (1ull << 13)     /* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14)  /* ABI 3 */
#define LL_NET_BIND_TCP (1ull << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ull << 1)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

struct ll_ruleset_attr {
    uint64_t handled_access_fs, handled_access_net, scoped;
};
struct ll_path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));
struct ll_net_port {
    uint64_t allowed_access, port;
};

/* Every filesystem right the kernel's ABI knows: handled means denied
 * unless a rule allows it. */
static uint64_t fs_handled(int abi)
{
    uint64_t all = (1ull << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
    if (abi >= 2)
        all |= LL_FS_REFER;
    if (abi >= 3)
        all |= LL_FS_TRUNCATE;
    if (abi >= 5)
        all |= 1ull << 15; /* IOCTL_DEV */
    return all;
}

int ora_sandbox_landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

int ora_sandbox_add(const char **list, const char *path)
{
    if (!path || !*path)
        return 0;
    for (int i = 0; i < ORA_SB_MAX_PATHS; i++) {
        if (!list[i]) {
            list[i] = path;
            return 0;
        }
        if (strcmp(list[i], path) == 0)
            return 0;
    }
    return -1;
}

int ora_sandbox_port(ora_sandbox *s, uint16_t port)
{
    for (int i = 0; i < ORA_SB_MAX_PORTS; i++) {
        if (!s->connect[i]) {
            s->connect[i] = port;
            return 0;
        }
        if (s->connect[i] == port)
            return 0;
    }
    return -1;
}

int ora_sandbox_add_system(ora_sandbox *s)
{
    static const char *const sys[] = {"/etc", "/usr/lib", "/lib", "/usr/lib64", "/lib64",
                                      "/usr/share/ca-certificates", "/usr/local/share/ca-certificates",
                                      "/run/systemd/resolve"};
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
        if (ora_sandbox_add(s->read, sys[i]) < 0)
            return -1;
    return 0;
}

const char *ora_sandbox_dir(const char *path, char *buf, size_t n)
{
    const char *slash = strrchr(path, '/');
    size_t len = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    if (len + 1 > n)
        return NULL;
    memcpy(buf, !slash ? "." : path, len);
    buf[len] = '\0';
    return buf;
}

void ora_sandbox_filter(ora_sandbox *s, const char *metrics, char *dir, size_t n)
{
    memset(s, 0, sizeof *s);
    s->profile = ORA_SB_STDIO;
    if (metrics) {
        s->profile |= ORA_SB_FILES;
        ora_sandbox_add(s->write, ora_sandbox_dir(metrics, dir, n));
    }
}

/* Appends to buf at *at, never past n (the text is cut short). */
static void put(char *buf, size_t n, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t n, size_t *at, const char *fmt, ...)
{
    if (*at + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *at, n - *at, fmt, ap);
    va_end(ap);
    if (k > 0)
        *at = *at + (size_t)k < n ? *at + (size_t)k : n - 1;
}

static void describe_list(char *buf, size_t n, size_t *at, const char *what, const char *const *list)
{
    put(buf, n, at, ", %s", what);
    if (!list[0])
        put(buf, n, at, " -");
    for (int i = 0; i < ORA_SB_MAX_PATHS && list[i]; i++)
        put(buf, n, at, " %s", list[i]);
}

void ora_sandbox_describe(const ora_sandbox *s, char *buf, size_t n)
{
    if (!n)
        return;
    size_t at = 0;
    buf[0] = '\0';
    put(buf, n, &at, "stdio%s%s%s%s", s->profile & ORA_SB_FILES ? "+files" : "",
        s->profile & ORA_SB_FORK ? "+fork" : "", s->profile & ORA_SB_NET ? "+net" : "",
        s->profile & ORA_SB_EXEC ? "+exec" : "");
    describe_list(buf, n, &at, "read", s->read);
    describe_list(buf, n, &at, "write", s->write);
    describe_list(buf, n, &at, "exec", s->exec);
    if (SB_SANITIZER)
        put(buf, n, &at, ", no seccomp filter (sanitizer build)");
    if (s->any_port)
        put(buf, n, &at, ", tcp any port");
    else if (s->profile & ORA_SB_NET) {
        put(buf, n, &at, ", tcp");
        for (int i = 0; i < ORA_SB_MAX_PORTS && s->connect[i]; i++)
            put(buf, n, &at, " %u", s->connect[i]);
    }
}

int ora_sandbox_wanted(void)
{
    const char *v = getenv("ORA_SANDBOX");
    return !(v && (strcmp(v, "off") == 0 || strcmp(v, "0") == 0));
}

/* Allows access beneath path; a file gets only the rights that apply to
 * files. A path that does not exist is skipped. 0, or -1 with errno. */
static int add_path(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        access &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | (1ull << 15);
    struct ll_path_beneath pb = {access & handled, fd};
    int rc = pb.allowed_access ? (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) : 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc < 0 ? -1 : 0;
}

static int apply_landlock(const ora_sandbox *s, int abi, char *note, size_t n)
{
    struct ll_ruleset_attr attr = {fs_handled(abi), 0, 0};
    size_t size = sizeof attr.handled_access_fs;
    if (abi >= 4) {
        /* bind: never; connect: only the listed ports, unless any port */
        attr.handled_access_net = LL_NET_BIND_TCP | (s->any_port ? 0 : LL_NET_CONNECT_TCP);
        size += sizeof attr.handled_access_net;
    }
    if (abi >= 6) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
        size += sizeof attr.scoped;
    }
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (rs < 0) {
        snprintf(note, n, "unable to create a Landlock ruleset: %s", strerror(errno));
        return -1;
    }
    const uint64_t rd = LL_FS_READ_FILE | LL_FS_READ_DIR;
    const uint64_t wr = rd | LL_FS_WRITE_FILE | LL_FS_REMOVE_FILE | LL_FS_MAKE_REG | LL_FS_TRUNCATE | LL_FS_REFER;
    const uint64_t ex = rd | LL_FS_EXECUTE;
    const char *bad = NULL;
    for (int i = 0; i < ORA_SB_MAX_PATHS && !bad; i++) {
        if (s->read[i] && add_path(rs, s->read[i], rd, attr.handled_access_fs) < 0)
            bad = s->read[i];
        else if (s->write[i] && add_path(rs, s->write[i], wr, attr.handled_access_fs) < 0)
            bad = s->write[i];
        else if (s->exec[i] && add_path(rs, s->exec[i], ex, attr.handled_access_fs) < 0)
            bad = s->exec[i];
    }
    /* a sanitizer's runtime reads /proc/self when it reports */
    if (!bad && SB_SANITIZER && add_path(rs, "/proc", rd, attr.handled_access_fs) < 0)
        bad = "/proc";
    if (bad) {
        snprintf(note, n, "unable to allow %s in the Landlock ruleset: %s", bad, strerror(errno));
        close(rs);
        return -1;
    }
    if (attr.handled_access_net & LL_NET_CONNECT_TCP)
        for (int i = 0; i < ORA_SB_MAX_PORTS && s->connect[i]; i++) {
            struct ll_net_port np = {LL_NET_CONNECT_TCP, s->connect[i]};
            if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0) < 0) {
                snprintf(note, n, "unable to allow TCP port %u: %s", s->connect[i], strerror(errno));
                close(rs);
                return -1;
            }
        }
    int rc = (int)syscall(SYS_landlock_restrict_self, rs, 0);
    int e = errno;
    close(rs);
    if (rc < 0) {
        snprintf(note, n, "unable to enter the Landlock domain: %s", strerror(e));
        return -1;
    }
    return 0;
}

/* ---- seccomp allow-lists ---------------------------------------------------- */

#if defined(__x86_64__)
#define SB_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_ARCH AUDIT_ARCH_AARCH64
#endif

#define NR(x) __NR_##x

/* What every stage does once it runs: move bytes through open descriptors,
 * allocate, wait, keep time, take signals, run threads. */
static const int sys_stdio[] = {
    NR(read), NR(write), NR(readv), NR(writev), NR(pread64), NR(pwrite64), NR(close), NR(fstat),
    NR(newfstatat), NR(statx), NR(lseek), NR(fcntl), NR(dup), NR(dup3), NR(ioctl), NR(mmap), NR(munmap),
    NR(mremap), NR(mprotect), NR(brk), NR(madvise), NR(mlock), NR(munlock), NR(mlockall), NR(munlockall),
    NR(rt_sigaction), NR(rt_sigprocmask), NR(rt_sigreturn), NR(sigaltstack), NR(ppoll), NR(pselect6),
    NR(nanosleep), NR(clock_nanosleep), NR(clock_gettime), NR(clock_getres), NR(gettimeofday), NR(getpid),
    NR(gettid), NR(getppid), NR(getuid), NR(geteuid), NR(getgid), NR(getegid), NR(exit), NR(exit_group),
    NR(futex), NR(sched_yield), NR(sched_getaffinity), NR(tgkill), NR(getrandom), NR(restart_syscall),
    NR(set_robust_list), NR(get_robust_list), NR(rseq), NR(uname), NR(prlimit64),
    NR(getrusage), NR(fsync), NR(fdatasync), NR(ftruncate), NR(pipe2), NR(membarrier), NR(sysinfo),
    NR(times), NR(prctl), NR(getcwd),
#ifdef __NR_poll
    NR(poll), NR(select), NR(pipe), NR(dup2), NR(time),
#endif
#ifdef __NR_futex_waitv
    NR(futex_waitv),
#endif
};

static const int sys_files[] = {
    NR(openat), NR(renameat), NR(renameat2), NR(unlinkat), NR(mkdirat), NR(getdents64), NR(fchmod),
    NR(flock), NR(faccessat), NR(faccessat2), NR(readlinkat), NR(fstatfs), NR(statfs), NR(fchown),
#ifdef __NR_open
    NR(open), NR(rename), NR(unlink), NR(mkdir), NR(access), NR(readlink), NR(stat), NR(lstat),
#endif
};

static const int sys_fork[] = {
    NR(clone), NR(wait4), NR(waitid), NR(kill), NR(set_tid_address), NR(setpriority), NR(getpriority),
#ifdef __NR_fork
    NR(fork), NR(vfork),
#endif
};

static const int sys_net[] = {
    NR(socket), NR(connect), NR(getsockopt), NR(setsockopt), NR(getsockname), NR(getpeername), NR(sendto),
    NR(recvfrom), NR(sendmsg), NR(recvmsg), NR(sendmmsg), NR(recvmmsg), NR(shutdown), NR(bind),
    NR(socketpair), NR(eventfd2), NR(epoll_create1), NR(epoll_ctl), NR(epoll_pwait),
#ifdef __NR_epoll_wait
    NR(epoll_wait),
#endif
};

/* A program run under the filter starts as any does: the loader, a shell. */
static const int sys_exec[] = {
    NR(execve), NR(execveat), NR(setpgid), NR(getpgid), NR(setsid), NR(getsid), NR(umask), NR(chdir), NR(fchdir),
#ifdef __NR_arch_prctl
    NR(arch_prctl), NR(getpgrp),
#endif
};

static int apply_seccomp(int profile, char *note, size_t n)
{
#ifndef SB_ARCH
    (void)profile;
    snprintf(note, n, "no seccomp allow-list for this architecture");
    return 1;
#else
    int nrs[512], k = 0;
#define TAKE(list)                                                                                  \
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)                                       \
    nrs[k++] = list[i]
    TAKE(sys_stdio);
    if (profile & (ORA_SB_FILES | ORA_SB_NET | ORA_SB_EXEC))
        TAKE(sys_files); /* a resolver reads /etc/hosts; a program is opened to run it */
    if (profile & (ORA_SB_FORK | ORA_SB_EXEC))
        TAKE(sys_fork);
    if (profile & ORA_SB_NET)
        TAKE(sys_net);
    if (profile & ORA_SB_EXEC)
        TAKE(sys_exec);
#undef TAKE
    /* arch check, x32 check, clone3 (ENOSYS: glibc then uses clone, whose
     * flags a filter can read), clone for threads only unless the profile
     * forks, one jeq per call, deny, allow */
    struct sock_filter f[540];
    int p = 0;
    f[p++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[p++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_ARCH, 1, 0);
    f[p++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    f[p++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    f[p++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    f[p++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
#endif
    f[p++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
    f[p++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
    if (!(profile & (ORA_SB_FORK | ORA_SB_EXEC))) {
        f[p++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4);
        f[p++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
        f[p++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x00010000u /* CLONE_THREAD */, 0, 1);
        f[p++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        f[p++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    }
    for (int i = 0; i < k; i++)
        f[p++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], (unsigned char)(k - i), 0);
    f[p++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    f[p++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {(unsigned short)p, f};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) < 0) {
        snprintf(note, n, "unable to install the seccomp filter: %s", strerror(errno));
        return -1;
    }
    return 0;
#endif
}

int ora_sandbox_seccomp(void)
{
#ifdef SB_ARCH
    return !SB_SANITIZER;
#else
    return 0;
#endif
}

int ora_sandbox_apply(const ora_sandbox *s, char *note, size_t n)
{
    char missing[256] = "";
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(note, n, "unable to set no_new_privs: %s", strerror(errno));
        return -1;
    }
    int abi = ora_sandbox_landlock_abi();
    if (abi == 0)
        snprintf(missing, sizeof missing, "the kernel lacks Landlock (filesystem and network not confined)");
    else if (apply_landlock(s, abi, note, n) < 0)
        return -1;
    else if (abi < 4)
        snprintf(missing, sizeof missing, "Landlock ABI %d confines files but not TCP", abi);
    /* a sanitizer build goes without seccomp by design: not a missing
     * layer (describe says so) */
    if (!SB_SANITIZER) {
        char sn[128] = "";
        int rc = apply_seccomp(s->profile, sn, sizeof sn);
        if (rc < 0) {
            snprintf(note, n, "%s", sn);
            return -1;
        }
        if (rc > 0) {
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof missing - l, "%s%s", l ? "; " : "", sn);
        }
    }
    snprintf(note, n, "%s", missing);
    return missing[0] ? 1 : 0;
}
