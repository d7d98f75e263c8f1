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
 * escapes). Returns 0, or -1 when the text is not one object (then vals is
 * unspecified). */
int ora_jscan(const uint8_t *p, size_t n, const char *const *keys, size_t nkeys, ora_jspan *vals);

/* A JSON integer (no fraction, no exponent) within int64: 0 and *out, else -1. */
int ora_jscan_i64(ora_jspan v, int64_t *out);

/* A string value's bytes without the quotes: 1 when it has no escapes
 * (*s, *n set), 0 when it has escapes (decode it with a JSON parser), -1 when
 * the value is not a string. */
int ora_jscan_str(ora_jspan v, const uint8_t **s, size_t *n);

#endif
