/* unit_gz.h: reading gzip streams back in the unit tests, with zlib itself
 * (not with our wire decoder), for tests that check what was compressed. */
#ifndef ORA_UNIT_GZ_H
#define ORA_UNIT_GZ_H

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"

/* Inflates in[0..n), a stream of gzip members back to back, appending the
 * plain bytes to out and adding the number of whole members to *members.
 * Returns 0, or -1 on a corrupt member (out then holds what came before).
 * A stream cut inside a member is not an error: that member is not counted. */
static inline int unit_gunzip(const uint8_t *in, size_t n, ora_buf *out, size_t *members)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 31) != Z_OK)
        return -1;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    int rc = 0;
    while (z.avail_in && rc == 0) {
        uint8_t tmp[65536];
        z.next_out = tmp;
        z.avail_out = sizeof tmp;
        int zr = inflate(&z, Z_NO_FLUSH);
        if (ora_buf_append(out, tmp, sizeof tmp - z.avail_out) < 0) {
            rc = -1;
        } else if (zr == Z_STREAM_END) {
            ++*members;
            inflateReset(&z);
        } else if (zr != Z_OK) {
            rc = -1;
        }
    }
    inflateEnd(&z);
    return rc;
}

#endif
