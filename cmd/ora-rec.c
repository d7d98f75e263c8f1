/* ora-rec: convert, inspect and check the records that stages exchange
 * (man/ora-rec.1, man/ora-records.5). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "cliopt.h"
#include "jscan.h"
#include "json.h"
#include "ora.h"
#include "record.h"
#include "rnd.h"
#include "route.h"
#include "wire.h"


static const char usage_text[] =
    "usage: ora-rec pack [--type msg|out|ctrl|wire] [--key-field NAME] [--meta] [--route]\n"
    "                    [--flow NAME] [--conn N] [--strict] [--max-record BYTES]\n"
    "                    [-i FILE] [-o FILE]\n"
    "       ora-rec unpack [--meta] [--strict] [--max-record BYTES] [-i FILE] [-o FILE]\n"
    "       ora-rec cat [--strict] [--max-record BYTES] [-i FILE] [-o FILE]\n"
    "       ora-rec verify [--max-record BYTES] [-i FILE]\n"
    "       ora-rec wire [--per-member A..B] [--chunk A..B] [--seed N] [--conn N] [--raw]\n"
    "                    [--inflated] [-i FILE] [-o FILE]\n"
    "       ora-rec stats [--strict] [--max-record BYTES] [-i FILE] [-o FILE]\n"
    "       ora-rec -h | --help | --version\n";

enum cmd { C_PACK, C_UNPACK, C_CAT, C_VERIFY, C_WIRE, C_STATS };

static struct opts {
    enum cmd cmd;
    const char *cmd_name;
    uint8_t type;
    const char *key_field;
    int meta, route, strict, raw, inflated;
    uint8_t flow;
    uint32_t conn;
    int conn_given;
    uint64_t max_record;
    uint64_t member_lo, member_hi, chunk_lo, chunk_hi, seed;
    const char *in, *out;
} o = {.type = ORA_T_MSG, .max_record = ORA_REC_MAX_DEFAULT, .member_lo = 1, .member_hi = 4,
       .chunk_lo = 1, .chunk_hi = 16384, .seed = 1};

static struct counts {
    uint64_t records, bytes, lines, bad_lines, corrupt, skipped, truncated, warned;
    uint64_t per_type[5];
    int64_t off_min, off_max;
    uint64_t t_min, t_max;
} n = {.off_min = INT64_MAX, .off_max = -1, .t_min = UINT64_MAX};

static int out_fd = 1;
static ora_buf obuf = ORA_BUF_INIT;

static void summary(char *buf, size_t len, double secs)
{
    char r[32], b[32];
    double s = secs > 0 ? secs : 1e-9;
    snprintf(buf, len, "%s: %" PRIu64 " records, %" PRIu64 " bytes in %.2f s (%s rec/s, %sB/s), "
             "%" PRIu64 " corrupt (%" PRIu64 " bytes skipped), %" PRIu64 " truncated, %" PRIu64 " bad lines",
             o.cmd_name, n.records, n.bytes, secs, cli_human((double)n.records / s, r, sizeof r),
             cli_human((double)n.bytes / s, b, sizeof b), n.corrupt, n.skipped, n.truncated, n.bad_lines);
}

static _Noreturn void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static _Noreturn void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_at(ORA_LOG_ERROR, fmt, ap);
    va_end(ap);
    cli_summary();
    exit(code);
}

static _Noreturn void usage_error(const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    exit(cli_usage_error("%s", msg));
}

/* ---- output ------------------------------------------------------------- */

static void out_flush(void)
{
    if (obuf.len && cli_write_all(out_fd, obuf.p, obuf.len) < 0)
        die(ORA_EX_IOERR, "unable to write output: %s", strerror(errno));
    obuf.len = 0;
}

static void out_bytes(const void *p, size_t len)
{
    if (ora_buf_append(&obuf, p, len) < 0)
        die(ORA_EX_SOFTWARE, "unable to buffer output: %s", strerror(errno));
    if (obuf.len >= (256u << 10))
        out_flush();
}

static void out_str(const char *s) { out_bytes(s, strlen(s)); }

static void out_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_fmt(const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    out_bytes(tmp, k < (int)sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static void out_base64(const uint8_t *p, size_t len)
{
    size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    if (ora_buf_reserve(&obuf, need) < 0)
        die(ORA_EX_SOFTWARE, "unable to buffer output: %s", strerror(errno));
    sodium_bin2base64((char *)obuf.p + obuf.len, need, p, len, sodium_base64_VARIANT_ORIGINAL);
    obuf.len += need - 1;
}

static void iso_time(uint64_t ns, char *buf, size_t len)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t k = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, len - k, ".%03uZ", (unsigned)(ns / 1000000u % 1000u));
}

/* ---- input -------------------------------------------------------------- */

static int open_in(void)
{
    int fd = cli_open_in(o.in);
    if (fd < 0)
        die(ORA_EX_IOERR, "unable to open %s: %s", o.in, strerror(errno));
    return fd;
}

static void open_out(void)
{
    out_fd = cli_open_out(o.out);
    if (out_fd < 0)
        die(ORA_EX_IOERR, "unable to open %s: %s", o.out, strerror(errno));
}

static void finish_out(void)
{
    out_flush();
    if (close(out_fd) < 0)
        die(ORA_EX_IOERR, "unable to close output: %s", strerror(errno));
}

static void before_read(void *arg)
{
    (void)arg;
    out_flush();
    cli_poll();
}

/* Reads every record, handing sound ones to fn; reports damage. */
static void each_record(void (*fn)(const ora_rec *r, uint64_t at))
{
    int fd = open_in();
    ora_reader *rd = ora_reader_new(fd, (uint32_t)o.max_record);
    if (!rd)
        die(ORA_EX_SOFTWARE, "unable to allocate a reader: %s", strerror(errno));
    /* Output never waits in the buffer while we wait for input: a live
     * stream shows up at once (ora-connect | ora-deframe | ora-rec unpack). */
    ora_reader_on_read(rd, before_read, NULL);
    for (;;) {
        ora_rec r;
        uint64_t at = ora_reader_pos(rd);
        int rc = ora_reader_next(rd, &r);
        if (rc == ORA_RD_EOF)
            break;
        if (rc == ORA_RD_ERROR)
            die(ORA_EX_IOERR, "unable to read input: %s", strerror(errno));
        if (rc == ORA_RD_CORRUPT || rc == ORA_RD_TRUNCATED) {
            const ora_rd_problem *p = ora_reader_problem(rd);
            if (p->not_records)
                die(ORA_EX_DATAERR, "unable to read input: %s", p->reason);
            if (rc == ORA_RD_CORRUPT) {
                n.corrupt++;
                n.skipped += p->skipped;
            } else {
                n.truncated++;
            }
            if (o.strict)
                die(ORA_EX_DATAERR, "unable to read record at byte offset %" PRIu64 ": %s (%" PRIu64 " bytes)",
                    p->at, p->reason, p->skipped);
            int w = ora_warn_next(&n.warned);
            if (w)
                log_warn("skipped %" PRIu64 " bytes at byte offset %" PRIu64 ": %s%s", p->skipped, p->at, p->reason,
                         w == 2 ? ORA_WARN_MORE : "");
            continue;
        }
        n.records++;
        n.bytes += ORA_REC_HDR + (uint64_t)r.len;
        fn(&r, at);
        cli_poll();
    }
    ora_reader_free(rd);
    if (fd != 0)
        close(fd);
}

/* ---- unpack / cat / verify / stats ------------------------------------ */

static const char *kind_name(const ora_rec *r)
{
    if (r->type == ORA_T_CTRL)
        return ora_ctrl_name(r->kind);
    if (r->type == ORA_T_MSG) {
        const ora_kind_info *ki = ora_kind_get(r->kind);
        return ki ? ki->key : NULL;
    }
    return NULL;
}

static const char *actor_name(uint8_t a)
{
    return a == ORA_ACTOR_EVENT ? "event" : a == ORA_ACTOR_BETOFFER ? "betOffer" : NULL;
}

/* One JSON value and nothing after it but white space (cJSON alone stops
 * at the end of the first value). NULL when the text is anything else. */
static cJSON *parse_exact(const char *p, size_t len)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(p, len, &end, 0);
    if (!j)
        return NULL;
    while (end < p + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != p + len) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int valid_utf8(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
        if (k == 0 || i + k >= n)
            return 0;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (size_t j = 2; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* unpack --meta embeds a payload as "data" only when it is one JSON value
 * in valid UTF-8; anything else goes out as "data_base64". */
static int payload_is_json(const uint8_t *p, size_t len)
{
    if (!valid_utf8(p, len))
        return 0;
    cJSON *j = parse_exact((const char *)p, len);
    if (!j)
        return 0;
    cJSON_Delete(j);
    return 1;
}

/* The header fields unpack --meta and cat both write, each when the record
 * has it, in their own syntax: printf formats for the offset, the flow's
 * name and the kind's name. */
typedef struct field_fmt {
    const char *offset, *flow, *kind;
} field_fmt;
static const field_fmt meta_fields = {",\"offset\":%" PRId64, ",\"flow\":\"%s\"", ",\"kind\":\"%s\""};
static const field_fmt cat_fields = {" offset=%" PRId64, " flow=%s", " kind=%s"};

/* Writes r's offset, flow and kind as f says. Returns the kind's name, or
 * NULL when it has none (a kind number may still be set). */
static const char *out_offset_flow_kind(const ora_rec *r, const field_fmt *f)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (r->offset >= 0)
        out_fmt(f->offset, r->offset);
    if (r->flow)
        out_fmt(f->flow, ora_flow_name(r->flow));
    const char *k = kind_name(r);
    if (k)
        out_fmt(f->kind, k);
#pragma GCC diagnostic pop
    return k;
}

static void unpack_one(const ora_rec *r, uint64_t at)
{
    (void)at;
    const uint8_t *data = r->payload + r->key_len;
    size_t dlen = r->len - r->key_len;
    if (!o.meta) {
        if (r->type == ORA_T_WIRE)
            out_base64(r->payload, r->len);
        else
            out_bytes(data, dlen);
        out_bytes("\n", 1);
        return;
    }
    out_fmt("{\"type\":\"%s\"", ora_rec_type_name(r->type));
    if (r->flags)
        out_fmt(",\"flags\":%u", r->flags);
    out_fmt(",\"len\":%" PRIu32, r->len);
    if (r->conn)
        out_fmt(",\"conn\":%" PRIu32, r->conn);
    if (r->recv_ns) {
        char t[48];
        iso_time(r->recv_ns, t, sizeof t);
        out_fmt(",\"recv_ns\":%" PRIu64 ",\"time\":\"%s\"", r->recv_ns, t);
    }
    if (!out_offset_flow_kind(r, &meta_fields) && r->kind)
        out_fmt(",\"kind\":%u", r->kind);
    const char *a = actor_name(r->actor_type);
    if (a)
        out_fmt(",\"actor_type\":\"%s\"", a);
    if (r->actor_id || r->actor_type)
        out_fmt(",\"actor_id\":%" PRIu64, r->actor_id);
    if (r->type == ORA_T_OUT && valid_utf8(r->payload, r->key_len)) {
        out_str(",\"key\":");
        if (ora_json_str(&obuf, (const char *)r->payload, r->key_len) < 0)
            die(ORA_EX_SOFTWARE, "unable to buffer output: %s", strerror(errno));
    } else if (r->type == ORA_T_OUT) {
        out_str(",\"key_base64\":\"");
        out_base64(r->payload, r->key_len);
        out_str("\"");
    }
    if (r->type == ORA_T_WIRE || !payload_is_json(data, dlen)) {
        out_str(",\"data_base64\":\"");
        out_base64(data, dlen);
        out_str("\"}\n");
    } else {
        out_str(",\"data\":");
        out_bytes(data, dlen);
        out_str("}\n");
    }
}

static void cat_one(const ora_rec *r, uint64_t at)
{
    char t[48] = "-";
    if (r->recv_ns)
        iso_time(r->recv_ns, t, sizeof t);
    out_fmt("#%" PRIu64 " @%" PRIu64 " %-4s len=%" PRIu32, n.records, at, ora_rec_type_name(r->type), r->len);
    out_offset_flow_kind(r, &cat_fields);
    if (r->actor_type)
        out_fmt(" actor=%s:%" PRIu64, actor_name(r->actor_type) ? actor_name(r->actor_type) : "?", r->actor_id);
    if (r->conn)
        out_fmt(" conn=%" PRIu32, r->conn);
    out_fmt(" time=%s\n", t);
    if (r->type == ORA_T_OUT) {
        out_str("    key: ");
        out_bytes(r->payload, r->key_len);
        out_str("\n");
    }
    const uint8_t *d = r->payload + r->key_len;
    size_t dl = r->len - r->key_len;
    out_str("    ");
    if (r->type == ORA_T_WIRE && !(r->flags & ORA_RF_INFLATED)) {
        size_t show = dl > 48 ? 48 : dl;
        for (size_t i = 0; i < show; i++)
            out_fmt("%02x", d[i]);
        if (show < dl)
            out_fmt("... (%zu bytes)", dl);
    } else {
        size_t show = dl > 240 ? 240 : dl;
        for (size_t i = 0; i < show; i++)
            out_bytes(d[i] >= 0x20 && d[i] < 0x7f ? &d[i] : (const uint8_t *)".", 1);
        if (show < dl)
            out_fmt("... (%zu bytes)", dl);
    }
    out_str("\n");
}

static void stats_one(const ora_rec *r, uint64_t at)
{
    (void)at;
    n.per_type[r->type]++;
    if (r->offset >= 0) {
        if (r->offset < n.off_min)
            n.off_min = r->offset;
        if (r->offset > n.off_max)
            n.off_max = r->offset;
    }
    if (r->recv_ns) {
        if (r->recv_ns < n.t_min)
            n.t_min = r->recv_ns;
        if (r->recv_ns > n.t_max)
            n.t_max = r->recv_ns;
    }
}

static void nothing(const ora_rec *r, uint64_t at)
{
    (void)r;
    (void)at;
}

/* ---- pack --------------------------------------------------------------- */

static ora_writer *wr;

static void put_record(ora_rec *r)
{
    if (ora_writer_put(wr, r) < 0)
        die(ORA_EX_IOERR, "unable to write output: %s", strerror(errno));
    n.records++;
    n.bytes += ORA_REC_HDR + (uint64_t)r->len;
}

static void bad_line(const char *why)
{
    n.bad_lines++;
    if (o.strict)
        die(ORA_EX_DATAERR, "unable to pack line %" PRIu64 ": %s", n.lines, why);
    int w = ora_warn_next(&n.warned);
    if (w)
        log_warn("skipped line %" PRIu64 ": %s%s", n.lines, why, w == 2 ? ORA_WARN_MORE : "");
}

static int get_i64(const cJSON *j, const char *name, int64_t *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, name);
    uint64_t u;
    if (!x)
        return 0;
    if (ora_json_u64(x, &u) < 0 || u > INT64_MAX)
        return -1;
    *v = (int64_t)u;
    return 1;
}

static ora_buf scratch = ORA_BUF_INIT;

/* Fills r from a control object {"ctrl":NAME,...}; payload is the line. */
static int fill_ctrl(const cJSON *j, ora_rec *r)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "ctrl");
    if (!cJSON_IsString(c) || !(r->kind = (uint8_t)ora_ctrl_parse(c->valuestring)))
        return -1;
    int64_t v;
    if (get_i64(j, "offset", &v) > 0)
        r->offset = v;
    if (get_i64(j, "conn", &v) > 0)
        r->conn = (uint32_t)v;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "flow");
    if (cJSON_IsString(f))
        r->flow = ora_flow_parse(f->valuestring);
    return 0;
}

/* The key of an OUT record from --key-field: a string or a whole number. */
static int out_key(const cJSON *j, char *key, size_t len)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, o.key_field);
    uint64_t u;
    if (cJSON_IsString(k) && *k->valuestring && strlen(k->valuestring) < len) {
        snprintf(key, len, "%s", k->valuestring);
        return 0;
    }
    if (ora_json_u64(k, &u) == 0) {
        snprintf(key, len, "%" PRIu64, u);
        return 0;
    }
    return -1;
}

static void pack_msg_meta(ora_rec *r, const cJSON *j)
{
    if (r->type != ORA_T_MSG)
        return;
    ora_route rt;
    int rc = ora_route_json(j, &rt);
    if (rt.offset >= 0)
        r->offset = rt.offset;
    if (o.route && rc == ORA_ROUTE_OK) {
        r->flags |= ORA_RF_ROUTED;
        r->kind = (uint8_t)rt.kind;
        r->actor_type = rt.actor_type;
        r->actor_id = rt.actor_id;
    }
}

/* The exact value of a top-level whole number (or digit string) member of
 * line: cJSON keeps numbers as doubles, which round receive times (about
 * 1.8e18 ns) and ids above 2^53. 1 found, 0 absent, -1 not a whole number. */
static int exact_u64(const ora_jspan *v, uint64_t max, uint64_t *out)
{
    if (!v->p)
        return 0;
    const uint8_t *p = v->p;
    size_t n = v->n;
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        p++;
        n -= 2;
    }
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = 0;
    return cli_parse_u64(tmp, 0, max, out) < 0 ? -1 : 1;
}

/* pack --meta: a line as unpack --meta writes it. Every header field is
 * taken as given; a missing receive time is 0 (unknown), not now. */
static int pack_meta_line(const char *line, size_t len, const cJSON *j, ora_rec *r, const char **why)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(t) || !(r->type = ora_rec_type_parse(t->valuestring)))
        return *why = "no valid \"type\" (WIRE, MSG, CTRL or OUT)", -1;
    static const char *const names[] = {"recv_ns", "offset", "actor_id", "conn", "flags", "data"};
    static const uint64_t max[] = {UINT64_MAX, INT64_MAX, UINT64_MAX, UINT32_MAX, UINT16_MAX};
    ora_jspan v[6];
    uint64_t u[5] = {0, 0, 0, 0, 0};
    if (ora_jscan((const uint8_t *)line, len, names, 6, v) < 0)
        return *why = "not a JSON object", -1;
    for (int i = 0; i < 5; i++)
        if (exact_u64(&v[i], max[i], &u[i]) < 0)
            return *why = "a header field (recv_ns, offset, actor_id, conn, flags) out of range", -1;
    r->recv_ns = u[0];
    r->offset = v[1].p ? (int64_t)u[1] : -1;
    r->actor_id = u[2];
    r->conn = (uint32_t)u[3];
    r->flags = (uint16_t)u[4];
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "flow");
    if (cJSON_IsString(f))
        r->flow = ora_flow_parse(f->valuestring);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "actor_type");
    if (cJSON_IsString(a))
        r->actor_type = strcmp(a->valuestring, "event") == 0 ? ORA_ACTOR_EVENT
                        : strcmp(a->valuestring, "betOffer") == 0 ? ORA_ACTOR_BETOFFER : 0;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "kind");
    if (cJSON_IsString(k))
        r->kind = (uint8_t)(r->type == ORA_T_CTRL ? ora_ctrl_parse(k->valuestring)
                                                  : ora_kind_lookup(k->valuestring, strlen(k->valuestring)));
    else if (cJSON_IsNumber(k) && k->valuedouble >= 0 && k->valuedouble <= 255)
        r->kind = (uint8_t)k->valuedouble;
    if (r->kind && r->type == ORA_T_MSG && r->actor_type)
        r->flags |= ORA_RF_ROUTED;

    scratch.len = 0;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(j, "key");
    const cJSON *key64 = cJSON_GetObjectItemCaseSensitive(j, "key_base64");
    if (r->type == ORA_T_OUT && cJSON_IsString(key64)) {
        size_t bl = strlen(key64->valuestring), got;
        if (bl == 0 || ora_buf_reserve(&scratch, bl) < 0 ||
            sodium_base642bin(scratch.p, bl, key64->valuestring, bl, NULL, &got, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 || got == 0 || got > UINT16_MAX)
            return *why = "\"key_base64\" is not base64 of 1 to 65535 bytes", -1;
        scratch.len = got;
        r->key_len = (uint16_t)got;
    } else if (r->type == ORA_T_OUT) {
        if (!cJSON_IsString(key) || !*key->valuestring || strlen(key->valuestring) > UINT16_MAX)
            return *why = "OUT record without a non-empty \"key\" string", -1;
        r->key_len = (uint16_t)strlen(key->valuestring);
        ora_buf_append(&scratch, key->valuestring, r->key_len);
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "data");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "data_base64");
    if (cJSON_IsString(b)) {
        size_t bl = strlen(b->valuestring), got = 0;
        if (ora_buf_reserve(&scratch, bl) < 0)
            return *why = "out of memory", -1;
        if (bl && sodium_base642bin(scratch.p + scratch.len, bl, b->valuestring, bl, NULL, &got, NULL,
                                    sodium_base64_VARIANT_ORIGINAL) != 0)
            return *why = "\"data_base64\" is not base64", -1;
        scratch.len += got;
    } else if (d && v[5].p) {
        /* The payload's own bytes, not cJSON's reprint of them. */
        if (ora_buf_append(&scratch, v[5].p, v[5].n) < 0)
            return *why = "out of memory", -1;
    } else {
        return *why = "no \"data\" or \"data_base64\"", -1;
    }
    r->payload = scratch.p;
    r->len = (uint32_t)scratch.len;
    return 0;
}

static void pack_line(char *line, size_t len)
{
    ora_rec r;
    ora_rec_init(&r, o.type);
    r.flow = o.flow;
    r.recv_ns = cli_wall_ns();
    if (o.type == ORA_T_WIRE && !o.meta) {
        size_t got;
        scratch.len = 0;
        if (ora_buf_reserve(&scratch, len) < 0 ||
            sodium_base642bin(scratch.p, len, line, len, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
            return bad_line("not base64");
        r.conn = o.conn_given ? o.conn : 1;
        r.payload = scratch.p;
        r.len = (uint32_t)got;
        put_record(&r);
        return;
    }
    cJSON *j = parse_exact(line, len);
    if (!j)
        return bad_line("not valid JSON");
    const char *why = NULL;
    char key[300];
    if (o.meta) {
        if (!cJSON_IsObject(j) || pack_meta_line(line, len, j, &r, &why) < 0)
            goto bad;
        put_record(&r);
        cJSON_Delete(j);
        return;
    }
    r.payload = (const uint8_t *)line;
    r.len = (uint32_t)len;
    r.conn = o.conn;
    if (o.type == ORA_T_MSG) {
        pack_msg_meta(&r, j);
    } else if (o.type == ORA_T_CTRL) {
        if (fill_ctrl(j, &r) < 0) {
            why = "not a control object ({\"ctrl\":NAME,...} with a known NAME)";
            goto bad;
        }
    } else if (o.type == ORA_T_OUT) {
        if (out_key(j, key, 257) < 0) {
            why = "no usable partition key field (a non-empty string up to 256 bytes or a whole number)";
            goto bad;
        }
        size_t kl = strlen(key);
        scratch.len = 0;
        ora_buf_append(&scratch, key, kl);
        if (ora_buf_append(&scratch, line, len) < 0) {
            why = "out of memory";
            goto bad;
        }
        r.key_len = (uint16_t)kl;
        r.payload = scratch.p;
        r.len = (uint32_t)scratch.len;
        int64_t v;
        if (get_i64(j, "offset", &v) > 0)
            r.offset = v;
    }
    if (r.len > o.max_record) {
        why = "longer than --max-record";
        goto bad;
    }
    put_record(&r);
    cJSON_Delete(j);
    return;
bad:
    cJSON_Delete(j);
    bad_line(why);
}

/* Calls fn for every non-empty line (without its newline and a CR before
 * it). Reads in large blocks; before each read(2) whatever output is
 * buffered goes out, so a live input (tail -f) is packed as it comes. */
static void each_line(void (*fn)(char *line, size_t len))
{
    int fd = open_in();
    ora_buf in = ORA_BUF_INIT;
    size_t start = 0;
    for (;;) {
        char *nl = in.len > start ? memchr(in.p + start, '\n', in.len - start) : NULL;
        if (!nl) {
            ora_buf_consume(&in, start);
            start = 0;
            if (wr && ora_writer_flush(wr) < 0)
                die(ORA_EX_IOERR, "unable to write output: %s", strerror(errno));
            out_flush();
            cli_poll();
            if (ora_buf_reserve(&in, 1u << 20) < 0)
                die(ORA_EX_SOFTWARE, "unable to buffer input: %s", strerror(errno));
            ssize_t k = read(fd, in.p + in.len, in.cap - in.len);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                die(ORA_EX_IOERR, "unable to read input: %s", strerror(errno));
            if (k > 0) {
                in.len += (size_t)k;
                continue;
            }
            if (in.len == 0)
                break;
            /* a last line without a newline */
            if (ora_buf_append(&in, "\n", 1) < 0)
                die(ORA_EX_SOFTWARE, "unable to buffer input: %s", strerror(errno));
            continue;
        }
        char *line = (char *)in.p + start;
        size_t len = (size_t)(nl - line);
        start += len + 1;
        n.lines++;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0)
            continue;
        line[len] = 0;
        fn(line, len);
        cli_poll();
    }
    ora_buf_free(&in);
    if (fd != 0)
        close(fd);
}

/* ---- wire --------------------------------------------------------------- */

static uint64_t rng;

/* Reproducible for a --seed, good enough to cut streams. */
static uint64_t rnd(void) { return ora_xorshift64s(&rng); }

static uint64_t rnd_in(uint64_t lo, uint64_t hi) { return lo + (hi > lo ? rnd() % (hi - lo + 1) : 0); }

static struct wire_state {
    ora_wire_enc *enc;
    ora_buf pending;   /* compressed bytes not yet cut into records */
    ora_buf frames;    /* the JSON of the current member's frames */
    size_t count, want;
    size_t *ends;      /* end offset of each frame in frames */
    size_t ends_cap;
    uint64_t t;
} ws;

static void wire_emit(int final)
{
    size_t off = 0;
    for (;;) {
        size_t left = ws.pending.len - off;
        size_t cut = (size_t)rnd_in(o.chunk_lo, o.chunk_hi);
        if (left == 0 || (left < cut && !final))
            break;
        if (cut > left)
            cut = left;
        if (o.raw) {
            out_bytes(ws.pending.p + off, cut);
        } else {
            ora_rec r;
            ora_rec_init(&r, ORA_T_WIRE);
            r.conn = o.conn;
            r.recv_ns = ws.t += 1000;
            r.payload = ws.pending.p + off;
            r.len = (uint32_t)cut;
            put_record(&r);
        }
        off += cut;
    }
    ora_buf_consume(&ws.pending, off);
}

static void wire_member(void)
{
    if (!ws.count)
        return;
    const uint8_t *msgs[ws.count];
    size_t lens[ws.count];
    size_t start = 0;
    for (size_t i = 0; i < ws.count; i++) {
        msgs[i] = ws.frames.p + start;
        lens[i] = ws.ends[i] - start;
        start = ws.ends[i];
    }
    if (ora_wire_encode(ws.enc, msgs, lens, ws.count, &ws.pending) < 0)
        die(ORA_EX_SOFTWARE, "unable to compress: %s", strerror(errno));
    ws.count = 0;
    ws.frames.len = 0;
    ws.want = (size_t)rnd_in(o.member_lo, o.member_hi);
    wire_emit(0);
}

/* --inflated: each message one WIRE record flagged INFLATED, as
 * ora-connect hands frames on by default. */
static void wire_line_inflated(char *line, size_t len)
{
    ora_rec r;
    ora_rec_init(&r, ORA_T_WIRE);
    r.flags = ORA_RF_INFLATED;
    r.conn = o.conn;
    r.recv_ns = ws.t += 1000;
    r.payload = (const uint8_t *)line;
    r.len = (uint32_t)len;
    put_record(&r);
}

static void wire_line(char *line, size_t len)
{
    if (ws.count == ws.ends_cap) {
        ws.ends_cap = ws.ends_cap ? ws.ends_cap * 2 : 64;
        ws.ends = realloc(ws.ends, ws.ends_cap * sizeof *ws.ends);
        if (!ws.ends)
            die(ORA_EX_SOFTWARE, "unable to allocate: %s", strerror(errno));
    }
    if (ora_buf_append(&ws.frames, line, len) < 0)
        die(ORA_EX_SOFTWARE, "unable to allocate: %s", strerror(errno));
    ws.ends[ws.count++] = ws.frames.len;
    n.records += o.raw; /* raw output counts frames, records count themselves */
    if (ws.count >= ws.want)
        wire_member();
}

static void run_wire(void)
{
    rng = o.seed * 0x9E3779B97F4A7C15ull + 1;
    if (!o.conn_given)
        o.conn = 1; /* a capture is one connection's bytes */
    ws.enc = ora_wire_enc_new(6);
    if (!ws.enc)
        die(ORA_EX_SOFTWARE, "unable to start compression: %s", strerror(errno));
    ws.want = (size_t)rnd_in(o.member_lo, o.member_hi);
    ws.t = cli_wall_ns();
    if (o.inflated) {
        each_line(wire_line_inflated);
        ora_wire_enc_free(ws.enc);
        return;
    }
    each_line(wire_line);
    wire_member();
    wire_emit(1);
    ora_wire_enc_free(ws.enc);
    ora_buf_free(&ws.pending);
    ora_buf_free(&ws.frames);
    free(ws.ends);
}

/* ---- main --------------------------------------------------------------- */

static const struct { const char *name; enum cmd cmd; } cmds[] = {
    {"pack", C_PACK}, {"unpack", C_UNPACK}, {"cat", C_CAT},
    {"verify", C_VERIFY}, {"wire", C_WIRE}, {"stats", C_STATS},
};

/* Which subcommands take an option (cli_opt.tag): a bit per enum cmd. */
#define ONLY(c) (1u << (c))
#define ALL_BUT(c) (~ONLY(c))
#define ALL (~0u)

/* cli_opts.before: an option the subcommand does not take is a usage error. */
static int allowed(const cli_opt *opt)
{
    if (!(opt->tag & ONLY(o.cmd)))
        usage_error("unable to parse options: '%s' does not take this option", o.cmd_name);
    return 0;
}

/* A bad value (cliopt.h), reported as every usage error of ora-rec. */
static int bad_opt(const cli_opt *opt, const char *arg)
{
    usage_error(opt->bad, arg);
}

/* --type NAME and --flow NAME (cliopt.h CLI_CALL). */
static int type_opt(const char *arg, void *type)
{
    if (!(*(uint8_t *)type = ora_rec_type_parse(arg)))
        usage_error("unable to parse --type '%s': use msg, out, ctrl or wire", arg);
    return 0;
}

static int flow_opt(const char *arg, void *flow)
{
    if (!(*(uint8_t *)flow = ora_flow_parse(arg)))
        usage_error("unable to parse --flow '%s': use snapshot, replay or realtime", arg);
    return 0;
}

static const cli_opt options[] = {
    {.name = "type", .kind = CLI_CALL, .dest = &o.type, .call = type_opt, .takes_arg = 1, .tag = ONLY(C_PACK)},
    {.name = "key-field", .kind = CLI_STR, .dest = &o.key_field, .tag = ONLY(C_PACK)},
    {.name = "meta", .kind = CLI_FLAG, .dest = &o.meta, .tag = ONLY(C_PACK) | ONLY(C_UNPACK)},
    {.name = "route", .kind = CLI_FLAG, .dest = &o.route, .tag = ONLY(C_PACK)},
    {.name = "strict", .kind = CLI_FLAG, .dest = &o.strict, .tag = ALL_BUT(C_WIRE) & ALL_BUT(C_VERIFY)},
    {.name = "max-record", .kind = CLI_SIZE, .dest = &o.max_record, .u = {1, ORA_REC_MAX_LIMIT},
     .bad = "unable to parse --max-record '%s': 1 byte to 1 GiB (K, M, G suffixes)", .tag = ALL_BUT(C_WIRE)},
    {.name = "per-member", .kind = CLI_RANGE, .dest = &o.member_lo, .dest2 = &o.member_hi, .u = {1, 100000},
     .bad = "unable to parse --per-member '%s': A..B frames, 1..100000", .tag = ONLY(C_WIRE)},
    {.name = "chunk", .kind = CLI_RANGE, .dest = &o.chunk_lo, .dest2 = &o.chunk_hi, .u = {1, 16u << 20},
     .bad = "unable to parse --chunk '%s': A..B bytes, 1..16777216", .tag = ONLY(C_WIRE)},
    {.name = "seed", .kind = CLI_U64, .dest = &o.seed, .u = {0, UINT64_MAX},
     .bad = "unable to parse --seed '%s': a whole number", .tag = ONLY(C_WIRE)},
    {.name = "raw", .kind = CLI_FLAG, .dest = &o.raw, .tag = ONLY(C_WIRE)},
    {.name = "flow", .kind = CLI_CALL, .dest = &o.flow, .call = flow_opt, .takes_arg = 1, .tag = ONLY(C_PACK)},
    {.name = "conn", .kind = CLI_U64, .dest = &o.conn, .as = CLI_AS_U32, .u = {0, UINT32_MAX}, .given = &o.conn_given,
     .bad = "unable to parse --conn '%s': a number 0..4294967295", .tag = ONLY(C_PACK) | ONLY(C_WIRE)},
    {.name = "inflated", .kind = CLI_FLAG, .dest = &o.inflated, .tag = ONLY(C_WIRE)},
    {.name = "input", .letter = 'i', .kind = CLI_STR, .dest = &o.in, .tag = ALL},
    {.name = "output", .letter = 'o', .kind = CLI_STR, .dest = &o.out, .tag = ALL_BUT(C_VERIFY)},
    {.name = "help", .letter = 'h', .kind = CLI_HELP, .dest = (void *)usage_text, .tag = ALL},
    {.name = "version", .kind = CLI_VERSION, .tag = ALL},
};

static void parse_args(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        exit(cli_print_usage(usage_text));
    }
    if (argc > 1 && strcmp(argv[1], "--version") == 0)
        exit(cli_print_version());
    if (argc < 2)
        usage_error("unable to run: no subcommand given%s", NULL);
    size_t i;
    for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            break;
    if (i == sizeof cmds / sizeof cmds[0])
        usage_error("unable to run: unknown subcommand '%s'", argv[1]);
    o.cmd = cmds[i].cmd;
    o.cmd_name = cmds[i].name;
    argc--;
    argv++;
    cli_opts t = {.opt = options, .n = sizeof options / sizeof options[0], .bad = bad_opt, .before = allowed};
    int go = cli_getopt(argc, argv, &t);
    if (go != CLI_GO)
        exit(go);
    if (optind < argc)
        usage_error("unable to parse arguments: unexpected '%s'", argv[optind]);
    if (o.type == ORA_T_OUT && !o.key_field && !o.meta)
        usage_error("unable to pack OUT records: --key-field NAME is required%s", NULL);
    if (o.key_field && o.type != ORA_T_OUT)
        usage_error("unable to use --key-field: it goes with --type out%s", NULL);
    if (o.route && o.type != ORA_T_MSG)
        usage_error("unable to use --route: it goes with --type msg%s", NULL);
    if (o.inflated && o.raw)
        usage_error("unable to use --inflated with --raw: inflated frames travel only in records%s", NULL);
}

int main(int argc, char **argv)
{
    if (cli_start(argv[0]) != 0)
        return ORA_EX_CONFIG;
    if (sodium_init() < 0) {
        log_error("unable to start libsodium");
        return ORA_EX_SOFTWARE;
    }
    parse_args(argc, argv);
    cli_set_summary(summary);
    open_out();
    switch (o.cmd) {
    case C_PACK:
        wr = ora_writer_new(out_fd);
        if (!wr)
            die(ORA_EX_SOFTWARE, "unable to allocate a writer: %s", strerror(errno));
        each_line(pack_line);
        if (ora_writer_flush(wr) < 0)
            die(ORA_EX_IOERR, "unable to write output: %s", strerror(errno));
        ora_writer_free(wr);
        break;
    case C_WIRE:
        if (!o.raw && !(wr = ora_writer_new(out_fd)))
            die(ORA_EX_SOFTWARE, "unable to allocate a writer: %s", strerror(errno));
        run_wire();
        if (wr && ora_writer_flush(wr) < 0)
            die(ORA_EX_IOERR, "unable to write output: %s", strerror(errno));
        ora_writer_free(wr);
        break;
    case C_UNPACK:
        each_record(unpack_one);
        break;
    case C_CAT:
        each_record(cat_one);
        break;
    case C_VERIFY:
        each_record(nothing);
        out_fmt("%" PRIu64 " records, %" PRIu64 " bytes: %s\n", n.records, n.bytes,
                n.corrupt || n.truncated ? "CORRUPT" : "all sound");
        break;
    case C_STATS:
        each_record(stats_one);
        for (uint8_t t = ORA_T_WIRE; t <= ORA_T_OUT; t++)
            out_fmt("%-5s %" PRIu64 "\n", ora_rec_type_name(t), n.per_type[t]);
        out_fmt("records %" PRIu64 "\nbytes %" PRIu64 "\n", n.records, n.bytes);
        if (n.off_max >= 0)
            out_fmt("offsets %" PRId64 "..%" PRId64 "\n", n.off_min, n.off_max);
        else
            out_str("offsets none\n");
        if (n.t_max) {
            char a[48], b[48];
            iso_time(n.t_min, a, sizeof a);
            iso_time(n.t_max, b, sizeof b);
            out_fmt("time %s..%s\n", a, b);
        }
        out_fmt("corrupt %" PRIu64 "\nskipped_bytes %" PRIu64 "\ntruncated %" PRIu64 "\n", n.corrupt, n.skipped,
                n.truncated);
        break;
    }
    finish_out();
    cli_summary();
    if (o.cmd == C_VERIFY && (n.corrupt || n.truncated)) {
        log_error("unable to verify: %" PRIu64 " corrupt ranges, %" PRIu64 " truncated records", n.corrupt,
                  n.truncated);
        return ORA_EX_DATAERR;
    }
    return 0;
}
