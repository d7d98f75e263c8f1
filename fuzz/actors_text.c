/* fuzz/actors_text.c: ora_actors_apply_text() (messages read from their
 * text, no tree) against ora_actors_apply() (the cJSON tree): each line of
 * the input is one message, routed as ora-order would and applied to two
 * networks, one through each reader; after every message both must have
 * returned the same, emitted the same bytes and counted the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "jscan.h"

static int collect(void *ctx, const ora_msg *m, const char *k, size_t kl, const char *j, size_t jl)
{
    ora_buf *b = ctx;
    (void)m;
    if (ora_buf_append(b, k, kl) < 0 || ora_buf_append(b, "\n", 1) < 0 || ora_buf_append(b, j, jl) < 0 ||
        ora_buf_append(b, "\n", 1) < 0)
        abort();
    return 0;
}

/* The two networks and what each has emitted so far. */
typedef struct {
    ora_actors *tree, *text;
    ora_buf out_tree, out_text;
} pair;

static void apply_both(void *ctx, const ora_msg *m, const cJSON *root, const char *p, size_t n)
{
    pair *x = ctx;
    int r1 = ora_actors_apply(x->tree, m, root, p, n);
    int r2 = ORA_AP_TREE;
    if (ora_jscan_valid((const uint8_t *)p, n, NULL, NULL) == 0)
        r2 = ora_actors_apply_text(x->text, m, p, n);
    if (r2 == ORA_AP_TREE)
        r2 = ora_actors_apply(x->text, m, root, p, n);
    if (r1 != r2 || r1 == ORA_AP_ERROR)
        abort();
    if (x->out_tree.len != x->out_text.len ||
        (x->out_tree.len && memcmp(x->out_tree.p, x->out_text.p, x->out_tree.len) != 0))
        abort();
    if (memcmp(&x->tree->st, &x->text->st, sizeof x->tree->st) != 0 || x->tree->n_events != x->text->n_events ||
        x->tree->n_offers != x->text->n_offers || x->tree->n_pend != x->text->n_pend)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pair x = {.out_tree = ORA_BUF_INIT, .out_text = ORA_BUF_INIT};
    x.tree = fuzz_actors_new(collect, &x.out_tree, 2000);
    x.text = fuzz_actors_new(collect, &x.out_text, 2000);
    fuzz_each_message(data, size, apply_both, &x);
    ora_actors_free(x.tree);
    ora_actors_free(x.text);
    ora_buf_free(&x.out_tree);
    ora_buf_free(&x.out_text);
    return 0;
}
