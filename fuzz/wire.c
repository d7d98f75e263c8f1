/* fuzz/wire.c: the wire decoder on arbitrary bytes. The first byte picks a
 * cut pattern; the rest is the compressed stream. The stream is decoded
 * whole and cut into pieces, and both must give the same frames and end the
 * same way (without a ratio bound, whose check points depend on the cuts).
 * A third pass with a ratio bound only has to stay memory safe. Runs stop
 * after 20000 frames (small inputs can inflate to millions of empty ones). */
#include "wire.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct { uLong crc; size_t n, bytes; int rc; } digest;

static digest run(const uint8_t *p, size_t n, unsigned pat, uint64_t ratio)
{
    ora_wire_limits lim = {1u << 20, ratio};
    ora_wire *w = ora_wire_new(&lim);
    digest d = {crc32(0, NULL, 0), 0, 0, ORA_W_NEED_INPUT};
    if (!w)
        abort();
    size_t at = 0, step = pat ? pat : n;
    while (at < n || at == 0) {
        size_t k = n - at < step ? n - at : step;
        ora_wire_feed(w, p + at, k);
        at += k;
        const uint8_t *m;
        uint32_t len;
        int rc;
        while ((rc = ora_wire_next(w, &m, &len)) == ORA_W_FRAME) {
            if (len > lim.max_frame)
                abort();
            if (d.n >= 20000) {   /* a bomb of empty frames: enough */
                rc = 99;
                break;
            }
            d.crc = crc32(d.crc, m, len);
            d.crc = crc32(d.crc, (const Bytef *)&len, sizeof len);
            d.n++;
            d.bytes += len;
        }
        d.rc = rc;
        if (rc != ORA_W_NEED_INPUT)
            break;
        if (n == 0)
            break;
    }
    (void)ora_wire_partial(w);
    (void)ora_wire_error(w);
    ora_wire_reset(w);
    if (ora_wire_partial(w) || ora_wire_in_pos(w) != 0)
        abort();
    ora_wire_free(w);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned pat = data[0];
    data++;
    size--;
    digest a = run(data, size, 0, 0);
    digest b = run(data, size, pat % 64 + 1, 0);
    if (a.crc != b.crc || a.n != b.n || a.bytes != b.bytes || a.rc != b.rc)
        abort();
    (void)run(data, size, pat % 7 + 1, 50);
    return 0;
}
