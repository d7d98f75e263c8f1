/* sim_fault.h: when the faults injected on demand (sim_faults) fire.
 *
 * Bookkeeping only: which fault is due on a connection and whether it may
 * still fire (--fault-once). What a fault does is up to the caller: the
 * session (sim_session.c) for the faults counted in data messages, the
 * writer (sim_send.c) for drop-after-bytes, the token endpoint for
 * auth-fail.
 */
#ifndef ORA_SIM_FAULT_H
#define ORA_SIM_FAULT_H

#include <stdint.h>

#include "sim_conn.h"

/* "drop-after-msgs", ... (the option's name without dashes in front). */
const char *sim_fault_name(int f);

/* Nonzero when fault f may still fire on c: always, unless --fault-once
 * and it has fired (on any connection). */
int sim_fault_armed(const sim_conn *c, int f);

/* Fires fault f now if it may: counts it and notes it with c's message and
 * byte counts. 1 when it fired, 0 when --fault-once used it up. */
int sim_fault_fire(sim_conn *c, int f);

/* Data messages c may send before the next armed fault counted in
 * messages (drop, corrupt, invalid token, stall) is due; UINT64_MAX when
 * none is. 0 when one is due now. */
uint64_t sim_fault_room(const sim_conn *c);

/* The fault counted in messages that is due now (its threshold is c->msgs)
 * and fires (sim_fault_fire), or -1 when none. */
int sim_fault_due(sim_conn *c);

#endif
