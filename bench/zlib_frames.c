/* zlib_frames: the baseline for ora-deframe (issue 3). Reads the raw ORA
 * wire form (gzip members, no records) from stdin in 1 MiB blocks, inflates
 * it with bare zlib (windowBits 31, reset after each member) into a 1 MiB
 * buffer and splits the [u32 big-endian length][JSON] frames: no records, no
 * output, no JSON. Prints "frames bytes" on stdout.
 *
 * usage: zlib_frames < wire.raw
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define IN (1u << 20)

int main(void)
{
    static uint8_t in[IN];
    size_t cap = 1u << 20, have = 0;
    uint8_t *out = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!out || inflateInit2(&z, 31) != Z_OK)
        return 70;
    uint64_t frames = 0, bytes = 0;
    ssize_t n;
    while ((n = read(0, in, IN)) > 0) {
        z.next_in = in;
        z.avail_in = (uInt)n;
        while (z.avail_in) {
            z.next_out = out + have;
            z.avail_out = (uInt)(cap - have);
            int rc = inflate(&z, Z_NO_FLUSH);
            if (rc == Z_STREAM_END)
                inflateReset(&z);
            else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                fprintf(stderr, "zlib_frames: inflate: %s\n", z.msg ? z.msg : "error");
                return 65;
            }
            have = cap - z.avail_out;
            /* split the frames that are complete, keep the partial one */
            size_t at = 0;
            while (have - at >= 4) {
                const uint8_t *p = out + at;
                size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
                if (have - at < 4 + len) {
                    if (4 + len > cap) {
                        size_t ncap = 4 + len;
                        uint8_t *o = realloc(out, ncap);
                        if (!o)
                            return 70;
                        out = o;
                        cap = ncap;
                    }
                    break;
                }
                frames++;
                bytes += len;
                at += 4 + len;
            }
            memmove(out, out + at, have - at);
            have -= at;
        }
    }
    if (n < 0) {
        perror("zlib_frames: read");
        return 74;
    }
    inflateEnd(&z);
    printf("%llu %llu\n", (unsigned long long)frames, (unsigned long long)bytes);
    free(out);
    return 0;
}
