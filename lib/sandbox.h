/* sandbox.h: confines a stage once it has opened what it needs, as
 * OpenBSD's pledge(2)/unveil(2) do, with what Linux offers:
 *
 *   - PR_SET_NO_NEW_PRIVS: nothing it runs gains privileges;
 *   - Landlock: the filesystem is reduced to the paths listed (read, write,
 *     execute), TCP connect to the ports listed and bind to none, signals
 *     and abstract unix sockets scoped to the stage itself;
 *   - seccomp: an allow-list of system calls for the profile; any other
 *     call fails with EPERM (it does not kill: a denial is an error the
 *     stage reports, never a silent crash).
 *
 * File descriptors opened before the call (stdin, stdout, a state file,
 * the TLS socket) keep working. Call it once, after everything has been
 * opened and before any thread starts (Landlock confines the calling
 * thread and the threads and children created after it).
 *
 * On a kernel without Landlock (or with an older ABI) the stage runs with
 * what the kernel offers; the note says what is missing. In builds with a
 * sanitizer, seccomp is skipped (by design: not reported as missing;
 * ora_sandbox_describe says so) and /proc stays readable: the sanitizer's
 * runtime reads /proc/self/maps and traces threads when it reports.
 * ORA_SANDBOX=off (the caller checks it with ora_sandbox_wanted()) turns
 * the whole thing off, for debugging with gdb or strace -p.
 */
#ifndef ORA_SANDBOX_H
#define ORA_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

enum ora_sb_profile {
    ORA_SB_STDIO = 0, /* read and write open descriptors, allocate memory, threads */
    ORA_SB_FILES = 1, /* + open, rename and remove files beneath the allowed paths */
    ORA_SB_FORK = 2,  /* + fork and wait (checkpoint writers) */
    ORA_SB_NET = 4,   /* + TCP/UDP sockets (DNS, HTTPS) */
    ORA_SB_EXEC = 8   /* + run the programs listed in exec (credential_process) */
};

#define ORA_SB_MAX_PATHS 16
#define ORA_SB_MAX_PORTS 8

typedef struct ora_sandbox {
    int profile;                              /* ORA_SB_* flags */
    const char *read[ORA_SB_MAX_PATHS];       /* files or directories, read beneath */
    const char *write[ORA_SB_MAX_PATHS];      /* + create, write, rename, remove beneath */
    const char *exec[ORA_SB_MAX_PATHS];       /* + execute beneath */
    uint16_t connect[ORA_SB_MAX_PORTS];       /* TCP ports it may connect to */
    int any_port;                             /* TCP connect to any port (proxies, IMDS...) */
} ora_sandbox;

/* Adds a path to a list (NULL and duplicates ignored). 0, or -1 when the
 * list is full. */
int ora_sandbox_add(const char **list, const char *path);
/* Adds a TCP port. 0, or -1 when the list is full. */
int ora_sandbox_port(ora_sandbox *s, uint16_t port);

/* Adds what a networking stage reads again after it is confined: the
 * resolver's files (/etc: nsswitch.conf, hosts, resolv.conf, gai.conf),
 * the libnss_* modules and locale data it may load (/usr/lib, /lib...),
 * OpenSSL's configuration (/usr/lib/ssl) and the system's CA certificates
 * (/etc/ssl, /usr/share/ca-certificates, their link targets), and
 * /run/systemd/resolve (where /etc/resolv.conf may link). 0, or -1
 * when the read list is full. */
int ora_sandbox_add_system(ora_sandbox *s);

/* The directory holding path, into buf (n bytes): "." for a bare name, "/"
 * for a file at the root. A file replaced by rename (a metrics file, a
 * checkpoint) is allowed through its directory. Returns buf, or NULL when
 * it does not fit. */
const char *ora_sandbox_dir(const char *path, char *buf, size_t n);

/* Sets s to the allowance of a filter stage (ora-deframe, ora-order):
 * stdio only, plus files beneath the directory of metrics (written by a
 * temporary file and a rename) when it is not NULL; dir (n bytes) holds
 * that directory's name. */
void ora_sandbox_filter(ora_sandbox *s, const char *metrics, char *dir, size_t n);

/* One line describing s for a debug log: "stdio+files+net, read /etc
 * /usr/lib, write /var/lib/ora, exec -, tcp 443 8443". */
void ora_sandbox_describe(const ora_sandbox *s, char *buf, size_t n);

/* 0 when ORA_SANDBOX is "off" or "0", 1 otherwise. */
int ora_sandbox_wanted(void);

/* Confines the process. Returns 0 when every layer applied, 1 when some
 * layer is missing on this kernel or architecture (note says which), or -1 with
 * a reason in note when a layer the kernel offers failed (the caller
 * stops: it must not run believing it is confined). A listed path that
 * does not exist is skipped (it cannot be opened later either). */
int ora_sandbox_apply(const ora_sandbox *s, char *note, size_t n);

/* 1 when this build installs a seccomp filter (not in sanitizer builds, and
 * only on x86_64 and aarch64), else 0. */
int ora_sandbox_seccomp(void);

/* The Landlock ABI version of the running kernel, 0 when it has none. */
int ora_sandbox_landlock_abi(void);

#endif
