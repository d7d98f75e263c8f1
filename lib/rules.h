/* rules.h: the configuration of ora-actors' business rules (criteria and
 * jurisdiction bits; doc/design.md §3).
 *
 * Defaults are the seed's: criteria 1001159512, 1001159732, 1001159509;
 * jurisdictions jurisdiction1=1, jurisdiction2=2, jurisdiction3=4,
 * jurisdiction4=8, jurisdiction5=16 (doc/design.md §3).
 */
#ifndef ORA_RULES_H
#define ORA_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

#define ORA_RULES_MAX_JUR 64
#define ORA_RULES_MAX_CRITERIA 4096

typedef struct ora_jur {
    char *name;
    uint32_t bit;
} ora_jur;

typedef struct ora_rules {
    uint64_t *criteria;   /* sorted, unique */
    size_t n_criteria;
    ora_jur jur[ORA_RULES_MAX_JUR];
    size_t n_jur;
    double pending_ttl;   /* seconds; < 0 when not set by a rules file */
} ora_rules;

/* Fills r with the defaults. 0, or -1 when out of memory. */
int ora_rules_init(ora_rules *r);
void ora_rules_free(ora_rules *r);

/* Replaces the criterion set with a comma-separated list of ids.
 * 0, or -1 with a reason in err (errn bytes). */
int ora_rules_set_criteria(ora_rules *r, const char *list, char *err, size_t errn);
/* Sets the bit of one offering name from "NAME=BIT" (BIT a number 0..2^32-1,
 * usually a power of two; 0 makes the name contribute nothing). Overrides
 * an earlier value of that name. 0, or -1 with a reason in err. */
int ora_rules_set_jurisdiction(ora_rules *r, const char *spec, char *err, size_t errn);
/* Reads a rules file: lines "criteria=ID,ID,...", "jurisdiction=NAME=BIT"
 * (repeatable), "pending_ttl=SECONDS"; '#' comments and blank lines are
 * ignored. The first jurisdiction line of a file clears the defaults.
 * 0, or -1 with "file:line: reason" in err. */
int ora_rules_load(ora_rules *r, const char *path, char *err, size_t errn);

/* 1 when id is in the criterion set. */
int ora_rules_has_criterion(const ora_rules *r, uint64_t id);
/* The bit of an offering name (n bytes); *known (if not NULL) is 0 when
 * the name is not configured (the bit is then 0). */
uint32_t ora_rules_bit(const ora_rules *r, const char *name, size_t n, int *known);

#endif
