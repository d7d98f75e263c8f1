/* sim_send.c: frames to gzip members to the socket (see sim_send.h). */
#include "sim_send.h"
#include "cli.h"
#include "sim_fault.h"
#include "sim_gz.h"

#include <errno.h>
#include <string.h>

/* Writes the n bytes at p in pieces of chunk_min..chunk_max bytes. */
static int write_chunks(sim_conn *c, const uint8_t *p, size_t n)
{
    const sim_server_opts *o = c->srv->o;
    size_t off = 0;
    int rc = SR_OK;
    while (off < n && rc == SR_OK) {
        size_t k = sim_conn_range(c, o->chunk_min, o->chunk_max);
        if (k > n - off)
            k = n - off;
        uint64_t lim = o->faults.drop_after_bytes;
        int cut = 0;
        if (lim != SIM_OFF && sim_fault_armed(c, SIM_F_DROP_BYTES) && c->bytes + k >= lim) {
            k = (size_t)(lim - c->bytes);
            cut = 1;
        }
        if (k && (rc = sim_conn_write(c, p + off, k)) != SR_OK)
            break;
        c->bytes += k;
        c->srv->st.bytes_sent += k;
        off += k;
        if (cut && sim_fault_fire(c, SIM_F_DROP_BYTES)) {
            c->abrupt = 1;
            rc = SR_CLOSE;
        }
    }
    return rc;
}

/* Writes c->out and empties it. */
static int flush_out(sim_conn *c)
{
    int rc = write_chunks(c, c->out.p, c->out.len);
    c->out.len = 0;
    return rc;
}

static int frames_split(sim_conn *c, const uint8_t *const *m, const size_t *l, size_t n)
{
    c->plain.len = 0;
    for (size_t i = 0; i < n; i++)
        if (sim_gz_frame(&c->plain, m[i], l[i]) < 0)
            return SR_ERR;
    size_t cut = 1 + (size_t)(sim_conn_rand(c) % (c->plain.len - 1));
    if (sim_gz_members(&c->zs, &c->zs_ready, c->srv->o->level, c->plain.p, c->plain.len, cut, &c->out) < 0) {
        sim_conn_note(c, ORA_LOG_ERROR, "unable to compress");
        return SR_ERR;
    }
    return flush_out(c);
}

int sim_send_frames(sim_conn *c, const uint8_t *const *m, const size_t *l, size_t n, int split)
{
    if (split)
        return frames_split(c, m, l, n);
    if (ora_wire_encode(c->enc, m, l, n, &c->out) < 0) {
        sim_conn_note(c, ORA_LOG_ERROR, "unable to encode: %s", strerror(errno));
        return SR_ERR;
    }
    return flush_out(c);
}

int sim_send_raw(sim_conn *c, const uint8_t *p, size_t n)
{
    return write_chunks(c, p, n);
}
