/* sim_fault.c: when injected faults fire (see sim_fault.h). */
#include "sim_fault.h"
#include "cli.h"

static const char *const names[SIM_F_COUNT] = {
    "drop-after-msgs", "drop-after-bytes", "stall-after", "corrupt-after",
    "invalid-token-after", "reject-token", "offset-too-old"};

/* The faults counted in data messages, in the order they are checked. */
static const int msg_faults[] = {SIM_F_DROP_MSGS, SIM_F_CORRUPT, SIM_F_INVALID, SIM_F_STALL};
enum { N_MSG_FAULTS = sizeof msg_faults / sizeof msg_faults[0] };

const char *sim_fault_name(int f)
{
    return f >= 0 && f < SIM_F_COUNT ? names[f] : "?";
}

static uint64_t threshold(const sim_conn *c, int f)
{
    const sim_faults *fs = &c->srv->o->faults;
    switch (f) {
    case SIM_F_DROP_MSGS: return fs->drop_after_msgs;
    case SIM_F_CORRUPT: return fs->corrupt_after;
    case SIM_F_INVALID: return fs->invalid_token_after;
    case SIM_F_STALL: return fs->stall_after;
    }
    return SIM_OFF;
}

int sim_fault_armed(const sim_conn *c, int f)
{
    return !c->srv->o->faults.once || !atomic_load(&c->srv->fired[f]);
}

int sim_fault_fire(sim_conn *c, int f)
{
    sim_srv *s = c->srv;
    if (s->o->faults.once && atomic_exchange(&s->fired[f], 1))
        return 0;
    s->st.faults++;
    sim_conn_note(c, ORA_LOG_INFO, "fault %s after %llu messages, %llu bytes", names[f],
                  (unsigned long long)c->msgs, (unsigned long long)c->bytes);
    return 1;
}

uint64_t sim_fault_room(const sim_conn *c)
{
    uint64_t r = UINT64_MAX;
    for (int i = 0; i < N_MSG_FAULTS; i++) {
        uint64_t t = threshold(c, msg_faults[i]);
        if (t != SIM_OFF && t >= c->msgs && sim_fault_armed(c, msg_faults[i]) && t - c->msgs < r)
            r = t - c->msgs;
    }
    return r;
}

int sim_fault_due(sim_conn *c)
{
    for (int i = 0; i < N_MSG_FAULTS; i++)
        if (threshold(c, msg_faults[i]) == c->msgs && sim_fault_fire(c, msg_faults[i]))
            return msg_faults[i];
    return -1;
}
