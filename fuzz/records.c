/* fuzz/records.c: libFuzzer target for the record reader (lib/record.c).
 *
 * Arbitrary bytes go through ora_reader via a memfd, with the default bound
 * and with a small one, and through ora_rec_decode_hdr. Checked on every input:
 *   - no crash, no leak, no read error;
 *   - every problem starts where the reader was and the position moves by
 *     exactly the bytes it skipped; every record is exactly where it was read;
 *   - records plus skipped bytes account for every input byte;
 *   - a sound record re-encodes (ora_rec_encode) to the very bytes it came
 *     from, and ora_writer writes the same bytes again.
 * Seed corpus: fuzz/corpus/records/. */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REQUIRE(c)                                                               \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "records fuzz: %s:%d: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                             \
        }                                                                        \
    } while (0)

static int in_fd = -1, out_fd = -1;

static void load(int fd, const uint8_t *data, size_t size)
{
    REQUIRE(ftruncate(fd, 0) == 0);
    size_t off = 0;
    while (off < size) {
        ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
        REQUIRE(n > 0);
        off += (size_t)n;
    }
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
}

static void read_stream(const uint8_t *data, size_t size, uint32_t max_len)
{
    load(in_fd, data, size);
    REQUIRE(ftruncate(out_fd, 0) == 0 && lseek(out_fd, 0, SEEK_SET) == 0);
    ora_reader *rd = ora_reader_new(in_fd, max_len);
    ora_writer *wr = ora_writer_new(out_fd);
    REQUIRE(rd && wr);
    uint8_t *enc = malloc(size + ORA_REC_HDR);
    uint8_t *sound = malloc(size + 1);  /* the bytes of every sound record, in order */
    REQUIRE(enc && sound);
    size_t sound_len = 0;
    uint64_t problems = 0;
    for (;;) {
        ora_rec r;
        uint64_t before = ora_reader_pos(rd);
        int rc = ora_reader_next(rd, &r);
        uint64_t after = ora_reader_pos(rd);
        if (rc == ORA_RD_EOF)
            break;
        REQUIRE(rc != ORA_RD_ERROR);
        if (rc == ORA_RD_CORRUPT || rc == ORA_RD_TRUNCATED) {
            const ora_rd_problem *p = ora_reader_problem(rd);
            REQUIRE(p->at == before && p->skipped > 0 && after == p->at + p->skipped);
            REQUIRE(p->reason && *p->reason);
            REQUIRE(after <= size);
            problems++;
            REQUIRE(problems <= size); /* always progress */
            continue;
        }
        REQUIRE(rc == ORA_RD_RECORD);
        REQUIRE(r.len <= max_len && r.key_len <= r.len);
        REQUIRE(r.type >= ORA_T_WIRE && r.type <= ORA_T_OUT);
        REQUIRE(after == before + ORA_REC_HDR + r.len && after <= size);
        REQUIRE(r.payload && (r.len == 0 || memcmp(r.payload, data + before + ORA_REC_HDR, r.len) == 0));
        size_t n = ora_rec_encode(enc, &r);
        REQUIRE(n == ORA_REC_HDR + (size_t)r.len);
        REQUIRE(memcmp(enc, data + before, n) == 0);
        memcpy(sound + sound_len, enc, n);
        sound_len += n;
        REQUIRE(ora_writer_put(wr, &r) == 0);
    }
    REQUIRE(ora_reader_pos(rd) == size);
    REQUIRE(ora_reader_skipped(rd) + sound_len == size);
    ora_rec r;
    REQUIRE(ora_reader_next(rd, &r) == ORA_RD_EOF);
    REQUIRE(ora_writer_flush(wr) == 0);
    REQUIRE(ora_writer_bytes(wr) == sound_len);
    if (sound_len) {
        REQUIRE(pread(out_fd, enc, sound_len, 0) == (ssize_t)sound_len);
        REQUIRE(memcmp(enc, sound, sound_len) == 0);
    }
    ora_writer_free(wr);
    ora_reader_free(rd);
    free(enc);
    free(sound);
}

/* The header decoder alone, at a few places of the input. */
static void decode_headers(const uint8_t *data, size_t size)
{
    if (size < ORA_REC_HDR)
        return;
    size_t at[3] = {0, size - ORA_REC_HDR, (size - ORA_REC_HDR) / 2};
    for (int i = 0; i < 3; i++) {
        ora_rec r;
        uint64_t psum;
        const uint8_t *h = data + at[i];
        int st = ora_rec_decode_hdr(h, UINT32_MAX, &r, &psum);
        REQUIRE(st >= ORA_HDR_OK && st <= ORA_HDR_TOO_LONG && ora_hdr_status_str(st));
        if (st != ORA_HDR_OK)
            continue;
        REQUIRE(r.key_len <= r.len && r.payload == NULL);
        REQUIRE(ora_rec_decode_hdr(h, r.len, &r, &psum) == ORA_HDR_OK);
        if (r.len > 0)
            REQUIRE(ora_rec_decode_hdr(h, r.len - 1, &r, &psum) == ORA_HDR_TOO_LONG);
        /* With its payload present and sound, the record re-encodes to itself. */
        if (at[i] + ORA_REC_HDR + r.len <= size && ora_rec_sum(h + ORA_REC_HDR, r.len) == psum) {
            uint8_t *enc = malloc(ORA_REC_HDR + (size_t)r.len);
            REQUIRE(enc);
            r.payload = h + ORA_REC_HDR;
            ora_rec_encode(enc, &r);
            REQUIRE(memcmp(enc, h, ORA_REC_HDR + (size_t)r.len) == 0);
            free(enc);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (in_fd < 0) {
        in_fd = memfd_create("records-in", MFD_CLOEXEC);
        out_fd = memfd_create("records-out", MFD_CLOEXEC);
        REQUIRE(in_fd >= 0 && out_fd >= 0);
    }
    read_stream(data, size, ORA_REC_MAX_DEFAULT);
    read_stream(data, size, 200);
    decode_headers(data, size);
    return 0;
}
