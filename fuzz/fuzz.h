/* fuzz/fuzz.h: the harness the ora-actors targets share (fuzz/actors.c,
 * fuzz/actors_text.c, fuzz/state.c): the rules, a network, the message
 * stream of an input, a throw-away save.
 *
 * Each fuzz/NAME.c is its own libFuzzer binary with no object of its own to
 * link, so everything here is static inline: one copy per target. Where
 * the harness cannot go on (no memory for a network) it aborts, which
 * libFuzzer reports as a crash instead of running on. */
#ifndef ORA_FUZZ_H
#define ORA_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actors.h"
#include "ora.h"
#include "persist.h"
#include "route.h"
#include "rules.h"

/* The default business rules, set up by the first call and kept for the
 * life of the process: no input changes them. */
static inline const ora_rules *fuzz_rules(void)
{
    static ora_rules rules;
    static int ready;
    if (!ready) {
        ora_rules_init(&rules);
        ready = 1;
    }
    return &rules;
}

/* A new network on fuzz_rules() whose outputs go to emit(ctx, ...) and whose
 * pending queues age out after ttl_ns of stream time. The caller frees it
 * (ora_actors_free). */
static inline ora_actors *fuzz_actors_new(ora_emit_fn emit, void *ctx, uint64_t ttl_ns)
{
    ora_actors *a = ora_actors_new(fuzz_rules(), emit, ctx);
    if (!a)
        abort();
    a->pending_ttl_ns = ttl_ns;
    return a;
}

/* Receives one message of fuzz_each_message(): m as ora-order routes it,
 * root its tree and raw[0..n) its text (both valid for this call only). */
typedef void (*fuzz_msg_fn)(void *ctx, const ora_msg *m, const cJSON *root, const char *raw, size_t n);

/* Reads data as JSON lines (split at '\n'; no empty line after a final
 * '\n') and hands each line that parses and routes (ora_route_json) to
 * fn, as a realtime message received 1000 ns after the one before (the
 * first at 1001): time moves, so pending queues can age out. Lines that do
 * not route are skipped, as ora-order passes them by. */
static inline void fuzz_each_message(const uint8_t *data, size_t size, fuzz_msg_fn fn, void *ctx)
{
    const char *p = (const char *)data, *end = p + size;
    uint64_t t = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *root = cJSON_ParseWithLength(p, n);
        ora_route rt;
        if (root && ora_route_json(root, &rt) == ORA_ROUTE_OK) {
            ora_msg m = {.offset = rt.offset, .recv_ns = t += 1000, .actor_id = rt.actor_id, .kind = (uint8_t)rt.kind,
                         .actor_type = rt.actor_type, .flow = ORA_FLOW_REALTIME};
            fn(ctx, &m, root, p, n);
        }
        cJSON_Delete(root);
        p += n + (nl ? 1 : 0);
    }
}

/* Saves a's state to /dev/null: what is under test is that the saver walks
 * every table safely; its bytes are not kept. */
static inline void fuzz_save_discard(const ora_actors *a)
{
    int fd = open("/dev/null", O_WRONLY);
    ora_sw w;
    if (fd >= 0 && ora_sw_open(&w, fd) == 0) {
        ora_persist_save(a, &w);
        ora_sw_finish(&w);
    }
    if (fd >= 0)
        close(fd);
}

#endif
