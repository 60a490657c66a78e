/*
 * Graph rewrite helpers and the pass driver (see graph.h). The passes
 * themselves live in pass_*.c.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/graph.h"

#define STAGE "runtime.graph"

static _Atomic int enabled = 1;

void
ci_graph_optimize_enable(int on)
{
	atomic_store_explicit(&enabled, on != 0, memory_order_relaxed);
}

int
ci_graph_optimize_enabled(void)
{
	return atomic_load_explicit(&enabled, memory_order_relaxed);
}

/* ---- index ------------------------------------------------------------------ */
struct ent {
	const char *name;	/* into ix->names */
	long node;		/* node index, initializer index, or -1 */
};

struct ci_gindex {
	const struct ci_graph *g;
	char *names;		/* every name, NUL-separated copies */
	struct ent *uses, *makes, *consts, *pinned, *inputs;
	size_t n_uses, n_makes, n_consts, n_pinned, n_inputs;
};

static int
ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);	/* public */

	if (c)
		return c;
	return x->node < y->node ? -1 : x->node > y->node;
}

/* First entry called name in sorted tab, and how many there are. */
static const struct ent *
range(const struct ent *tab, size_t n, const char *name, size_t *count)
{
	size_t lo = 0, hi = n, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(tab[mid].name, name) < 0)	/* public */
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < n && strcmp(tab[k].name, name) == 0; k++)	/* public */
		;
	*count = k - lo;
	return k > lo ? &tab[lo] : NULL;
}

void
ci_g_index_free(struct ci_gindex *ix)
{
	if (ix == NULL)
		return;
	ci_free(ix->names);
	ci_free(ix->uses);
	ci_free(ix->makes);
	ci_free(ix->consts);
	ci_free(ix->pinned);
	ci_free(ix->inputs);
	ci_free(ix);
}

/* Appends (copy of name, node) to tab; off: next free byte of ix->names. */
static void
put(struct ci_gindex *ix, struct ent *tab, size_t *n, const char *name, long node, size_t *off)
{
	size_t len = strlen(name) + 1;

	memcpy(ix->names + *off, name, len);
	tab[*n].name = ix->names + *off;
	tab[*n].node = node;
	(*n)++;
	*off += len;
}

struct ci_gindex *
ci_g_index(const struct ci_graph *g, struct cinfer_err *e)
{
	struct ci_gindex *ix = ci_calloc(1, sizeof(*ix));
	size_t bytes = 1, nu = 0, nm = 0, off = 0;

	if (ix == NULL)
		goto nomem;
	ix->g = g;
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct ci_node *n = &g->nodes[i];
		if (n->op_type == NULL)
			continue;
		for (size_t j = 0; j < n->n_in; j++)
			if (n->inputs[j][0]) {
				bytes += strlen(n->inputs[j]) + 1;
				nu++;
			}
		for (size_t j = 0; j < n->n_out; j++)
			if (n->outputs[j][0]) {
				bytes += strlen(n->outputs[j]) + 1;
				nm++;
			}
	}
	for (size_t i = 0; i < g->n_inits; i++)
		bytes += strlen(g->inits[i].name) + 1;
	for (size_t i = 0; i < g->n_outputs; i++)
		bytes += strlen(g->outputs[i].name) + 1;
	for (size_t i = 0; i < g->n_inputs; i++)
		bytes += strlen(g->inputs[i].name) + 1;
	ix->names = ci_alloc(bytes);
	ix->uses = ci_calloc(nu + 1, sizeof(struct ent));
	ix->makes = ci_calloc(nm + 1, sizeof(struct ent));
	ix->consts = ci_calloc(g->n_inits + 1, sizeof(struct ent));
	ix->pinned = ci_calloc(g->n_outputs + 1, sizeof(struct ent));
	ix->inputs = ci_calloc(g->n_inputs + 1, sizeof(struct ent));
	if (!ix->names || !ix->uses || !ix->makes || !ix->consts || !ix->pinned || !ix->inputs)
		goto nomem;
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct ci_node *n = &g->nodes[i];
		if (n->op_type == NULL)
			continue;
		for (size_t j = 0; j < n->n_in; j++)
			if (n->inputs[j][0])
				put(ix, ix->uses, &ix->n_uses, n->inputs[j], (long)i, &off);
		for (size_t j = 0; j < n->n_out; j++)
			if (n->outputs[j][0])
				put(ix, ix->makes, &ix->n_makes, n->outputs[j], (long)i, &off);
	}
	for (size_t i = 0; i < g->n_inputs; i++)
		put(ix, ix->inputs, &ix->n_inputs, g->inputs[i].name, (long)i, &off);
	qsort(ix->inputs, ix->n_inputs, sizeof(struct ent), ent_cmp);
	for (size_t i = 0; i < g->n_inits; i++) {
		size_t c;
		if (range(ix->inputs, ix->n_inputs, g->inits[i].name, &c))
			continue;	/* overridable default, not a constant */
		put(ix, ix->consts, &ix->n_consts, g->inits[i].name, (long)i, &off);
	}
	for (size_t i = 0; i < g->n_outputs; i++)
		put(ix, ix->pinned, &ix->n_pinned, g->outputs[i].name, (long)i, &off);
	qsort(ix->uses, ix->n_uses, sizeof(struct ent), ent_cmp);
	qsort(ix->makes, ix->n_makes, sizeof(struct ent), ent_cmp);
	qsort(ix->consts, ix->n_consts, sizeof(struct ent), ent_cmp);
	qsort(ix->pinned, ix->n_pinned, sizeof(struct ent), ent_cmp);
	return ix;
nomem:
	ci_g_index_free(ix);
	ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	return NULL;
}

size_t
ci_g_uses(const struct ci_gindex *ix, const char *name)
{
	size_t c, p;

	range(ix->uses, ix->n_uses, name, &c);
	if (range(ix->pinned, ix->n_pinned, name, &p))
		c += CI_G_PINNED;
	return c;
}

long
ci_g_sole_consumer(const struct ci_gindex *ix, const char *name)
{
	size_t c;
	const struct ent *u = range(ix->uses, ix->n_uses, name, &c);

	if (c != 1 || ci_g_uses(ix, name) != 1)
		return -1;
	return u->node;
}

long
ci_g_producer(const struct ci_gindex *ix, const char *name)
{
	size_t c;
	const struct ent *m = range(ix->makes, ix->n_makes, name, &c);

	return c == 1 ? m->node : -1;
}

const struct ci_tensor *
ci_g_const(const struct ci_gindex *ix, const char *name)
{
	size_t c;
	const struct ent *k = range(ix->consts, ix->n_consts, name, &c);

	return c == 1 ? &ix->g->inits[k->node] : NULL;
}

/* ---- edits ------------------------------------------------------------------ */
void
ci_g_kill(struct ci_graph *g, size_t i)
{
	if (i < g->n_nodes)
		ci_node_clear(&g->nodes[i]);	/* op_type NULL marks it dead */
}

static int
name_taken(const struct ci_gindex *ix, const char *name)
{
	size_t c;

	return range(ix->makes, ix->n_makes, name, &c) || range(ix->inputs, ix->n_inputs, name, &c) ||
	    range(ix->consts, ix->n_consts, name, &c) || range(ix->uses, ix->n_uses, name, &c);
}

/* The index of the pass that is running (for fresh names). */
static _Thread_local struct ci_gindex *cur_ix;

/*
 * Whether name is used in g. In a pass, the index knows every name the file
 * had, and names made here never collide with each other (the number after
 * the last "#cinfer" is the count of initializers when it was made, which
 * only grows); outside a pass (tests), everything is scanned.
 */
static int
taken(const struct ci_graph *g, const char *name)
{
	if (cur_ix && cur_ix->g == g)
		return name_taken(cur_ix, name);
	for (size_t i = 0; i < g->n_inits; i++)
		if (strcmp(g->inits[i].name, name) == 0)	/* public */
			return 1;
	for (size_t i = 0; i < g->n_inputs; i++)
		if (strcmp(g->inputs[i].name, name) == 0)	/* public */
			return 1;
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t j = 0; g->nodes[i].op_type && j < g->nodes[i].n_out; j++)
			if (strcmp(g->nodes[i].outputs[j], name) == 0)	/* public */
				return 1;
	return 0;
}

int
ci_g_add_const(struct ci_graph *g, const char *hint, struct ci_tensor *t, const char **name_out,
    struct cinfer_err *e)
{
	struct ci_tensor *ni;
	size_t len = strlen(hint) + 40, fresh = g->n_inits;
	char *name = ci_alloc(len);

	if (name == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	do {
		snprintf(name, len, "%s#cinfer%zu", hint, fresh++);
	} while (taken(g, name));
	ni = ci_realloc(g->inits, (g->n_inits + 1) * sizeof(*ni));
	if (ni == NULL) {
		ci_free(name);
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	}
	g->inits = ni;
	ci_free(t->name);
	t->name = name;
	t->owned = 1;
	ni[g->n_inits] = *t;
	memset(t, 0, sizeof(*t));
	*name_out = ni[g->n_inits++].name;
	return 0;
}

static int
set_str(char **dst, const char *v, struct cinfer_err *e)
{
	char *c = ci_strdup(v);

	if (c == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	ci_free(*dst);
	*dst = c;
	return 0;
}

int
ci_g_set_op(struct ci_node *n, const char *domain, const char *op_type, struct cinfer_err *e)
{
	if (set_str(&n->domain, domain, e) != 0 || set_str(&n->op_type, op_type, e) != 0)
		return -1;
	return 0;
}

static int
set_slot(char ***list, size_t *count, size_t i, const char *value, struct cinfer_err *e)
{
	if (i >= CI_RT_MAX_NODE_IO)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "too many node inputs or outputs");
	if (i >= *count) {
		char **nl = ci_realloc(*list, (i + 2) * sizeof(char *));
		if (nl == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		*list = nl;
		for (size_t k = *count; k <= i; k++) {
			nl[k] = ci_strdup("");
			if (nl[k] == NULL) {
				*count = k;
				return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			}
		}
		nl[i + 1] = NULL;
		*count = i + 1;
	}
	return set_str(&(*list)[i], value, e);
}

int
ci_g_set_input(struct ci_node *n, size_t i, const char *value, struct cinfer_err *e)
{
	return set_slot(&n->inputs, &n->n_in, i, value, e);
}

int
ci_g_set_output(struct ci_node *n, size_t i, const char *value, struct cinfer_err *e)
{
	return set_slot(&n->outputs, &n->n_out, i, value, e);
}

/* The attribute called name, cleared (new if absent), or NULL. */
static struct ci_attr *
attr_slot(struct ci_node *n, const char *name, struct cinfer_err *e)
{
	struct ci_attr *a;
	char *nm = ci_strdup(name);

	if (nm == NULL)
		goto nomem;
	for (size_t i = 0; i < n->n_attrs; i++)
		if (strcmp(n->attrs[i].name, name) == 0) {	/* public */
			a = &n->attrs[i];
			ci_attr_clear(a);
			a->name = nm;
			return a;
		}
	a = ci_realloc(n->attrs, (n->n_attrs + 1) * sizeof(*a));
	if (a == NULL) {
		ci_free(nm);
		goto nomem;
	}
	n->attrs = a;
	a = &n->attrs[n->n_attrs++];
	memset(a, 0, sizeof(*a));
	a->name = nm;
	return a;
nomem:
	ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	return NULL;
}

int
ci_g_attr_i(struct ci_node *n, const char *name, int64_t v, struct cinfer_err *e)
{
	struct ci_attr *a = attr_slot(n, name, e);

	if (a == NULL)
		return -1;
	a->type = CI_AT_INT;
	a->i = v;
	return 0;
}

int
ci_g_attr_f(struct ci_node *n, const char *name, float v, struct cinfer_err *e)
{
	struct ci_attr *a = attr_slot(n, name, e);

	if (a == NULL)
		return -1;
	a->type = CI_AT_FLOAT;
	a->f = v;
	return 0;
}

int
ci_g_attr_s(struct ci_node *n, const char *name, const char *v, struct cinfer_err *e)
{
	struct ci_attr *a = attr_slot(n, name, e);

	if (a == NULL)
		return -1;
	a->type = CI_AT_STRING;
	a->s = ci_strdup(v);
	if (a->s == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	a->s_size = strlen(v);
	return 0;
}

int
ci_g_attr_ints(struct ci_node *n, const char *name, const int64_t *v, size_t count,
    struct cinfer_err *e)
{
	struct ci_attr *a = attr_slot(n, name, e);

	if (a == NULL)
		return -1;
	a->type = CI_AT_INTS;
	a->ints = ci_memdup(v, count ? count * sizeof(int64_t) : 1);
	if (a->ints == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	a->n = count;
	return 0;
}

long
ci_g_add_node(struct ci_graph *g, const char *domain, const char *op_type, const char *name,
    struct cinfer_err *e)
{
	struct ci_node *nn, *n;

	if (g->n_nodes >= CI_RT_MAX_NODES) {
		ci_fail(e, CINFER_E_LIMIT, STAGE, "too many nodes");
		return -1;
	}
	nn = ci_realloc(g->nodes, (g->n_nodes + 1) * sizeof(*nn));
	if (nn == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		return -1;
	}
	g->nodes = nn;
	n = &nn[g->n_nodes];
	memset(n, 0, sizeof(*n));
	n->inputs = ci_calloc(1, sizeof(char *));
	n->outputs = ci_calloc(1, sizeof(char *));
	n->attrs = ci_calloc(1, sizeof(struct ci_attr));
	n->name = ci_strdup(name);
	n->domain = ci_strdup(domain);
	n->op_type = ci_strdup(op_type);
	g->n_nodes++;
	if (!n->inputs || !n->outputs || !n->attrs || !n->name || !n->domain || !n->op_type) {
		ci_node_clear(n);	/* dead: compacted away */
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		return -1;
	}
	return (long)(g->n_nodes - 1);
}

/* ---- driver ----------------------------------------------------------------- */
static void
compact(struct ci_graph *g)
{
	size_t k = 0;

	for (size_t i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].op_type != NULL)
			g->nodes[k++] = g->nodes[i];
	g->n_nodes = k;
}

static int
has_subgraphs(const struct ci_graph *g)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t a = 0; a < g->nodes[i].n_attrs; a++)
			if (g->nodes[i].attrs[a].type == CI_AT_GRAPH ||
			    g->nodes[i].attrs[a].type == CI_AT_GRAPHS)
				return 1;
	return 0;
}

static int
ensure_opset(struct ci_model_proto *p, struct cinfer_err *e)
{
	struct ci_opset *no;
	int used = 0;

	for (size_t i = 0; i < p->graph.n_nodes && !used; i++)
		used = strcmp(p->graph.nodes[i].domain, CI_DOMAIN_CINFER) == 0;	/* public */
	if (!used)
		return 0;
	for (size_t i = 0; i < p->n_opsets; i++)
		if (strcmp(p->opsets[i].domain, CI_DOMAIN_CINFER) == 0)	/* public */
			return 0;
	no = ci_realloc(p->opsets, (p->n_opsets + 1) * sizeof(*no));
	if (no == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	p->opsets = no;
	no[p->n_opsets].domain = ci_strdup(CI_DOMAIN_CINFER);
	no[p->n_opsets].version = 1;
	if (no[p->n_opsets].domain == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	p->n_opsets++;
	return 0;
}

int
ci_graph_optimize(struct ci_model_proto *p, struct cinfer_err *e)
{
	static const ci_g_pass_fn passes[] = {
		ci_pass_conv, ci_pass_quant, ci_pass_transformer, ci_pass_gemm,
	};
	struct ci_graph *g = &p->graph;

	if (!ci_graph_optimize_enabled() || !p->has_graph || has_subgraphs(g))
		return 0;
	for (size_t i = 0; i < CI_ARRAY_LEN(passes); i++) {
		struct ci_gindex *ix = ci_g_index(g, e);
		int rc;
		if (ix == NULL)
			return -1;
		cur_ix = ix;
		rc = passes[i](p, g, ix, e);
		cur_ix = NULL;
		ci_g_index_free(ix);
		compact(g);
		if (rc != 0)
			return -1;
	}
	return ensure_opset(p, e);
}
