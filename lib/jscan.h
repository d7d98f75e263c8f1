/* jscan.h: an allocation-free scanner of the top level of one JSON object:
 * finds a few top-level members (ora-deframe's "type" and "offset") without
 * building a tree. Nested values are skipped by their structure: strings
 * with escapes, objects and arrays (bracket kinds must match). It is exact
 * about structure and keys; it does not validate scalars (numbers, true,
 * false, null) beyond their character set, nor UTF-8.
 */
#ifndef ORA_JSCAN_H
#define ORA_JSCAN_H

#include <stddef.h>
#include <stdint.h>

#define ORA_JSCAN_MAX_DEPTH 1000   /* as cJSON's nesting limit */

/* A value's raw text inside the scanned buffer (a string with its quotes);
 * p == NULL when the key is absent. */
typedef struct ora_jspan {
    const uint8_t *p;
    size_t n;
} ora_jspan;

/* Scans p[0..n), which must hold one JSON object (whitespace around it is
 * allowed). For each keys[i] (nkeys <= 8), vals[i] gets the value of the
 * FIRST top-level member with that name (names compared after decoding
 * escapes, up to their first NUL as cJSON reads them). Returns 0, or -1 when the text is not one object (then vals is
 * unspecified). */
int ora_jscan(const uint8_t *p, size_t n, const char *const *keys, size_t nkeys, ora_jspan *vals);

/* A JSON integer (no fraction, no exponent) within int64: 0 and *out, else -1. */
int ora_jscan_i64(ora_jspan v, int64_t *out);

/* A string value's bytes without the quotes: 1 when it has no escapes
 * (*s, *n set), 0 when it has escapes (decode it with a JSON parser), -1 when
 * the value is not a string. */
int ora_jscan_str(ora_jspan v, const uint8_t **s, size_t *n);

/* ---- validating scan: ora-order's routing (lib/route.c) ---------------- */

/* Receives each top-level member: its name as cJSON sees it (escapes
 * decoded, cut at the first NUL; name NULL when it decodes to more than 64
 * bytes, which no name we look for does) and the raw text of its value.
 * Returns 0 to go on, anything else to stop the scan with that value. */
typedef int (*ora_jscan_fn)(void *ctx, const uint8_t *name, size_t name_len, ora_jspan val);

/* Checks that p[0..n) is one JSON text (RFC 8259's grammar, whitespace
 * around it allowed) whose value is an object, nested at most
 * ORA_JSCAN_MAX_DEPTH deep, and calls fn (if not NULL) for each top-level
 * member in order. Strings are checked as cJSON checks them: escapes, \u
 * digits and surrogate pairs; other bytes pass as they are (no UTF-8
 * check). Every text it accepts, cJSON accepts. Returns 0; -1 when the text
 * is not such a JSON object; or fn's first nonzero value. No allocation. */
int ora_jscan_valid(const uint8_t *p, size_t n, ora_jscan_fn fn, void *ctx);

/* The first top-level member named key of the object obj (names as in
 * ora_jscan_fn), for a text already checked by ora_jscan_valid(): it stops
 * at the member. 1 and *val set; 0 when there is none; -1 when obj is not
 * an object. The span of a scalar value is exact; that of an object or
 * array value starts at its bracket and runs to the end of obj (its own end
 * is not looked for: give it to ora_jscan_find() again). */
int ora_jscan_find(ora_jspan obj, const char *key, ora_jspan *val);

/* A JSON number as a whole value, read as cJSON reads it (a double: "7",
 * "7.0" and "7e0" are all 7): 0 and *out when it is a whole number in
 * [0, max] (max <= 2^53); 1 when it is a number outside that (negative, a
 * fraction, too large); -1 when v is not a JSON number. */
int ora_jscan_uint(ora_jspan v, uint64_t max, uint64_t *out);

#endif
