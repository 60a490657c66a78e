/*
 * Load-time graph rewrites: fusions and folds that make the same model run
 * faster with the same results (within float rounding). They run on the
 * parsed main graph before it is built, so everything after them (type
 * checks, op lookup, lifetimes) sees the rewritten graph as if the file had
 * said it. Fused nodes are ops of the internal domain "com.cinfer" (see
 * docs/runtime.md); they are registered like any op and check their
 * attributes, so a model file that names them gets no more trust than one
 * that names any other op.
 *
 * Every pass keeps the graph's inputs, outputs and initializers that are
 * also graph inputs (overridable) untouched, and fuses only values that
 * have exactly one consumer and are not graph outputs.
 */
#ifndef CI_RUNTIME_GRAPH_H
#define CI_RUNTIME_GRAPH_H

#include "runtime/rt.h"

#define CI_DOMAIN_CINFER "com.cinfer"

/* Runs every pass on p's main graph (no-op when disabled). */
CI_MUST_CHECK int ci_graph_optimize(struct ci_model_proto *p, struct cinfer_err *e);
/* Process-wide switch (tests compare optimized and plain runs). Default on. */
void ci_graph_optimize_enable(int on);
int ci_graph_optimize_enabled(void);

/*
 * A name index over one graph, built at the start of a pass. Node indices
 * stay valid while the pass runs: ci_g_kill only marks a node, and
 * ci_g_optimize compacts after each pass.
 */
struct ci_gindex;
struct ci_gindex *ci_g_index(const struct ci_graph *g, struct cinfer_err *e);
void ci_g_index_free(struct ci_gindex *ix);
/* Node inputs that read value name, counted at index time; graph outputs
 * count as CI_G_PINNED more. */
#define CI_G_PINNED 1000000
size_t ci_g_uses(const struct ci_gindex *ix, const char *name);
/* The only node that reads name, or -1 (none, several, or a graph output). */
long ci_g_sole_consumer(const struct ci_gindex *ix, const char *name);
/* The node that makes name, or -1 (graph input, initializer, unknown). */
long ci_g_producer(const struct ci_gindex *ix, const char *name);
/* The initializer called name if it is a true constant (not also a graph
 * input, which a caller could override), else NULL. */
const struct ci_tensor *ci_g_const(const struct ci_gindex *ix, const char *name);

/* Marks node i removed (freed at the end of the pass). */
void ci_g_kill(struct ci_graph *g, size_t i);
/* Adds initializer t (moved in: t is zeroed) under a fresh name that
 * starts with hint; *name_out is borrowed from g. */
int ci_g_add_const(struct ci_graph *g, const char *hint, struct ci_tensor *t,
    const char **name_out, struct cinfer_err *e);
/* Sets node n's op (and domain), input or output i (growing the list with ""
 * as needed), an attribute (replacing one of the same name). */
int ci_g_set_op(struct ci_node *n, const char *domain, const char *op_type,
    struct cinfer_err *e);
int ci_g_set_input(struct ci_node *n, size_t i, const char *value, struct cinfer_err *e);
int ci_g_set_output(struct ci_node *n, size_t i, const char *value, struct cinfer_err *e);
int ci_g_attr_i(struct ci_node *n, const char *name, int64_t v, struct cinfer_err *e);
int ci_g_attr_f(struct ci_node *n, const char *name, float v, struct cinfer_err *e);
int ci_g_attr_s(struct ci_node *n, const char *name, const char *v, struct cinfer_err *e);
int ci_g_attr_ints(struct ci_node *n, const char *name, const int64_t *v, size_t count,
    struct cinfer_err *e);
/* A new node appended to g (op in domain, no inputs or outputs yet); the
 * index is not updated. Pointers into g->nodes are invalid afterwards. */
long ci_g_add_node(struct ci_graph *g, const char *domain, const char *op_type,
    const char *name, struct cinfer_err *e);

/* The passes (one file each). ix is fresh; they may kill, edit and add. */
typedef int (*ci_g_pass_fn)(struct ci_model_proto *p, struct ci_graph *g,
    struct ci_gindex *ix, struct cinfer_err *e);
int ci_pass_conv(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e);
int ci_pass_quant(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e);
int ci_pass_transformer(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e);
int ci_pass_gemm(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e);

#endif
