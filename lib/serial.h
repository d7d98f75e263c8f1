/* serial.h: a buffered little-endian byte writer that sums what it writes
 * (BLAKE2b-256, crypto_generichash) and appends the sum at the end, and a
 * bounds-checked byte reader over memory. The byte format of state files
 * (statefile.h, persist.h) is written and read with them.
 */
#ifndef ORA_SERIAL_H
#define ORA_SERIAL_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

/* A writer to fd. Any failure is sticky: later calls do nothing and
 * ora_sw_finish() reports it. */
typedef struct ora_sw {
    int fd;
    uint8_t *buf;
    size_t len, cap;
    uint64_t bytes;
    int err;               /* errno of the first failure, 0 when none */
    crypto_generichash_state h;
} ora_sw;

int ora_sw_open(ora_sw *w, int fd);   /* 0, or -1 (ENOMEM) */
void ora_sw_bytes(ora_sw *w, const void *p, size_t n);
void ora_sw_u8(ora_sw *w, uint8_t v);
void ora_sw_u16(ora_sw *w, uint16_t v);
void ora_sw_u32(ora_sw *w, uint32_t v);
void ora_sw_u64(ora_sw *w, uint64_t v);
/* Appends the sum, flushes, frees the buffer. 0, or -1 with errno. */
int ora_sw_finish(ora_sw *w);

typedef struct ora_sr {
    const uint8_t *p;
    size_t len, pos;
    int bad;               /* set on any read past the end */
} ora_sr;

uint8_t ora_sr_u8(ora_sr *r);
uint16_t ora_sr_u16(ora_sr *r);
uint32_t ora_sr_u32(ora_sr *r);
uint64_t ora_sr_u64(ora_sr *r);
/* n bytes in place (NULL and bad set when fewer remain). */
const uint8_t *ora_sr_bytes(ora_sr *r, size_t n);
size_t ora_sr_left(const ora_sr *r);

#endif
