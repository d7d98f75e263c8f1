/* sim_gz.c: frames and gzip members as ora-sim packs them (see sim_gz.h). */
#include "sim_gz.h"

int sim_gz_frame(ora_buf *plain, const void *json, size_t n)
{
    uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    if (ora_buf_append(plain, h, 4) < 0 || ora_buf_append(plain, json, n) < 0)
        return -1;
    return 0;
}

/* Appends one gzip member of the n bytes at p to out. 0 or -1. */
static int member(z_stream *zs, int *ready, int level, const uint8_t *p, size_t n, ora_buf *out)
{
    if (!*ready) {
        /* windowBits 31: gzip header and trailer, as the ORA server writes. */
        if (deflateInit2(zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return -1;
        *ready = 1;
    } else if (deflateReset(zs) != Z_OK) {
        return -1;
    }
    zs->next_in = (uint8_t *)p;
    zs->avail_in = (uInt)n;
    for (;;) {
        if (ora_buf_reserve(out, deflateBound(zs, (uLong)n) + 64) < 0)
            return -1;
        zs->next_out = out->p + out->len;
        zs->avail_out = (uInt)(out->cap - out->len);
        int r = deflate(zs, Z_FINISH);
        out->len = out->cap - zs->avail_out;
        if (r == Z_STREAM_END)
            return 0;
        if (r != Z_OK && r != Z_BUF_ERROR)
            return -1;
    }
}

int sim_gz_members(z_stream *zs, int *ready, int level, const uint8_t *p, size_t n, size_t cut,
                   ora_buf *out)
{
    if (cut == 0 || cut >= n)
        return member(zs, ready, level, p, n, out);
    if (member(zs, ready, level, p, cut, out) < 0)
        return -1;
    return member(zs, ready, level, p + cut, n - cut, out);
}
