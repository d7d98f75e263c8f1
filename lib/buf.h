/* buf.h: a growable byte buffer. The owner frees it with ora_buf_free(). */
#ifndef ORA_BUF_H
#define ORA_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct ora_buf {
    uint8_t *p;
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
} ora_buf;

#define ORA_BUF_INIT {NULL, 0, 0}

/* Makes room for at least extra more bytes. 0, or -1 (ENOMEM). */
int ora_buf_reserve(ora_buf *b, size_t extra);
/* Appends n bytes. 0, or -1 (ENOMEM). */
int ora_buf_append(ora_buf *b, const void *p, size_t n);
/* Appends a printf-formatted string (no NUL kept). 0, or -1. */
int ora_buf_printf(ora_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes the first n bytes (memmove). */
void ora_buf_consume(ora_buf *b, size_t n);
void ora_buf_free(ora_buf *b);

#endif
