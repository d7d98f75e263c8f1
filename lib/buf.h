/* buf.h: a growable byte buffer. The owner frees it with ora_buf_free().
 *
 * A buffer made with ORA_BUF_SECRET_INIT (or ora_buf_secret) holds a
 * secret: whenever it grows, the old block is wiped before it is freed
 * (never realloc'd in place), and ora_buf_free wipes it. Its bytes still
 * live in ordinary heap: keep long-lived secrets in sodium_malloc memory. */
#ifndef ORA_BUF_H
#define ORA_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct ora_buf {
    uint8_t *p;
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
    int secret;   /* wipe on growth and free */
} ora_buf;

#define ORA_BUF_INIT {NULL, 0, 0, 0}
#define ORA_BUF_SECRET_INIT {NULL, 0, 0, 1}

/* Makes room for at least extra more bytes. 0, or -1 (ENOMEM). */
int ora_buf_reserve(ora_buf *b, size_t extra);
/* Appends n bytes. 0, or -1 (ENOMEM). */
int ora_buf_append(ora_buf *b, const void *p, size_t n);
/* Appends a printf-formatted string (no NUL kept). 0, or -1. */
int ora_buf_printf(ora_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes the first n bytes (memmove). */
void ora_buf_consume(ora_buf *b, size_t n);
/* Wipes and frees when secret, else frees. b is then empty (and still
 * secret when it was). */
void ora_buf_free(ora_buf *b);
/* Marks b (empty or not) as holding a secret from now on. */
void ora_buf_secret(ora_buf *b);

#endif
