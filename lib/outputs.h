/* outputs.h: ora-actors' business rules (doc/design.md §3): when a change of
 * an actor's state surfaces an output record, and the JSON of each output
 * type. The one file to open to change a rule.
 *
 * Each rule is called by the actors (actors.c) after it applied a message
 * to an actor, with the message (its offset, flow and receive time go into
 * the record) and what changed; it decides, builds the JSON in a->out and
 * hands the record to a->emit with the actor id as partition key.
 * Returns 0 (emitted or nothing to emit), or -1 when out of memory or the
 * emit callback failed.
 */
#ifndef ORA_OUTPUTS_H
#define ORA_OUTPUTS_H

#include <stdint.h>

#include "buf.h"
#include "model.h"

/* event_data: an event was created, or startsAt, sport, group.id or the
 * participants changed. */
int ora_rule_event(ora_actors *a, const ora_msg *m, const ora_event *e, int created, int changed);

/* bet_offer_opened: offer b was just created (its payload applied). */
int ora_rule_offer_created(ora_actors *a, const ora_msg *m, const ora_betoffer *b);

/* bet_offer_opened / bet_offer_closed: a betOfferStatusUpdated was applied
 * to b; old is its status before (an interned id of a->strs). */
int ora_rule_offer_status(ora_actors *a, const ora_msg *m, const ora_betoffer *b, uint32_t old);

/* in_game_odds_update: outcome k of b received new odds. */
int ora_rule_odds(ora_actors *a, const ora_msg *m, const ora_betoffer *b, int k);

/* ---- JSON of stored values (also used by the state dump) ------------------ */

/* The string id of t as a JSON string (null for 0). */
int ora_out_str(ora_buf *b, const ora_intern *t, uint32_t id);
/* The list id of t (ORA_LIST_SEP-prefixed elements) as a JSON array (null
 * for 0). */
int ora_out_list(ora_buf *b, const ora_intern *t, uint32_t id);
/* An odds entry's decimal (model.h) as it was written; null for none. */
int ora_out_decimal(ora_buf *b, const ora_intern *strs, uint32_t dec);

#endif
