/* record.h: the record format between stages (man/ora-records.5).
 *
 * A record is a 64-byte header, then payload_len bytes of payload.
 * All integers are little-endian.
 *
 *   0  u8[4] magic  0x93 'O' 'R' 'A'
 *   4  u8    version (ORA_REC_VERSION)
 *   5  u8    type    (enum ora_rec_type)
 *   6  u16   flags   (ORA_RF_*: 1 ROUTED on MSG, 2 INFLATED on WIRE)
 *   8  u32   payload length
 *  12  u32   connection number (WIRE, MSG; 0 = none)
 *  16  u64   receive time, ns since the Unix epoch, UTC (0 = unknown)
 *  24  i64   offset (-1 = none)
 *  32  u64   actor id (MSG once routed)
 *  40  u8    flow (enum ora_flow)
 *  41  u8    kind (MSG: enum ora_kind; CTRL: enum ora_ctrl)
 *  42  u8    actor type (enum ora_actor)
 *  43  u8    reserved, 0
 *  44  u16   key length (OUT: the payload starts with this many key bytes)
 *  46  u16   reserved, 0
 *  48  u64   payload sum: SipHash-2-4 (crypto_shorthash) of the payload
 *  56  u64   header sum:  SipHash-2-4 of header bytes 0..55
 *
 * The header sum lets a reader trust the length before it has the payload,
 * so a damaged length never makes a live reader wait for bytes that will
 * not come; the payload sum catches damage in the payload.
 */
#ifndef ORA_RECORD_H
#define ORA_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ora.h"

#define ORA_REC_HDR 64
#define ORA_REC_VERSION 1
#define ORA_REC_MAX_DEFAULT (16u << 20)    /* 16 MiB payload bound */
#define ORA_REC_MAX_LIMIT   (1u << 30)     /* ceiling for --max-record */

enum ora_rec_type { ORA_T_WIRE = 1, ORA_T_MSG = 2, ORA_T_CTRL = 3, ORA_T_OUT = 4 };

enum ora_rec_flag {
    ORA_RF_ROUTED = 1,   /* MSG: kind/actor fields are set */
    ORA_RF_INFLATED = 2  /* WIRE: the payload is one frame's JSON, already
                            inflated (and its member checked) by the sender,
                            not compressed bytes */
};

/* A decoded record. payload points into the reader's buffer (valid until the
 * next call on that reader) or, for writing, into the caller's memory. */
typedef struct ora_rec {
    uint8_t type;
    uint16_t flags;
    uint32_t len;
    uint32_t conn;
    uint64_t recv_ns;
    int64_t offset;
    uint64_t actor_id;
    uint8_t flow;
    uint8_t kind;
    uint8_t actor_type;
    uint16_t key_len;
    const uint8_t *payload;
    uint64_t sum;        /* payload sum as stored: set by ora_reader_next() and
                            ora_rec_decode_hdr(), after the reader verified it;
                            read only by ora_writer_put_same() */
} ora_rec;

/* Fills *r with a fresh record of the given type: offset -1, rest zero. */
void ora_rec_init(ora_rec *r, uint8_t type);

/* Name of a type ("WIRE", "MSG", "CTRL", "OUT") or NULL when unknown;
 * ora_rec_type_parse() is its inverse (case-insensitive), 0 when unknown. */
const char *ora_rec_type_name(uint8_t type);
uint8_t ora_rec_type_parse(const char *s);
const char *ora_flow_name(uint8_t flow);   /* "snapshot", ..., "none" */
uint8_t ora_flow_parse(const char *s);      /* ORA_FLOW_NONE when unknown */

/* Encodes r (header fields, r->len, r->payload) into dst, which must hold
 * ORA_REC_HDR + r->len bytes. Returns the number of bytes written. */
size_t ora_rec_encode(uint8_t *dst, const ora_rec *r);

/* Why a header was rejected. */
enum ora_hdr_status { ORA_HDR_OK = 0, ORA_HDR_MAGIC, ORA_HDR_VERSION, ORA_HDR_SUM, ORA_HDR_FIELDS, ORA_HDR_TOO_LONG };
const char *ora_hdr_status_str(int status);

/* Decodes and checks a 64-byte header: magic, version, header sum, type and
 * reserved fields, length <= max_len. On ORA_HDR_OK fills r (payload NULL)
 * and *psum (and r->sum) with the stored payload sum. */
int ora_rec_decode_hdr(const uint8_t *src, uint32_t max_len, ora_rec *r, uint64_t *psum);

/* SipHash-2-4 of data with the format's fixed key. */
uint64_t ora_rec_sum(const void *data, size_t len);

/* ---- reader ------------------------------------------------------------ */

/* What ora_reader_next() found. */
enum ora_rd {
    ORA_RD_RECORD = 1,    /* *out is a sound record */
    ORA_RD_EOF = 0,       /* clean end of input */
    ORA_RD_CORRUPT = -1,  /* bytes skipped; see ora_reader_problem(); call again */
    ORA_RD_TRUNCATED = -2,/* input ended inside a record; call again for EOF */
    ORA_RD_ERROR = -3     /* read(2) failed; errno is set */
};

/* Details of the last CORRUPT/TRUNCATED result. */
typedef struct ora_rd_problem {
    uint64_t at;        /* stream byte offset where the damage starts */
    uint64_t skipped;   /* bytes skipped there */
    const char *reason; /* static string */
    int not_records;    /* the input does not start with the record magic: it
                           is not records at all (at 0, skipped 0; reason says
                           what it looks like and what to run instead). Every
                           tool stops at once with status 65; a caller that
                           goes on anyway gets the old resync. */
} ora_rd_problem;

typedef struct ora_reader ora_reader;

/* A reader over fd (not owned, not closed). max_len bounds payloads.
 * Returns NULL when out of memory. */
ora_reader *ora_reader_new(int fd, uint32_t max_len);
void ora_reader_free(ora_reader *r);

/* Next record. Reads in large blocks; a record is returned in place (no
 * copy) unless it spans a block. After damage, it resyncs on the next
 * header whose sums hold, and reports the skipped range as one CORRUPT
 * result before the record that follows it. Before anything else, a
 * stream whose first bytes are not the record magic is one CORRUPT result
 * with problem->not_records set (an empty stream is a clean EOF). */
int ora_reader_next(ora_reader *r, ora_rec *out);
const ora_rd_problem *ora_reader_problem(const ora_reader *r);
uint64_t ora_reader_pos(const ora_reader *r);       /* bytes consumed */
uint64_t ora_reader_skipped(const ora_reader *r);   /* total skipped */
/* Bytes already read from fd but not yet returned (for poll() users). */
size_t ora_reader_buffered(const ora_reader *r);

/* fn(arg) runs before every read(2) of the reader (and again after EINTR),
 * before the reader moves or reuses the bytes of records it has returned:
 * the place to flush output, so that records never wait in a buffer while
 * the stage waits for input (and a writer holding this reader's payloads
 * by reference, ora_writer_put_ref(), must be flushed there), and to call
 * cli_poll(). */
void ora_reader_on_read(ora_reader *r, void (*fn)(void *), void *arg);

/* ---- writer ------------------------------------------------------------ */

typedef struct ora_writer ora_writer;

/* A buffered writer to fd (not owned). Returns NULL when out of memory. */
ora_writer *ora_writer_new(int fd);
/* Flushes nothing: call ora_writer_flush() first. */
void ora_writer_free(ora_writer *w);

/* Appends one record; payload is copied. Returns 0, or -1 with errno.
 * Output is written in blocks of 256 KiB; call ora_writer_flush() when the
 * stage is about to wait (see ora_reader_on_read()). */
int ora_writer_put(ora_writer *w, const ora_rec *r);

/* ora_writer_put() for a record whose payload is byte for byte the one a
 * reader returned with it: r->sum, which the reader verified, is written
 * as the payload sum instead of being computed again. The header fields
 * may differ (the header sum is always computed). */
int ora_writer_put_same(ora_writer *w, const ora_rec *r);

/* ora_writer_put_same() without copying the payload: it is written from
 * r->payload with writev(2), which must stay valid and unchanged until the
 * next ora_writer_flush() returns (or the writer is freed); the writer also
 * flushes by itself once it holds 256 KiB. For payloads returned by a
 * reader, flush in its ora_reader_on_read() hook. A failed write drops
 * every reference at once. */
int ora_writer_put_ref(ora_writer *w, const ora_rec *r);

/* Zero-copy: returns space for len payload bytes (valid until the next call
 * on w), or NULL with errno. Fill it, then ora_writer_commit(w, r) with
 * r->len == len (r->payload is ignored). */
uint8_t *ora_writer_reserve(ora_writer *w, uint32_t len);
int ora_writer_commit(ora_writer *w, const ora_rec *r);

/* Writes out everything buffered. 0, or -1 with errno (EPIPE, ENOSPC...). */
int ora_writer_flush(ora_writer *w);
uint64_t ora_writer_records(const ora_writer *w);
uint64_t ora_writer_bytes(const ora_writer *w);
/* The first write error (an errno value; sticky: later calls fail with it), or 0. */
int ora_writer_error(const ora_writer *w);
/* Bytes buffered or referenced and not yet written. */
size_t ora_writer_buffered(const ora_writer *w);

#endif
