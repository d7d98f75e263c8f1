/* entity.h: the ORA entity model as ora-actors reads it: every JSON path
 * the reference implementation reads (doc/design.md §2, "The entity model:
 * the fields the project reads"), in one table, and the readers of the values
 * found there.
 *
 * A path is looked up inside a given object (the payload, an Event, a
 * BetOffer, an Outcome, an Odds entry or a participant). A lookup tells
 * three cases apart, because an update carries only what changed:
 *   ORA_FV_OK      the value is there with the type the table names;
 *   ORA_FV_ABSENT  the first key of the path is not there (an update that
 *                  does not carry the field: the stored value stands);
 *   ORA_FV_BAD     the first key is there but the rest of the path is
 *                  missing or the value has another type (null included):
 *                  the value is null in the output.
 * The caller counts what is not ORA_FV_OK (a field missing or wrong-typed).
 */
#ifndef ORA_ENTITY_H
#define ORA_ENTITY_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "buf.h"

enum ora_field {
    /* payload objects */
    ORA_F_EVENT,               /* eventAdded, eventUpdated: .event */
    ORA_F_BETOFFER,            /* betOfferAdded, betOfferUpdated: .betOffer */
    ORA_F_STATUS,              /* eventStatusUpdated, betOfferStatusUpdated,
                                  outcomeStatusUpdated: .status */
    ORA_F_LINE_TYPES,          /* betOfferLineTypesUpdated: .lineTypes */
    ORA_F_OUTCOME_ID,          /* outcome*Updated: .outcomeId */
    ORA_F_OUTCOME_BETOFFER_ID, /* outcome*Updated: .betOfferId */
    ORA_F_ODDS,                /* outcomeOddsUpdated: .odds */
    /* Event */
    ORA_F_EV_STARTS_AT, ORA_F_EV_SPORT, ORA_F_EV_STATUS, ORA_F_EV_GROUP_ID,
    ORA_F_EV_COMPETITION_NAME, ORA_F_EV_PARTICIPANTS,
    /* Event participant */
    ORA_F_PA_ID, ORA_F_PA_NAME, ORA_F_PA_TYPE, ORA_F_PA_HOME,
    /* BetOffer */
    ORA_F_BO_EVENT_ID, ORA_F_BO_STATUS, ORA_F_BO_CRITERION_ID, ORA_F_BO_CRITERION_LABEL,
    ORA_F_BO_LINE_TYPE, ORA_F_BO_TAGS, ORA_F_BO_OUTCOMES,
    /* Outcome */
    ORA_F_OC_ID, ORA_F_OC_BETOFFER_ID, ORA_F_OC_STATUS, ORA_F_OC_LABEL, ORA_F_OC_ODDS,
    /* Odds entry */
    ORA_F_OD_OFFERINGS, ORA_F_OD_DECIMAL,
    ORA_F_COUNT
};

/* The JSON type a field must have. */
enum ora_ftype { ORA_FT_OBJECT, ORA_FT_ARRAY, ORA_FT_STRING, ORA_FT_NUMBER, ORA_FT_ID, ORA_FT_BOOL };

enum ora_fv { ORA_FV_OK = 0, ORA_FV_ABSENT = 1, ORA_FV_BAD = 2 };

#define ORA_FIELD_DEPTH 3

typedef struct ora_field_info {
    const char *doc;                  /* the path as design.md writes it */
    const char *key[ORA_FIELD_DEPTH]; /* the path inside the object given */
    uint8_t type;                     /* enum ora_ftype */
} ora_field_info;

const ora_field_info *ora_field_info_get(int f);

/* Looks field f up in obj (a JSON object; anything else: ORA_FV_ABSENT).
 * *out receives the value when ORA_FV_OK, else NULL. ORA_FT_ID is a whole
 * number in [0, 2^53]. */
int ora_field(const cJSON *obj, int f, const cJSON **out);
/* ora_field of an ORA_FT_ID field: *id when ORA_FV_OK. */
int ora_field_id(const cJSON *obj, int f, uint64_t *id);

/* ---- decimals as written ------------------------------------------------ */

/* The text of the message a tree was parsed from, to find number literals
 * as they were written (cJSON keeps only their double value). */
typedef struct ora_src {
    const char *p;
    size_t n;
    size_t cursor; /* where the next decimal literal is searched from */
} ora_src;

/* The literal of the number node v, which is the value of a "decimal" key
 * of the message src, as written there. Decimals are looked up in the
 * order they appear in the message (the cursor only moves forward). When
 * no literal of that value is found (an escaped key, a text that is not
 * the tree's), the shortest text that reads back as the same double is
 * written instead. The text is copied to buf (size >= 64, NUL-terminated);
 * returns its length. */
size_t ora_decimal_text(ora_src *src, const cJSON *v, char *buf, size_t size);

/* ---- canonical JSON --------------------------------------------------------- */

/* Appends v as canonical JSON: object keys sorted (the last of duplicate
 * keys kept), no spaces, numbers in their shortest exact form. Two values
 * the seed compares equal have the same canonical text. 0, or -1 when out
 * of memory. */
int ora_json_canonical(ora_buf *b, const cJSON *v);

#endif
