/* wire_enc.c: the encoder half of wire.h: one gzip member per call. */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct ora_wire_enc {
    z_stream zs;
    int ready;
};

ora_wire_enc *ora_wire_enc_new(int level)
{
    ora_wire_enc *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (level < 1 || level > 9)
        level = 6;
    /* windowBits 31: gzip header and trailer, as the ORA server writes. */
    if (deflateInit2(&e->zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(e);
        errno = ENOMEM;
        return NULL;
    }
    e->ready = 1;
    return e;
}

void ora_wire_enc_free(ora_wire_enc *e)
{
    if (!e)
        return;
    if (e->ready)
        deflateEnd(&e->zs);
    free(e);
}

/* Deflates n bytes with the given flush mode, growing out as needed. */
static int deflate_into(z_stream *zs, const uint8_t *p, size_t n, int flush, ora_buf *out)
{
    zs->next_in = (Bytef *)p;
    zs->avail_in = (uInt)n;
    for (;;) {
        size_t room = deflateBound(zs, zs->avail_in) + 64;
        if (ora_buf_reserve(out, room) < 0)
            return -1;
        zs->next_out = out->p + out->len;
        zs->avail_out = (uInt)(out->cap - out->len > UINT32_MAX ? UINT32_MAX : out->cap - out->len);
        uInt before = zs->avail_out;
        int rc = deflate(zs, flush);
        out->len += before - zs->avail_out;
        if (rc == Z_STREAM_END)
            return 0;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            errno = EINVAL;
            return -1;
        }
        if (zs->avail_in == 0 && flush == Z_NO_FLUSH)
            return 0;
    }
}

int ora_wire_encode(ora_wire_enc *e, const uint8_t *const *msgs, const size_t *msg_lens,
                    size_t n, ora_buf *out)
{
    if (deflateReset(&e->zs) != Z_OK) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (msg_lens[i] > UINT32_MAX) {
            errno = EINVAL;
            return -1;
        }
        uint32_t l = (uint32_t)msg_lens[i];
        uint8_t hdr[4] = {(uint8_t)(l >> 24), (uint8_t)(l >> 16), (uint8_t)(l >> 8), (uint8_t)l};
        if (deflate_into(&e->zs, hdr, 4, Z_NO_FLUSH, out) < 0)
            return -1;
        /* zlib counts input in uInt: feed very large frames in pieces. */
        const uint8_t *p = msgs[i];
        size_t left = l;
        while (left) {
            size_t k = left > (1u << 30) ? (1u << 30) : left;
            if (deflate_into(&e->zs, p, k, Z_NO_FLUSH, out) < 0)
                return -1;
            p += k;
            left -= k;
        }
    }
    return deflate_into(&e->zs, NULL, 0, Z_FINISH, out);
}
