/* route.h: which actor an ORA data message belongs to (doc/design.md §2).
 *
 * A data message is a JSON object with "offset" and exactly one payload
 * key from the table in ora.h; the actor id is found at the path the
 * table names.
 */
#ifndef ORA_ROUTE_H
#define ORA_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "json.h"

enum ora_route_rc {
    ORA_ROUTE_OK = 0,        /* kind, actor and id set */
    ORA_ROUTE_UNKNOWN = 1,   /* no payload key of the table: kind 0, no actor */
    ORA_ROUTE_BAD_JSON = -1, /* not a JSON object */
    ORA_ROUTE_NO_ID = -2,    /* a known payload key without a valid actor id */
    ORA_ROUTE_NO_OFFSET = -3,/* "offset" missing or not a number */
    ORA_ROUTE_OFFSET_RANGE = -4 /* "offset" a number but not a whole one in
                                   0..ORA_OFFSET_MAX (ora.h) */
};

/* Actor ids: whole JSON numbers in 0..2^53. */
#define ORA_ID_MAX (UINT64_C(1) << 53)

typedef struct ora_route {
    int kind;            /* enum ora_kind */
    uint8_t actor_type;  /* enum ora_actor */
    uint64_t actor_id;
    int64_t offset;      /* 0..ORA_OFFSET_MAX; -1 when absent or out of range
                            (then rc is ORA_ROUTE_NO_OFFSET or _OFFSET_RANGE) */
    const char *key;     /* payload key: the table's name (scan) or the cJSON
                            tree's (json); NULL when none */
} ora_route;

/* Routes a parsed message. Never allocates. root is not modified.
 * Precedence of the results: BAD_JSON; then, with a known payload key,
 * NO_ID before the offset's verdict (OK, NO_OFFSET or OFFSET_RANGE); without
 * one, UNKNOWN when the offset is sound, else NO_OFFSET or OFFSET_RANGE. */
int ora_route_json(const cJSON *root, ora_route *out);

/* Routes the message in json[0..n) without building a tree (lib/jscan.c):
 * the same answers as ora_route_parse() for every text that is valid JSON;
 * a text that is not (by RFC 8259's grammar, which is a little stricter than
 * cJSON about numbers and whitespace) is ORA_ROUTE_BAD_JSON. Never
 * allocates. ora-order's router. */
int ora_route_scan(const uint8_t *json, size_t n, ora_route *out);

/* Parses json (n bytes, need not be NUL-terminated) with cJSON and routes
 * it. On success *tree (if not NULL) receives the tree, which the caller
 * frees with cJSON_Delete; otherwise the tree is freed here. */
int ora_route_parse(const char *json, size_t n, ora_route *out, cJSON **tree);

/* A readable reason for a route rc. */
const char *ora_route_strerror(int rc);


#endif
