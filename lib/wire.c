/* wire.c: the ORA wire decoder (see wire.h): gzip members -> frames.
 *
 * Inflated bytes go straight into one frame buffer fb[0..cap): [rd, wr) holds
 * the bytes not yet returned. A frame complete in the buffer is returned in
 * place (no copy). When the current frame cannot fit behind rd, its partial
 * bytes are moved to the front, and the buffer grows when the frame is bigger
 * than the buffer (bounded by max_frame + 4). zlib runs only when the buffered
 * bytes do not hold a whole frame, and then fills as much room as it can. No
 * allocation once the buffer has reached the size of the largest frame.
 */
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FB_INIT (256u << 10)       /* initial frame buffer */
#define FB_KEEP (4u << 20)         /* reset shrinks a buffer above this */
#define FB_MIN_ROOM (16u << 10)    /* compact when less room than this is left */
#define INFLATE_STEP (256u << 10)  /* most bytes inflated per zlib call */
#define FEED_MAX 0x40000000u       /* most bytes given to zlib at once (uInt) */

struct ora_wire {
    z_stream z;
    ora_wire_limits lim;
    uint8_t *fb;
    size_t cap, rd, wr;
    size_t feed_rest;          /* fed bytes beyond next_in + avail_in */
    int err;                   /* sticky error (enum ora_wire_rc < 0), or 0 */
    const char *errmsg;
    char errbuf[96];
    int in_member;             /* inside a gzip member (some of it consumed) */
    uint64_t in_pos, out_pos, members;
    uint64_t member_in, member_out;   /* current member */
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

ora_wire *ora_wire_new(const ora_wire_limits *lim)
{
    ora_wire *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (lim) {
        w->lim = *lim;
    } else {
        w->lim.max_frame = ORA_WIRE_MAX_FRAME_DEFAULT;
        w->lim.max_ratio = ORA_WIRE_MAX_RATIO_DEFAULT;
    }
    if (w->lim.max_frame == 0)
        w->lim.max_frame = ORA_WIRE_MAX_FRAME_DEFAULT;
    if (w->lim.max_frame > ORA_WIRE_MAX_FRAME_LIMIT)
        w->lim.max_frame = ORA_WIRE_MAX_FRAME_LIMIT;
    w->cap = FB_INIT;
    w->fb = malloc(w->cap);
    if (!w->fb) {
        free(w);
        return NULL;
    }
    if (inflateInit2(&w->z, 15 + 16) != Z_OK) {
        free(w->fb);
        free(w);
        return NULL;
    }
    w->errmsg = "";
    return w;
}

void ora_wire_free(ora_wire *w)
{
    if (!w)
        return;
    inflateEnd(&w->z);
    free(w->fb);
    free(w);
}

void ora_wire_feed(ora_wire *w, const uint8_t *data, size_t n)
{
    if (w->err)
        return;
    w->z.next_in = (Bytef *)(uintptr_t)data;
    w->feed_rest = 0;
    if (n > FEED_MAX) {
        w->feed_rest = n - FEED_MAX;
        n = FEED_MAX;
    }
    w->z.avail_in = (uInt)n;
}

static int fail(ora_wire *w, int rc, const char *msg)
{
    w->err = rc;
    w->errmsg = msg ? msg : "gzip data error";
    return rc;
}

/* Room for a frame of need bytes (prefix included) at rd: compacts, grows. */
static int make_room(ora_wire *w, size_t need)
{
    size_t have = w->wr - w->rd;
    if (w->rd > 0 && (w->rd + need > w->cap || w->cap - w->wr < FB_MIN_ROOM)) {
        if (have)
            memmove(w->fb, w->fb + w->rd, have);
        w->rd = 0;
        w->wr = have;
    }
    if (need > w->cap) {
        size_t ncap = w->cap * 2;
        size_t top = (size_t)w->lim.max_frame + 4;
        if (ncap > top)
            ncap = top;
        if (ncap < need)
            ncap = need;
        uint8_t *p = realloc(w->fb, ncap);
        if (!p)
            return fail(w, ORA_W_NOMEM, "out of memory for a frame");
        w->fb = p;
        w->cap = ncap;
    }
    return 0;
}

int ora_wire_next(ora_wire *w, const uint8_t **msg, uint32_t *len)
{
    for (;;) {
        /* gzip data errors come after the frames inflated before them (so
         * the frames do not depend on how the input was cut); the rest stop
         * at once */
        if (w->err && w->err != ORA_W_CORRUPT)
            return w->err;
        size_t have = w->wr - w->rd;
        size_t need = 4;
        if (have >= 4) {
            uint32_t n = be32(w->fb + w->rd);
            if (n > w->lim.max_frame) {
                snprintf(w->errbuf, sizeof w->errbuf, "frame length %u over the limit %u",
                         n, w->lim.max_frame);
                return fail(w, ORA_W_TOO_LONG, w->errbuf);
            }
            need = 4 + (size_t)n;
            if (have >= need) {
                *msg = w->fb + w->rd + 4;
                *len = n;
                w->rd += need;
                if (w->rd == w->wr)
                    w->rd = w->wr = 0;   /* *msg stays intact until the next call */
                return ORA_W_FRAME;
            }
        }
        if (w->err)
            return w->err;
        if (w->z.avail_in == 0) {
            if (w->feed_rest == 0)
                return ORA_W_NEED_INPUT;
            size_t n = w->feed_rest > FEED_MAX ? FEED_MAX : w->feed_rest;
            w->feed_rest -= n;
            w->z.avail_in = (uInt)n;
        }
        if (make_room(w, need) < 0)
            return w->err;
        size_t room = w->cap - w->wr;
        if (room > INFLATE_STEP)
            room = INFLATE_STEP;
        uInt in0 = w->z.avail_in;
        w->z.next_out = w->fb + w->wr;
        w->z.avail_out = (uInt)room;
        int rc = inflate(&w->z, Z_NO_FLUSH);
        size_t got = room - w->z.avail_out;
        uInt used = in0 - w->z.avail_in;
        w->wr += got;
        w->in_pos += used;
        w->out_pos += got;
        w->member_in += used;
        w->member_out += got;
        if (used)
            w->in_member = 1;
        if (w->lim.max_ratio && w->member_out > ORA_WIRE_RATIO_FLOOR &&
            w->member_in <= UINT64_MAX / w->lim.max_ratio &&
            w->member_out > w->member_in * w->lim.max_ratio) {
            snprintf(w->errbuf, sizeof w->errbuf,
                     "gzip member inflates over %llu:1 (%llu bytes from %llu)",
                     (unsigned long long)w->lim.max_ratio, (unsigned long long)w->member_out,
                     (unsigned long long)w->member_in);
            return fail(w, ORA_W_BOMB, w->errbuf);
        }
        switch (rc) {
        case Z_STREAM_END:
            w->members++;
            w->in_member = 0;
            w->member_in = w->member_out = 0;
            if (inflateReset(&w->z) != Z_OK)
                return fail(w, ORA_W_NOMEM, "inflateReset failed");
            continue;
        case Z_OK:
        case Z_BUF_ERROR:
            if (used == 0 && got == 0)   /* cannot happen with input and room */
                fail(w, ORA_W_CORRUPT, "inflate made no progress");
            continue;
        case Z_MEM_ERROR:
            return fail(w, ORA_W_NOMEM, "out of memory in inflate");
        case Z_NEED_DICT:
            fail(w, ORA_W_CORRUPT, "gzip member needs a dictionary");
            continue;
        default:
            fail(w, ORA_W_CORRUPT, w->z.msg);   /* the frames before it first */
            continue;
        }
    }
}

uint64_t ora_wire_pending_frame(const ora_wire *w)
{
    return w->wr - w->rd;
}

uint64_t ora_wire_pending_member(const ora_wire *w)
{
    return (w->in_member ? w->member_in : 0) + w->z.avail_in + w->feed_rest;
}

uint64_t ora_wire_reset(ora_wire *w)
{
    uint64_t dropped = ora_wire_pending_frame(w) + ora_wire_pending_member(w);
    inflateReset(&w->z);
    w->z.next_in = NULL;
    w->z.avail_in = 0;
    w->feed_rest = 0;
    w->rd = w->wr = 0;
    if (w->cap > FB_KEEP) {
        uint8_t *p = realloc(w->fb, FB_INIT);
        if (p) {
            w->fb = p;
            w->cap = FB_INIT;
        }
    }
    w->err = 0;
    w->errmsg = "";
    w->in_member = 0;
    w->in_pos = w->out_pos = w->members = 0;
    w->member_in = w->member_out = 0;
    return dropped;
}

uint64_t ora_wire_in_pos(const ora_wire *w) { return w->in_pos; }
uint64_t ora_wire_out_pos(const ora_wire *w) { return w->out_pos; }
uint64_t ora_wire_members(const ora_wire *w) { return w->members; }
const char *ora_wire_error(const ora_wire *w) { return w->errmsg; }

int ora_wire_partial(const ora_wire *w)
{
    return w->in_member || w->wr > w->rd;
}
