/* sim_model.h: the offering model of ora-sim: a deterministic (for a seed)
 * population of events and bet offers, the realtime messages that change
 * it, the out-of-order delivery Kambi does, and snapshots of its state.
 *
 * Messages are JSON text in the entity model of doc/design.md §2 ("The
 * entity model"), each with "offset" and one payload key: translated names
 * and labels ({"defaultTranslation": ...}), participants with
 * homeParticipant, competitionName, odds entries of offerings (the
 * jurisdiction names of opts) and {"decimal": integer milli-odds}, lineTypes
 * in line-type updates. Offsets are contiguous from 1: the
 * initial population is offsets 1..M (eventAdded / betOfferAdded), then
 * every sim_model_step() adds one. Nothing here reads a clock: times come
 * from opts.base_time, so the same options give the same messages.
 *
 * Two orders come out. The log order is the offset order (ground truth).
 * The delivery order is what a server sends: with probability opts.reorder
 * an entity's add/update is held back while 1..6 later messages (mostly
 * finer updates of that same entity, with higher offsets) go first.
 */
#ifndef ORA_SIM_MODEL_H
#define ORA_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_model sim_model;

typedef struct sim_model_opts {
    uint64_t seed;
    uint32_t events;              /* initial events (0 allowed) */
    uint32_t offers_min, offers_max; /* bet offers per event */
    double reorder;               /* 0..1: probability an add/update is held back */
    int64_t base_time;            /* seconds since the epoch: "now" of the model */
    const char *const *jurisdictions; /* offering names in odds entries, read by */
    size_t n_jurisdictions;           /* sim_model_new() only; 0: the defaults */
} sim_model_opts;

/* Receives one message: offset and len bytes of JSON (no newline; valid only
 * during the call). Returns 0, or nonzero to stop (the model returns -1). */
typedef int (*sim_emit_fn)(void *ctx, uint64_t offset, const char *json, size_t len);

typedef struct sim_sink {
    sim_emit_fn log;              /* each message once, in offset order (may be NULL) */
    sim_emit_fn deliver;          /* each message once, in delivery order (may be NULL) */
    void *ctx;
} sim_sink;

/* A model for opts (copied). NULL when out of memory. */
sim_model *sim_model_new(const sim_model_opts *opts);
void sim_model_free(sim_model *m);

/* Creates the initial population: emits offsets 1..M to log and deliver
 * (same order, nothing held back). Call once, first. 0, or -1 (ENOMEM or a
 * sink said stop). */
int sim_model_init(sim_model *m, const sim_sink *s);

/* Generates the next message (offset head+1): s->log gets it; s->deliver
 * gets zero or more messages whose hold-back ended. 0, or -1. */
int sim_model_step(sim_model *m, const sim_sink *s);

/* Delivers every message still held back (end of generation). 0, or -1. */
int sim_model_flush(sim_model *m, const sim_sink *s);

/* Emits the current state: eventAdded for every live event, then
 * betOfferAdded for every live bet offer, each with the offset of the last
 * message that changed that entity. 0, or -1. */
int sim_model_snapshot(sim_model *m, sim_emit_fn emit, void *ctx);

/* The snapshot in pieces, for a server that keeps it compressed. Entities
 * live in the slots of two tables; a slot holds one entity or none (after
 * a delete), and sim_model_snapshot() emits the live entities of the
 * events table, then of the bet offers table, in slot order. Slots are
 * only ever added at the end. */
enum sim_table { SIM_T_EVENTS = 0, SIM_T_OFFERS = 1 };
size_t sim_model_slots(const sim_model *m, int table);
/* A value that changes whenever the snapshot messages of the slots
 * [first, first + n) change (the last offset that touched one of them);
 * slots past the end count as empty. */
uint64_t sim_model_stamp(const sim_model *m, int table, size_t first, size_t n);
/* Emits the snapshot messages of the live entities in the slots
 * [first, first + n), in slot order: as many as it returns, or -1 (ENOMEM
 * or emit said stop). */
int sim_model_snapshot_slots(sim_model *m, int table, size_t first, size_t n, sim_emit_fn emit, void *ctx);

uint64_t sim_model_head(const sim_model *m);     /* last offset generated */
size_t sim_model_held(const sim_model *m);       /* messages held back now */
size_t sim_model_events(const sim_model *m);     /* live events */
size_t sim_model_offers(const sim_model *m);     /* live bet offers */

/* The offerings a client may subscribe to in SESSION_INITIALIZE. */
extern const char *const sim_offerings[];
extern const size_t sim_n_offerings;
/* Nonzero when name is one of sim_offerings. */
int sim_offering_known(const char *name);

/* The offering names of odds entries by default: the seed's jurisdiction
 * table, jurisdiction1 .. jurisdiction5. */
extern const char *const sim_default_jurisdictions[];
extern const size_t sim_n_default_jurisdictions;

#endif
