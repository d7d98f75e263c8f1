/* fuzz/actors_text.c: ora_actors_apply_text() (messages read from their
 * text, no tree) against ora_actors_apply() (the cJSON tree): each line of
 * the input is one message, routed as ora-order would and applied to two
 * networks, one through each reader; after every message both must have
 * returned the same, emitted the same bytes and counted the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actors.h"
#include "buf.h"
#include "jscan.h"
#include "ora.h"
#include "route.h"
#include "rules.h"

static int collect(void *ctx, const ora_msg *m, const char *k, size_t kl, const char *j, size_t jl)
{
    ora_buf *b = ctx;
    (void)m;
    if (ora_buf_append(b, k, kl) < 0 || ora_buf_append(b, "\n", 1) < 0 || ora_buf_append(b, j, jl) < 0 ||
        ora_buf_append(b, "\n", 1) < 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ora_rules rules;
    static int ready;
    if (!ready) {
        ora_rules_init(&rules);
        ready = 1;
    }
    ora_buf out_tree = ORA_BUF_INIT, out_text = ORA_BUF_INIT;
    ora_actors *tree = ora_actors_new(&rules, collect, &out_tree);
    ora_actors *text = ora_actors_new(&rules, collect, &out_text);
    if (!tree || !text)
        abort();
    tree->pending_ttl_ns = text->pending_ttl_ns = 2000;
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
            int r1 = ora_actors_apply(tree, &m, root, p, n);
            int r2 = ORA_AP_TREE;
            if (ora_jscan_valid((const uint8_t *)p, n, NULL, NULL) == 0)
                r2 = ora_actors_apply_text(text, &m, p, n);
            if (r2 == ORA_AP_TREE)
                r2 = ora_actors_apply(text, &m, root, p, n);
            if (r1 != r2 || r1 == ORA_AP_ERROR)
                abort();
            if (out_tree.len != out_text.len || (out_tree.len && memcmp(out_tree.p, out_text.p, out_tree.len) != 0))
                abort();
            if (memcmp(&tree->st, &text->st, sizeof tree->st) != 0 || tree->n_events != text->n_events ||
                tree->n_offers != text->n_offers || tree->n_pend != text->n_pend)
                abort();
        }
        cJSON_Delete(root);
        p += n + (nl ? 1 : 0);
    }
    ora_actors_free(tree);
    ora_actors_free(text);
    ora_buf_free(&out_tree);
    ora_buf_free(&out_text);
    return 0;
}
