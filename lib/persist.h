/* persist.h: the actors body of a state file (statefile.h): every event,
 * bet offer and queued message of an actor network as bytes (serial.h) and
 * back, and as JSON lines for people (ora-actors --dump-state).
 *
 * The body holds three string tables (texts, offering lists, line type and
 * tag lists), renumbered densely, then the events, the bet offers with
 * their outcomes and odds, and the queued messages, raw.
 */
#ifndef ORA_PERSIST_H
#define ORA_PERSIST_H

#include <stddef.h>

#include "actors.h"
#include "serial.h"

/* Writes the body of a to w (failures are sticky in w). */
void ora_persist_save(const ora_actors *a, ora_sw *w);
/* Reads a body from r into a, whose previous content is dropped. 0, or -1
 * with a reason in err (a is then empty). */
int ora_persist_load(ora_actors *a, ora_sr *r, char *err, size_t errn);

/* Writes the state as JSON lines (sorted by id): events, bet offers,
 * queued messages. Each line through put(ctx, line, len). 0, or -1 when
 * put failed. */
int ora_persist_dump(const ora_actors *a, int (*put)(void *ctx, const char *s, size_t n), void *ctx);

#endif
