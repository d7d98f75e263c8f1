/* sim_log.h: the messages ora-sim has delivered, retained for replays: a
 * bounded FIFO in delivery order. Each entry has a sequence number (its
 * position in the delivery order, from 0) and its message offset. Not
 * thread-safe: the server holds its lock around every call.
 */
#ifndef ORA_SIM_LOG_H
#define ORA_SIM_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_log sim_log;

typedef struct sim_entry {
    uint64_t offset;
    const char *json;     /* owned by the log: valid until the entry is evicted */
    size_t len;
} sim_entry;

/* A log keeping at most retain entries (retain >= 1). NULL on ENOMEM. */
sim_log *sim_log_new(size_t retain);
void sim_log_free(sim_log *l);

/* Appends a copy of json; evicts the oldest entry when full. 0, or -1 (ENOMEM). */
int sim_log_append(sim_log *l, uint64_t offset, const char *json, size_t len);

uint64_t sim_log_first(const sim_log *l);   /* sequence number of the oldest entry kept */
uint64_t sim_log_end(const sim_log *l);     /* sequence number the next entry gets */
/* Largest offset evicted so far (0: none). A replay from offset X can be
 * served completely iff X >= sim_log_base(). */
uint64_t sim_log_base(const sim_log *l);

/* Entry seq (first <= seq < end) into *e; -1 when evicted or not yet there. */
int sim_log_get(const sim_log *l, uint64_t seq, sim_entry *e);

#endif
