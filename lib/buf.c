/* buf.c: growable byte buffer (buf.h). */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

int ora_buf_reserve(ora_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len) {
        errno = ENOMEM;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p;
    if (b->secret) { /* never leave an unwiped copy behind */
        if (!(p = malloc(cap)))
            return -1;
        if (b->p) {
            memcpy(p, b->p, b->len);
            sodium_memzero(b->p, b->cap);
            free(b->p);
        }
    } else if (!(p = realloc(b->p, cap))) {
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int ora_buf_append(ora_buf *b, const void *p, size_t n)
{
    if (ora_buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

int ora_buf_printf(ora_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || ora_buf_reserve(b, (size_t)n + 1) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void ora_buf_consume(ora_buf *b, size_t n)
{
    if (n >= b->len) {
        if (b->secret && b->len)
            sodium_memzero(b->p, b->len);
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    if (b->secret)
        sodium_memzero(b->p + b->len, n);
}

void ora_buf_free(ora_buf *b)
{
    if (b->secret && b->p)
        sodium_memzero(b->p, b->cap);
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void ora_buf_secret(ora_buf *b)
{
    b->secret = 1;
}
