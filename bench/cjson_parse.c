/* cjson_parse: the baseline for the record layer's speed. Reads MSG
 * records WITHOUT checking their sums (a bare header walk) and parses each
 * payload with cJSON, as every JSON-reading stage must at least do.
 * Prints "N parsed" on stdout.
 *
 * usage: cjson_parse < file.rec
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

int main(void)
{
    size_t cap = 1u << 20, len = 0;
    uint8_t *buf = malloc(cap);
    ssize_t k;
    /* Whole input in memory: the baseline pays no I/O framing at all. */
    while (buf && (k = read(0, buf + len, cap - len)) > 0) {
        len += (size_t)k;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (!buf)
        return 70;
    uint64_t parsed = 0, bad = 0;
    for (size_t off = 0; off + ORA_REC_HDR <= len;) {
        uint32_t plen;
        memcpy(&plen, buf + off + 8, 4); /* little-endian hosts only: a benchmark */
        cJSON *j = cJSON_ParseWithLength((const char *)buf + off + ORA_REC_HDR, plen);
        if (j)
            parsed++;
        else
            bad++;
        cJSON_Delete(j);
        off += ORA_REC_HDR + plen;
    }
    printf("%" PRIu64 " parsed, %" PRIu64 " bad\n", parsed, bad);
    free(buf);
    return 0;
}
