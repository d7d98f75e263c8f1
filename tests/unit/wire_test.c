/* wire_test.c: the wire decoder (lib/wire.c) against gzip members made here
 * with zlib directly (not with our encoder): every split point, frames
 * spanning members, many frames per member, empty members, corrupt and
 * trailing bytes, truncation, the frame length bound and a bomb. */
#include "rnd.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "unit.h"

/* Appends one gzip member of src[0..n) to out (level lvl). */
static void gz_member(ora_buf *out, const uint8_t *src, size_t n, int lvl)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, lvl, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        exit(2);
    size_t bound = deflateBound(&z, n) + 64;
    if (ora_buf_reserve(out, bound) < 0)
        exit(2);
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = out->p + out->len;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        exit(2);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

static void put_frame(ora_buf *d, const void *msg, uint32_t n)
{
    uint8_t h[4] = {n >> 24, n >> 16, n >> 8, n};
    if (ora_buf_append(d, h, 4) < 0 || ora_buf_append(d, msg, n) < 0)
        exit(2);
}

/* The frames expected: their bytes back to back, and their lengths. */
typedef struct { ora_buf raw; uint32_t lens[4096]; size_t n; } frames;

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { return ora_xorshift64(&rng); }

/* Drains w into got; returns the last rc (NEED_INPUT or an error). */
static int drain(ora_wire *w, frames *got)
{
    const uint8_t *m;
    uint32_t n;
    int rc;
    while ((rc = ora_wire_next(w, &m, &n)) == ORA_W_FRAME) {
        if (got->n < 4096)
            got->lens[got->n] = n;
        got->n++;
        if (ora_buf_append(&got->raw, m, n) < 0)
            exit(2);
    }
    return rc;
}

static int same(const frames *a, const frames *b)
{
    return a->n == b->n && a->raw.len == b->raw.len &&
           memcmp(a->lens, b->lens, a->n * sizeof a->lens[0]) == 0 &&
           (a->raw.len == 0 || memcmp(a->raw.p, b->raw.p, a->raw.len) == 0);
}

static void reset_frames(frames *f) { f->raw.len = 0; f->n = 0; }

/* Decodes wire cut at the given points (sorted, within (0, len)). */
static int decode_cuts(ora_wire *w, const ora_buf *wire, const size_t *cuts, size_t ncuts, frames *got)
{
    size_t at = 0;
    int rc = ORA_W_NEED_INPUT;
    reset_frames(got);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : wire->len;
        ora_wire_feed(w, wire->p + at, end - at);
        rc = drain(w, got);
        if (rc != ORA_W_NEED_INPUT)
            return rc;
        at = end;
    }
    return rc;
}

/* A small stream: messages of varied lengths (0 included), the inflated
 * stream cut into members at arbitrary places, plus empty members. */
static void make_stream(ora_buf *wire, frames *want, size_t nmsg, int empties)
{
    ora_buf d = ORA_BUF_INIT;
    char msg[2048];
    reset_frames(want);
    for (size_t i = 0; i < nmsg; i++) {
        uint32_t n;
        if (i % 7 == 3)
            n = 0;
        else
            n = (uint32_t)snprintf(msg, sizeof msg, "{\"offset\":%zu,\"eventScoreUpdated\":{\"eventId\":%llu,\"pad\":\"%.*s\"}}",
                                   i, (unsigned long long)(rnd() % 100000), (int)(rnd() % 300),
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        put_frame(&d, msg, n);
        want->lens[want->n++] = n;
        ora_buf_append(&want->raw, msg, n);
    }
    size_t at = 0;
    wire->len = 0;
    while (at < d.len) {
        size_t take = 1 + rnd() % 300;
        if (take > d.len - at)
            take = d.len - at;
        gz_member(wire, d.p + at, take, 1 + (int)(rnd() % 9));
        if (empties && rnd() % 4 == 0)
            gz_member(wire, NULL, 0, 6);
        at += take;
    }
    ora_buf_free(&d);
}

static void test_every_split(void)
{
    ora_buf wire = ORA_BUF_INIT;
    frames want = {0}, got = {0};
    make_stream(&wire, &want, 12, 1);
    ora_wire *w = ora_wire_new(NULL);
    CHECK(w);
    /* whole */
    CHECK(decode_cuts(w, &wire, NULL, 0, &got) == ORA_W_NEED_INPUT);
    CHECK(same(&want, &got));
    CHECK(!ora_wire_partial(w));
    CHECK(ora_wire_in_pos(w) == wire.len);
    CHECK(ora_wire_reset(w) == 0);
    /* one cut at every byte boundary */
    size_t bad = 0;
    for (size_t s = 1; s < wire.len; s++) {
        int rc = decode_cuts(w, &wire, &s, 1, &got);
        if (rc != ORA_W_NEED_INPUT || !same(&want, &got) || ora_wire_partial(w))
            bad++;
        CHECK(ora_wire_reset(w) == 0);
    }
    CHECK(bad == 0);
    /* two cuts at every pair of boundaries of a prefix region, and byte by byte */
    size_t cuts[2];
    bad = 0;
    for (cuts[0] = 1; cuts[0] < wire.len && cuts[0] < 200; cuts[0]++)
        for (cuts[1] = cuts[0] + 1; cuts[1] < wire.len; cuts[1] += 7) {
            if (decode_cuts(w, &wire, cuts, 2, &got) != ORA_W_NEED_INPUT || !same(&want, &got))
                bad++;
            ora_wire_reset(w);
        }
    CHECK(bad == 0);
    size_t *all = unit_malloc(wire.len * sizeof *all);
    for (size_t i = 0; i + 1 < wire.len; i++)
        all[i] = i + 1;
    CHECK(decode_cuts(w, &wire, all, wire.len - 1, &got) == ORA_W_NEED_INPUT);
    CHECK(same(&want, &got));
    free(all);
    ora_wire_free(w);
    ora_buf_free(&wire);
    ora_buf_free(&want.raw);
    ora_buf_free(&got.raw);
    printf("ok every split point (%s)\n", bad ? "FAIL" : "all");
}

/* Random streams, random cut sets, random frames per member. */
static void test_random(void)
{
    ora_buf wire = ORA_BUF_INIT;
    frames want = {0}, got = {0};
    ora_wire *w = ora_wire_new(NULL);
    size_t bad = 0;
    for (int round = 0; round < 200; round++) {
        make_stream(&wire, &want, 1 + rnd() % 60, round & 1);
        size_t cuts[64], nc = rnd() % 64;
        for (size_t i = 0; i < nc; i++)
            cuts[i] = 1 + rnd() % (wire.len - 1);
        /* sort, unique */
        for (size_t i = 1; i < nc; i++)
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j]; cuts[j] = cuts[j - 1]; cuts[j - 1] = t;
            }
        size_t k = 0;
        for (size_t i = 0; i < nc; i++)
            if (k == 0 || cuts[i] != cuts[k - 1])
                cuts[k++] = cuts[i];
        if (decode_cuts(w, &wire, cuts, k, &got) != ORA_W_NEED_INPUT || !same(&want, &got) ||
            ora_wire_partial(w))
            bad++;
        ora_wire_reset(w);
    }
    CHECK(bad == 0);
    ora_wire_free(w);
    ora_buf_free(&wire);
    ora_buf_free(&want.raw);
    ora_buf_free(&got.raw);
    printf("ok random streams and cuts\n");
}

/* One member holding many frames, and one frame over many members. */
static void test_member_shapes(void)
{
    ora_buf d = ORA_BUF_INIT, wire = ORA_BUF_INIT;
    frames want = {0}, got = {0};
    ora_wire *w = ora_wire_new(NULL);
    for (int i = 0; i < 1000; i++) {
        char m[64];
        uint32_t n = (uint32_t)snprintf(m, sizeof m, "{\"offset\":%d}", i);
        put_frame(&d, m, n);
        want.lens[want.n++] = n;
        ora_buf_append(&want.raw, m, n);
    }
    gz_member(&wire, d.p, d.len, 6);
    CHECK(decode_cuts(w, &wire, NULL, 0, &got) == ORA_W_NEED_INPUT && same(&want, &got));
    CHECK(ora_wire_members(w) == 1);
    ora_wire_reset(w);
    /* one frame, each of its bytes its own member */
    wire.len = 0;
    d.len = 0;
    reset_frames(&want);
    put_frame(&d, "{\"offset\":42,\"x\":[1,2,3]}", 25);
    want.lens[want.n++] = 25;
    ora_buf_append(&want.raw, "{\"offset\":42,\"x\":[1,2,3]}", 25);
    for (size_t i = 0; i < d.len; i++)
        gz_member(&wire, d.p + i, 1, 9);
    CHECK(decode_cuts(w, &wire, NULL, 0, &got) == ORA_W_NEED_INPUT && same(&want, &got));
    CHECK(ora_wire_members(w) == d.len);
    ora_wire_free(w);
    ora_buf_free(&d);
    ora_buf_free(&wire);
    ora_buf_free(&want.raw);
    ora_buf_free(&got.raw);
    printf("ok 1000 frames in a member, a frame over 29 members\n");
}

static void test_corrupt(void)
{
    ora_buf wire = ORA_BUF_INIT;
    frames want = {0}, got = {0};
    ora_wire *w = ora_wire_new(NULL);
    make_stream(&wire, &want, 10, 0);
    size_t good = wire.len;
    /* trailing garbage after the last member */
    ora_buf_append(&wire, "garbage!", 8);
    int rc = decode_cuts(w, &wire, NULL, 0, &got);
    CHECK(rc == ORA_W_CORRUPT);
    CHECK(same(&want, &got));   /* every frame before the garbage came out */
    CHECK(strlen(ora_wire_error(w)) > 0);
    CHECK(ora_wire_in_pos(w) > good && ora_wire_in_pos(w) <= wire.len);
    /* sticky until reset */
    const uint8_t *m;
    uint32_t n;
    CHECK(ora_wire_next(w, &m, &n) == ORA_W_CORRUPT);
    ora_wire_feed(w, wire.p, good);
    CHECK(ora_wire_next(w, &m, &n) == ORA_W_CORRUPT);
    ora_wire_reset(w);
    CHECK(*ora_wire_error(w) == 0);
    CHECK(decode_cuts(w, &wire, &good, 1, &got) == ORA_W_CORRUPT);
    ora_wire_reset(w);
    /* a flipped byte anywhere after the header of a one-member stream */
    ora_buf one = ORA_BUF_INIT, d = ORA_BUF_INIT;
    static const char fm[] = "{\"offset\":12345,\"x\":\"abcabcabc\"}";
    const uint32_t fl = (uint32_t)strlen(fm);
    reset_frames(&want);
    for (size_t i = 0; i < 10; i++) {
        want.lens[want.n++] = fl;
        ora_buf_append(&want.raw, fm, fl);
    }
    d.len = 0;
    for (size_t i = 0; i < 10; i++)
        put_frame(&d, fm, fl);
    gz_member(&one, d.p, d.len, 6);
    int caught = 0, tries = 0;
    for (size_t at = 10; at < one.len; at++) {
        ora_buf bad = ORA_BUF_INIT;
        ora_buf_append(&bad, one.p, one.len);
        bad.p[at] ^= 0x55;
        rc = decode_cuts(w, &bad, NULL, 0, &got);
        tries++;
        /* the gzip CRC-32 and length make every damage visible */
        if (rc == ORA_W_CORRUPT || rc == ORA_W_TOO_LONG || ora_wire_partial(w) || !same(&want, &got))
            caught++;
        ora_wire_reset(w);
        ora_buf_free(&bad);
    }
    CHECK(caught == tries);
    ora_buf_free(&one);
    ora_buf_free(&d);
    /* not gzip at all */
    ora_wire_feed(w, (const uint8_t *)"\x00\x00\x00\x02{}", 6);
    CHECK(ora_wire_next(w, &m, &n) == ORA_W_CORRUPT);
    CHECK(ora_wire_in_pos(w) <= 6);
    ora_wire_reset(w);
    /* a zlib (not gzip) stream */
    {
        uint8_t zb[64];
        uLongf zl = sizeof zb;
        compress(zb, &zl, (const Bytef *)"\0\0\0\2{}", 6);
        ora_wire_feed(w, zb, zl);
        CHECK(ora_wire_next(w, &m, &n) == ORA_W_CORRUPT);
        ora_wire_reset(w);
    }
    ora_wire_free(w);
    ora_buf_free(&wire);
    ora_buf_free(&want.raw);
    ora_buf_free(&got.raw);
    printf("ok corrupt data (%d flips caught)\n", caught);
}

static void test_truncated(void)
{
    ora_buf wire = ORA_BUF_INIT, d = ORA_BUF_INIT;
    frames got = {0};
    ora_wire *w = ora_wire_new(NULL);
    put_frame(&d, "{\"offset\":1}", 12);
    put_frame(&d, "{\"offset\":2}", 12);
    gz_member(&wire, d.p, 16 + 6, 6);      /* second frame cut after 6 bytes */
    size_t m1 = wire.len;
    gz_member(&wire, d.p + 22, d.len - 22, 6);
    /* stop after the first member: a partial frame */
    size_t cut = m1;
    ora_wire_feed(w, wire.p, cut);
    CHECK(drain(w, &got) == ORA_W_NEED_INPUT && got.n == 1);
    CHECK(ora_wire_partial(w));
    CHECK(ora_wire_pending_frame(w) == 6);
    CHECK(ora_wire_pending_member(w) == 0);
    CHECK(ora_wire_reset(w) == 6);
    CHECK(!ora_wire_partial(w));
    /* stop inside the second member */
    reset_frames(&got);
    ora_wire_feed(w, wire.p, m1 + 5);
    CHECK(drain(w, &got) == ORA_W_NEED_INPUT && got.n == 1);
    CHECK(ora_wire_partial(w));
    CHECK(ora_wire_pending_member(w) == 5);
    CHECK(ora_wire_reset(w) == 6 + 5);
    /* stop inside the trailer of a member whose frames are all out */
    ora_buf w2 = ORA_BUF_INIT;
    gz_member(&w2, d.p, 16, 6);
    ora_wire_feed(w, w2.p, w2.len - 3);
    reset_frames(&got);
    CHECK(drain(w, &got) == ORA_W_NEED_INPUT && got.n == 1);
    CHECK(ora_wire_partial(w));
    CHECK(ora_wire_pending_frame(w) == 0);
    CHECK(ora_wire_pending_member(w) == w2.len - 3);
    /* and then the rest arrives */
    ora_wire_feed(w, w2.p + w2.len - 3, 3);
    CHECK(drain(w, &got) == ORA_W_NEED_INPUT && got.n == 1);
    CHECK(!ora_wire_partial(w));
    CHECK(ora_wire_members(w) == 1);
    ora_wire_free(w);
    ora_buf_free(&wire);
    ora_buf_free(&w2);
    ora_buf_free(&d);
    ora_buf_free(&got.raw);
    printf("ok truncated streams\n");
}

static void test_big_frame(void)
{
    const uint32_t big = 16u << 20;
    uint8_t *msg = unit_malloc(big + 1);
    for (uint32_t i = 0; i < big + 1; i++)
        msg[i] = (uint8_t)("0123456789abcdef"[(i * 2654435761u) >> 28]);
    ora_buf d = ORA_BUF_INIT, wire = ORA_BUF_INIT;
    put_frame(&d, "{}", 2);
    put_frame(&d, msg, big);
    put_frame(&d, "{}", 2);
    gz_member(&wire, d.p, d.len, 1);
    ora_wire *w = ora_wire_new(NULL);
    frames got = {0};
    /* in 3 pieces, cut inside the big frame */
    size_t cuts[2] = {wire.len / 3, wire.len / 2};
    CHECK(decode_cuts(w, &wire, cuts, 2, &got) == ORA_W_NEED_INPUT);
    CHECK(got.n == 3 && got.lens[1] == big && got.raw.len == big + 4);
    CHECK(got.raw.len == big + 4 && memcmp(got.raw.p + 2, msg, big) == 0);
    ora_wire_reset(w);
    /* one byte more than the bound: rejected from its length alone */
    d.len = 0;
    wire.len = 0;
    put_frame(&d, msg, big + 1);
    gz_member(&wire, d.p, d.len, 1);
    CHECK(decode_cuts(w, &wire, NULL, 0, &got) == ORA_W_TOO_LONG);
    CHECK(ora_wire_out_pos(w) < (1u << 20));
    CHECK(strstr(ora_wire_error(w), "over the limit") != NULL);
    ora_wire_free(w);
    /* a smaller bound */
    ora_wire_limits lim = {100, 0};
    w = ora_wire_new(&lim);
    d.len = 0;
    wire.len = 0;
    put_frame(&d, msg, 100);
    put_frame(&d, msg, 101);
    gz_member(&wire, d.p, d.len, 1);
    CHECK(decode_cuts(w, &wire, NULL, 0, &got) == ORA_W_TOO_LONG && got.n == 1);
    ora_wire_free(w);
    free(msg);
    ora_buf_free(&d);
    ora_buf_free(&wire);
    ora_buf_free(&got.raw);
    printf("ok 16 MiB frame, frame length bound\n");
}

/* 256 MiB of zeros in one member (about 250 KiB compressed). */
static void test_bomb(void)
{
    ora_buf wire = ORA_BUF_INIT;
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    uint8_t *zero = calloc(1, 1 << 20);
    ora_buf_reserve(&wire, 1 << 20);
    for (int i = 0; i < 256; i++) {
        z.next_in = zero;
        z.avail_in = 1 << 20;
        do {
            ora_buf_reserve(&wire, 65536);
            z.next_out = wire.p + wire.len;
            z.avail_out = 65536;
            deflate(&z, i == 255 ? Z_FINISH : Z_NO_FLUSH);
            wire.len += 65536 - z.avail_out;
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    free(zero);
    ora_wire *w = ora_wire_new(NULL);
    frames got = {0};
    int rc = decode_cuts(w, &wire, NULL, 0, &got);
    CHECK(rc == ORA_W_BOMB);
    CHECK(ora_wire_out_pos(w) <= (1u << 20));   /* caught early */
    CHECK(strstr(ora_wire_error(w), "200:1") != NULL);
    ora_wire_free(w);
    /* without a ratio bound it is just many empty frames */
    ora_wire_limits lim = {0, 0};
    w = ora_wire_new(&lim);
    const uint8_t *m;
    uint32_t n;
    size_t k = 0;
    ora_wire_feed(w, wire.p, wire.len);
    while ((rc = ora_wire_next(w, &m, &n)) == ORA_W_FRAME && n == 0)
        k++;
    CHECK(rc == ORA_W_NEED_INPUT && k == (256u << 20) / 4);
    ora_wire_free(w);
    ora_buf_free(&wire);
    ora_buf_free(&got.raw);
    printf("ok bomb rejected\n");
}

static void test_misc(void)
{
    ora_wire *w = ora_wire_new(NULL);
    const uint8_t *m;
    uint32_t n;
    CHECK(ora_wire_next(w, &m, &n) == ORA_W_NEED_INPUT);
    ora_wire_feed(w, NULL, 0);
    CHECK(ora_wire_next(w, &m, &n) == ORA_W_NEED_INPUT);
    CHECK(!ora_wire_partial(w));
    CHECK(ora_wire_reset(w) == 0);
    /* a gzip header with a file name and comment, as gzip(1) writes */
    static const uint8_t hdr[] = {0x1f, 0x8b, 8, 0x18, 0, 0, 0, 0, 0, 3, 'f', '\0', 'c', '\0'};
    ora_buf wire = ORA_BUF_INIT;
    ora_buf_append(&wire, hdr, sizeof hdr);
    {
        z_stream z;
        memset(&z, 0, sizeof z);
        deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
        uint8_t out[128];
        z.next_in = (Bytef *)"\0\0\0\2{}";
        z.avail_in = 6;
        z.next_out = out;
        z.avail_out = sizeof out;
        deflate(&z, Z_FINISH);
        ora_buf_append(&wire, out, sizeof out - z.avail_out);
        deflateEnd(&z);
        uLong crc = crc32(0, (const Bytef *)"\0\0\0\2{}", 6);
        uint8_t tr[8] = {crc, crc >> 8, crc >> 16, crc >> 24, 6, 0, 0, 0};
        ora_buf_append(&wire, tr, 8);
    }
    frames got = {0};
    CHECK(decode_cuts(w, &wire, NULL, 0, &got) == ORA_W_NEED_INPUT && got.n == 1 && got.lens[0] == 2);
    CHECK(ora_wire_out_pos(w) == 6 && ora_wire_members(w) == 1);
    ora_wire_free(w);
    ora_buf_free(&wire);
    ora_buf_free(&got.raw);
    printf("ok misc\n");
}

int main(void)
{
    test_misc();
    test_every_split();
    test_random();
    test_member_shapes();
    test_corrupt();
    test_truncated();
    test_big_frame();
    test_bomb();
    return unit_summary("wire_test");
}
