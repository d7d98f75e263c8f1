/* aws_util.c: helpers of aws_config.c and creds.c (see aws_util.h). */
#include "aws_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

void aws_seterr(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

void aws_wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

int aws_read_file(const char *path, ora_buf *b, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        if (ora_buf_reserve(b, 4096) < 0)
            break;
        ssize_t n = read(fd, b->p + b->len, b->cap - b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (n == 0) {
            close(fd);
            return 0;
        }
        b->len += (size_t)n;
        if (b->len > max) {
            errno = EFBIG;
            break;
        }
    }
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}
