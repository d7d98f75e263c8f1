/* json.h: the one JSON writer and number reader every module shares.
 *
 * Writers append to an ora_buf and return 0, or -1 when out of memory (the
 * buffer then holds a partial value; callers drop the whole output).
 */
#ifndef ORA_JSON_H
#define ORA_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "buf.h"

/* Appends s (n bytes) as a JSON string: '"' and '\\' escaped, \n \r \t by
 * name, other bytes below 0x20 and DEL as \u00XX; bytes >= 0x80 are copied
 * as they are (the caller passes UTF-8). s NULL appends null. */
int ora_json_str(ora_buf *b, const char *s, size_t n);
/* ora_json_str of a NUL-terminated string (NULL appends null). */
int ora_json_cstr(ora_buf *b, const char *s);
/* Appends v in decimal. */
int ora_json_uint(ora_buf *b, uint64_t v);
int ora_json_int(ora_buf *b, int64_t v);
/* Appends ns (wall-clock nanoseconds) as "2026-11-26T14:03:07.123Z"
 * (quoted, milliseconds, UTC), or null for 0. */
int ora_json_time(ora_buf *b, uint64_t ns);

/* A JSON number that is a whole value in [0, 2^53] (ids and offsets are
 * integers; doubles hold them exactly up to 2^53). 0 and *out, or -1. */
int ora_json_u64(const cJSON *item, uint64_t *out);

#endif
