/* statefault.so: an LD_PRELOAD shim that injects file-system faults into
 * the files a process opens under a given name, for the ora-actors tests
 * (state files). The real system does not fail on demand: this does.
 *
 * STATEFAULT_MATCH  substring of the path of the files to watch
 *                   (default "/.actors-": ora-actors' temporary state files)
 * STATEFAULT        what to do to a watched file:
 *   crash-write     the first write() writes half its bytes (at least one),
 *                   then the process exits at once with STATEFAULT_STATUS
 *                   (default 99): a crash in the middle of the file
 *   fail-write      every write() fails with ENOSPC
 *   fail-fsync      every fsync() fails with EIO
 *
 * Files are recognised by the path given to open()/openat() (and their
 * 64-bit variants); their descriptors are remembered until close().
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAXFD 4096

static unsigned char watched[MAXFD];

static const char *mode(void)
{
    const char *m = getenv("STATEFAULT");
    return m ? m : "";
}

static int matches(const char *path)
{
    const char *pat = getenv("STATEFAULT_MATCH");
    if (!pat || !*pat)
        pat = "/.actors-";
    return path && strstr(path, pat) != NULL;
}

static void note(int fd, const char *path)
{
    if (fd >= 0 && fd < MAXFD)
        watched[fd] = (unsigned char)matches(path);
}

static int is_watched(int fd) { return fd >= 0 && fd < MAXFD && watched[fd]; }

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*fd_fn)(int);
typedef ssize_t (*write_fn)(int, const void *, size_t);

/* The next definition of name (the C library's), looked up once. */
#define REAL(name, type)                                                                               \
    static type real_##name;                                                                           \
    if (!real_##name)                                                                                  \
    real_##name = (type)dlsym(RTLD_NEXT, #name)

/* Defines the wrapper of an open()-like call: the mode is read only when the
 * flags say one was passed (as the C library does), and the descriptor is
 * remembered with the path it was opened by. */
#define WRAP_OPEN(name, type, params, args)                                                            \
    int name params                                                                                    \
    {                                                                                                  \
        REAL(name, type);                                                                              \
        mode_t m = 0;                                                                                  \
        if (flags & (O_CREAT | O_TMPFILE)) {                                                           \
            va_list ap;                                                                                \
            va_start(ap, flags);                                                                       \
            m = (mode_t)va_arg(ap, int);                                                               \
            va_end(ap);                                                                                \
        }                                                                                              \
        int fd = real_##name args;                                                                     \
        note(fd, path);                                                                                \
        return fd;                                                                                     \
    }

WRAP_OPEN(open, open_fn, (const char *path, int flags, ...), (path, flags, m))
WRAP_OPEN(open64, open_fn, (const char *path, int flags, ...), (path, flags, m))
WRAP_OPEN(openat, openat_fn, (int dirfd, const char *path, int flags, ...), (dirfd, path, flags, m))
WRAP_OPEN(openat64, openat_fn, (int dirfd, const char *path, int flags, ...), (dirfd, path, flags, m))

int close(int fd)
{
    REAL(close, fd_fn);
    if (fd >= 0 && fd < MAXFD)
        watched[fd] = 0;
    return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write, write_fn);
    if (is_watched(fd)) {
        if (strcmp(mode(), "fail-write") == 0) {
            errno = ENOSPC;
            return -1;
        }
        if (strcmp(mode(), "crash-write") == 0) {
            const char *s = getenv("STATEFAULT_STATUS");
            size_t half = n > 1 ? n / 2 : n;
            if (real_write(fd, buf, half) < 0) {
                /* the crash comes anyway */
            }
            _exit(s ? atoi(s) : 99);
        }
    }
    return real_write(fd, buf, n);
}

/* Whether a sync of fd is to fail (with EIO) in this mode. */
static int sync_fails(int fd)
{
    if (is_watched(fd) && strcmp(mode(), "fail-fsync") == 0) {
        errno = EIO;
        return 1;
    }
    return 0;
}

int fsync(int fd)
{
    REAL(fsync, fd_fn);
    return sync_fails(fd) ? -1 : real_fsync(fd);
}

int fdatasync(int fd)
{
    REAL(fdatasync, fd_fn);
    return sync_fails(fd) ? -1 : real_fdatasync(fd);
}
