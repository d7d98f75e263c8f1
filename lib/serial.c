/* serial.c: byte writer and reader of the state format (serial.h). */
#include "serial.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define SW_CAP (1u << 20)

int ora_sw_open(ora_sw *w, int fd)
{
    memset(w, 0, sizeof *w);
    w->fd = fd;
    w->cap = SW_CAP;
    w->buf = malloc(w->cap);
    if (!w->buf)
        return -1;
    crypto_generichash_init(&w->h, NULL, 0, 32);
    return 0;
}

static void sw_flush(ora_sw *w)
{
    if (w->err || !w->len)
        return;
    crypto_generichash_update(&w->h, w->buf, w->len);
    if (cli_write_all(w->fd, w->buf, w->len) < 0) {
        w->err = errno;
        return;
    }
    w->bytes += w->len;
    w->len = 0;
}

void ora_sw_bytes(ora_sw *w, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (n && !w->err) {
        if (w->len == w->cap)
            sw_flush(w);
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
}

void ora_sw_u8(ora_sw *w, uint8_t v) { ora_sw_bytes(w, &v, 1); }
void ora_sw_u16(ora_sw *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ora_sw_bytes(w, b, 2);
}
void ora_sw_u32(ora_sw *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    ora_sw_bytes(w, b, 4);
}
void ora_sw_u64(ora_sw *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    ora_sw_bytes(w, b, 8);
}

int ora_sw_finish(ora_sw *w)
{
    sw_flush(w);
    uint8_t sum[32];
    crypto_generichash_final(&w->h, sum, sizeof sum);
    if (!w->err) {
        /* the sum is not part of the hashed bytes: write it directly */
        if (cli_write_all(w->fd, sum, sizeof sum) < 0)
            w->err = errno;
        w->bytes += sizeof sum;
    }
    free(w->buf);
    w->buf = NULL;
    if (w->err) {
        errno = w->err;
        return -1;
    }
    return 0;
}

const uint8_t *ora_sr_bytes(ora_sr *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t ora_sr_u8(ora_sr *r)
{
    const uint8_t *p = ora_sr_bytes(r, 1);
    return p ? p[0] : 0;
}
uint16_t ora_sr_u16(ora_sr *r)
{
    const uint8_t *p = ora_sr_bytes(r, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}
uint32_t ora_sr_u32(ora_sr *r)
{
    const uint8_t *p = ora_sr_bytes(r, 4);
    return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}
uint64_t ora_sr_u64(ora_sr *r)
{
    const uint8_t *p = ora_sr_bytes(r, 8);
    if (!p)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
size_t ora_sr_left(const ora_sr *r) { return r->bad ? 0 : r->len - r->pos; }

