/* session.c: the ORA session state machine of ora-connect (see session.h). */
#include "session.h"

#include <string.h>

#include "ora.h"

/* ---- state machine ----------------------------------------------------- */

void ora_session_start(ora_sess *s, int64_t checkpoint, int once)
{
    s->phase = ORA_SP_WELCOME;
    s->flow = ORA_FLOW_NONE;
    s->once = once;
    s->checkpoint = checkpoint < 0 ? -1 : checkpoint;
}

static ora_sact act(int kind, int64_t offset, const char *reason)
{
    ora_sact a = {kind, offset, NULL, reason};
    return a;
}

static ora_sact start_flow(ora_sess *s)
{
    s->phase = ORA_SP_STREAM;
    if (s->checkpoint >= 0) {
        s->flow = ORA_FLOW_REPLAY;
        return act(ORA_A_SEND_REPLAY, s->checkpoint, NULL);
    }
    s->flow = ORA_FLOW_SNAPSHOT;
    return act(ORA_A_SEND_SNAPSHOT, -1, NULL);
}

ora_sact ora_session_on(ora_sess *s, const ora_smsg *m)
{
    if (m->type == ORA_S_NONE) {
        if (m->bad)
            return act(ORA_A_NONE, -1, "unknown session message type ignored");
        s->data++;
        if (m->offset > s->last_offset)
            s->last_offset = m->offset;
        if (s->phase != ORA_SP_STREAM && s->phase != ORA_SP_DONE)
            return act(ORA_A_NONE, -1, "data message before SNAPSHOT/REPLAY was sent");
        return act(ORA_A_NONE, -1, NULL);
    }
    if (m->type == ORA_S_PING) {
        s->pings++;
        ora_sact a = act(ORA_A_SEND_PONG, -1, m->bad ? "SESSION_PING without a usable id" : NULL);
        a.id = m->id[0] ? m->id : NULL;
        return a;
    }
    if (s->phase == ORA_SP_DONE)
        return act(ORA_A_NONE, -1, NULL);

    switch (m->type) {
    case ORA_S_WELCOME:
        if (s->phase != ORA_SP_WELCOME)
            return act(ORA_A_RECONNECT, -1, "unexpected SESSION_WELCOME");
        s->phase = ORA_SP_INIT;
        return act(ORA_A_SEND_INITIALIZE, -1, NULL);
    case ORA_S_INITIALIZED:
        if (s->phase != ORA_SP_INIT)
            return act(ORA_A_RECONNECT, -1, "unexpected SESSION_INITIALIZED");
        return start_flow(s);
    case ORA_S_SNAPSHOT_COMPLETED:
        if (s->phase != ORA_SP_STREAM || s->flow != ORA_FLOW_SNAPSHOT)
            return act(ORA_A_NONE, -1, "unexpected SESSION_SNAPSHOT_COMPLETED ignored");
        s->flow = ORA_FLOW_REPLAY;
        if (m->offset > s->last_offset)
            s->last_offset = m->offset;
        return act(ORA_A_NONE, -1, NULL);
    case ORA_S_REPLAY_COMPLETED:
        if (s->phase != ORA_SP_STREAM || s->flow == ORA_FLOW_SNAPSHOT)
            return act(ORA_A_NONE, -1, "unexpected SESSION_REPLAY_COMPLETED ignored");
        s->flow = ORA_FLOW_REALTIME;
        if (m->offset > s->last_offset)
            s->last_offset = m->offset;
        if (s->once) {
            s->phase = ORA_SP_DONE;
            return act(ORA_A_CAUGHT_UP, m->offset, NULL);
        }
        return act(ORA_A_HEALTHY, m->offset, NULL);
    case ORA_S_ERROR:
        if (m->bad)
            return act(ORA_A_FATAL, -1, m->code[0] ? m->code : "SESSION_ERROR without a code");
        if (strcmp(m->code, "INVALID_TOKEN") == 0)
            return act(ORA_A_NEW_TOKEN, -1, m->code);
        if (strcmp(m->code, "OFFSET_TOO_OLD") == 0) {
            if (s->phase != ORA_SP_STREAM || s->flow != ORA_FLOW_REPLAY)
                return act(ORA_A_RECONNECT, -1, "unexpected OFFSET_TOO_OLD");
            s->checkpoint = -1;
            s->flow = ORA_FLOW_SNAPSHOT;
            return act(ORA_A_SEND_SNAPSHOT, -1, m->code);
        }
        s->phase = ORA_SP_DONE;
        return act(ORA_A_FATAL, -1, m->code);
    default:
        /* INITIALIZE, SNAPSHOT, REPLAY, PONG: client messages. */
        return act(ORA_A_NONE, -1, "client message type from the server ignored");
    }
}
