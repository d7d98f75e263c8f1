/* checkpoint.c: atomic checkpoint commit and read (see checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ora_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int fsync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    /* Some file systems refuse fsync on a directory; the rename stands. */
    return ora_fsync_dir(dir) < 0 && errno != EINVAL && errno != EROFS ? -1 : 0;
}

int checkpoint_commit(const char *path, int64_t w)
{
    char tmp[4200], line[32];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int len = snprintf(line, sizeof line, "%" PRId64 "\n", w);
    /* a new file, never one that is there: a symbolic link planted under
     * the temporary name would make us write wherever it points. A stale
     * one of a dead writer with our pid is removed (unlink removes a link,
     * not its target) and the open tried once more. */
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(tmp, flags, 0644);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, flags, 0644);
    if (fd < 0)
        return -1;
    ssize_t wr = write(fd, line, (size_t)len);
    if (wr != len || fsync(fd) < 0) {
        int e = wr < 0 || wr == len ? errno : EIO;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return fsync_dir_of(path);
}

int checkpoint_read(const char *path, int64_t *w)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return -1;
    }
    buf[n] = 0;
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (n == 0 || errno || *end || buf[0] == ' ' || buf[0] == '+') {
        errno = EINVAL;
        return -1;
    }
    *w = v;
    return 1;
}
