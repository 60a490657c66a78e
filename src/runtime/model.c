/*
 * Model load (validation and planning) and execution.
 *
 * Load: parse, name every value, fold Constant nodes, order nodes
 * topologically, look every node up in the operator registry (unknown ops
 * fail the load with CINFER_E_UNSUPPORTED), run each operator's attribute
 * check, and record each value's last use. Run: feed inputs, run nodes in
 * order; outputs come from a buffer arena and go back to it after their
 * last use, so the working set is the live set, and a second run with the
 * same shapes allocates nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/rt.h"
#include "runtime/graph.h"
#include "runtime/parallel.h"

#define STAGE "runtime.model"
#define MAX_BUFS 65536
#define CI_IO_SPARE 4

enum { V_INTERM = 0, V_INPUT, V_CONST, V_OUTER };

struct name_ent {
	const char *name;
	int id;
};

struct rt_value {
	const char *name;
	int kind;
	int last_use;		/* index into the ordered nodes; -1 none */
	int is_output;
	int has_consumer;
	int buf;		/* arena buffer while live, -1 otherwise */
	int live;
	struct ci_tensor t;	/* const: borrowed from the proto (or owned) */
	const struct ci_value_info *info;	/* declared (inputs) */
	int producer;		/* node index in file order (load only); -1 none */
	struct ci_tensor *src;	/* V_CONST from an initializer: the proto's tensor */
	int need;		/* V_CONST, at load: readers that still want the data */
	int outer;		/* V_OUTER: the value's id in the parent graph */
};

struct rt_node {
	const struct ci_node *n;
	const struct ci_op *op;
	int opset;
	int *in;		/* value ids, -1 omitted */
	int *out;
	int *implicit;		/* values its subgraphs read from this scope */
	size_t n_implicit;
	struct cinfer_model **subs;	/* one per graph attribute, in order */
	size_t n_subs;
	uint32_t const_mask;	/* ci_kctx.const_mask, set after the build */
	struct ci_node_state state;
};

struct arena_buf {
	void *base;		/* from ci_alloc */
	void *p;		/* 64-byte aligned */
	size_t cap;
	int used;		/* values (and views of them) holding it; 0: free */
};

struct ci_exec {
	struct arena_buf *bufs;
	size_t n_bufs;
	size_t bytes;		/* total held */
	size_t limit;		/* cap on bytes (cinfer_model_set_memory_limit) */
	int scratch[32];
	int n_scratch;
	struct cinfer_model *m;
	struct rt_node *cur;
};

/*
 * A graph ready to run: the model's main graph, or a subgraph of an If,
 * Loop or Scan node (then proto is unused and parent is the enclosing
 * graph, whose values it reads by name as V_OUTER values).
 */
struct cinfer_model {
	struct ci_model_proto proto;
	struct cinfer_model *parent, *root;
	int depth;
	struct name_ent *tab;	/* sorted local names, during build only */
	size_t n_tab, cap_vals;
	struct rt_value *vals;
	size_t n_vals;
	struct rt_node *nodes;
	size_t n_nodes;
	int *inputs;
	size_t n_inputs;
	int *outputs;
	size_t n_outputs;
	struct ci_exec x;
	int threads;
	struct ci_pool *pool;	/* root only: workers for threads > 1 */
	struct ci_tensor **io;	/* per-node input and output pointers */
	size_t max_in, max_out;
};

/* ---- arena ------------------------------------------------------------------ */
static int
arena_get(struct ci_exec *x, size_t size, struct cinfer_err *e)
{
	int best = -1, freeslot = -1;

	if (size == 0)
		size = 1;
	for (size_t i = 0; i < x->n_bufs; i++) {
		struct arena_buf *b = &x->bufs[i];
		if (b->used)
			continue;
		if (b->base == NULL) {
			if (freeslot < 0)
				freeslot = (int)i;
			continue;
		}
		if (b->cap >= size && (best < 0 || b->cap < x->bufs[best].cap))
			best = (int)i;
	}
	if (best >= 0 && x->bufs[best].cap <= size * 4 + 4096) {
		x->bufs[best].used = 1;
		return best;
	}
	if (freeslot < 0) {
		struct arena_buf *nb;
		if (x->n_bufs >= MAX_BUFS)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "too many live buffers");
		nb = ci_realloc(x->bufs, (x->n_bufs + 1) * sizeof(*nb));
		if (nb == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		x->bufs = nb;
		freeslot = (int)x->n_bufs++;
		memset(&x->bufs[freeslot], 0, sizeof(*nb));
	}
	if (size > SIZE_MAX - 64 || size > x->limit - x->bytes)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "tensor memory over the limit of %zu bytes",
		    x->limit);
	{
		struct arena_buf *b = &x->bufs[freeslot];
		b->base = ci_alloc(size + 64);
		if (b->base == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory (%zu bytes)", size);
		b->p = (void *)(((uintptr_t)b->base + 63) & ~(uintptr_t)63);
		b->cap = size;
		b->used = 1;
		x->bytes += size;
	}
	return freeslot;
}

static void
arena_put(struct ci_exec *x, int i)
{
	if (i >= 0 && (size_t)i < x->n_bufs && x->bufs[i].used > 0)
		x->bufs[i].used--;
}

static void
arena_clear(struct ci_exec *x)
{
	for (size_t i = 0; i < x->n_bufs; i++)
		ci_free(x->bufs[i].base);
	ci_free(x->bufs);
	x->bufs = NULL;
	x->n_bufs = 0;
}

/* ---- operator-facing helpers ------------------------------------------------ */
int
ci_op_fail(struct ci_kctx *k, struct cinfer_err *e, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ci_fail(e, CINFER_E_MALFORMED, CI_STAGE_OP, "%s %s: %s", k->node->op_type,
	    k->node->name, msg);
}

int
ci_out(struct ci_kctx *k, size_t i, int dtype, int ndim, const int64_t *dims,
    struct cinfer_err *e)
{
	struct ci_exec *x = k->x;
	struct rt_value *v;
	size_t count, size;
	int id, b;
	int64_t d[CI_RT_MAX_DIMS];

	if (i >= k->n_out || k->out[i] == NULL)
		return 0;	/* omitted optional output: nothing to make */
	if (ndim > 0)
		memcpy(d, dims, sizeof(int64_t) * (size_t)ndim);
	if (ci_shape_count(dtype, ndim, d, &count, &size, e) != 0)
		return -1;
	id = x->cur->out[i];
	v = &x->m->vals[id];
	if (v->buf >= 0) {
		arena_put(x, v->buf);
		v->buf = -1;
	}
	b = arena_get(x, size, e);
	if (b < 0)
		return -1;
	v->buf = b;
	v->live = 1;
	v->t.dtype = dtype;
	v->t.ndim = ndim;
	memcpy(v->t.dims, d, sizeof(int64_t) * (size_t)ndim);
	v->t.count = count;
	v->t.data = x->bufs[b].p;
	v->t.cap = x->bufs[b].cap;
	v->t.owned = 0;
	return 0;
}

int
ci_out_view(struct ci_kctx *k, size_t i, size_t in_i, int ndim, const int64_t *dims,
    struct cinfer_err *e)
{
	struct ci_exec *x = k->x;
	const struct ci_tensor *src = ci_in(k, in_i);
	struct rt_value *v, *sv;
	size_t count, size;
	int64_t d[CI_RT_MAX_DIMS];

	if (i >= k->n_out || k->out[i] == NULL)
		return 0;
	if (src == NULL || ndim < 0 || ndim > CI_RT_MAX_DIMS)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "view of a missing input");
	if (ndim > 0)
		memcpy(d, dims, sizeof(int64_t) * (size_t)ndim);
	if (ci_shape_count(src->dtype, ndim, d, &count, &size, e) != 0)
		return -1;
	if (count != src->count)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "view of %zu elements as %zu",
		    src->count, count);
	v = &x->m->vals[x->cur->out[i]];
	sv = &x->m->vals[x->cur->in[in_i]];
	if (v->buf >= 0) {
		arena_put(x, v->buf);
		v->buf = -1;
	}
	/* an arena buffer stays taken while any view of it lives; constants,
	 * graph inputs and outer values outlive the views anyway */
	if (sv->kind == V_INTERM && sv->buf >= 0) {
		x->bufs[sv->buf].used++;
		v->buf = sv->buf;
	}
	v->live = 1;
	v->t.dtype = src->dtype;
	v->t.ndim = ndim;
	memcpy(v->t.dims, d, sizeof(int64_t) * (size_t)ndim);
	v->t.count = count;
	v->t.data = src->data;
	v->t.cap = src->cap;
	v->t.owned = 0;
	return 0;
}

int
ci_out_like(struct ci_kctx *k, size_t i, int dtype, const struct ci_tensor *t,
    struct cinfer_err *e)
{
	return ci_out(k, i, dtype, t->ndim, t->dims, e);
}

void *
ci_scratch(struct ci_kctx *k, size_t size, struct cinfer_err *e)
{
	struct ci_exec *x = k->x;
	int b;

	if (x->n_scratch >= (int)CI_ARRAY_LEN(x->scratch)) {
		ci_fail(e, CINFER_E_INTERNAL, STAGE, "too many scratch buffers");
		return NULL;
	}
	b = arena_get(x, size, e);
	if (b < 0)
		return NULL;
	x->scratch[x->n_scratch++] = b;
	return x->bufs[b].p;
}

int
ci_axis(int64_t axis, int rank)
{
	if (axis < -(int64_t)rank || axis >= rank)
		return -1;
	return (int)(axis < 0 ? axis + rank : axis);
}

int
ci_broadcast(int na, const int64_t *da, int nb, const int64_t *db, int *nout, int64_t *dout)
{
	int n = na > nb ? na : nb;

	for (int i = 0; i < n; i++) {
		int ia = i - (n - na), ib = i - (n - nb);
		int64_t a = ia >= 0 ? da[ia] : 1, b = ib >= 0 ? db[ib] : 1;
		if (a == b || b == 1)
			dout[i] = a;
		else if (a == 1)
			dout[i] = b;
		else
			return -1;
	}
	*nout = n;
	return 0;
}

/* ---- load ------------------------------------------------------------------ */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct name_ent *)a)->name, ((const struct name_ent *)b)->name);
}

static int
lookup(const struct name_ent *tab, size_t n, const char *name)
{
	struct name_ent key = { name, 0 }, *hit;

	hit = bsearch(&key, tab, n, sizeof(*tab), name_cmp);
	return hit ? hit->id : -1;
}

static int
model_opset(const struct ci_model_proto *p, const char *domain)
{
	for (size_t i = 0; i < p->n_opsets; i++) {
		const char *d = p->opsets[i].domain;
		int def_a = d[0] == '\0' || strcmp(d, "ai.onnx") == 0;	/* public */
		int def_b = domain[0] == '\0' || strcmp(domain, "ai.onnx") == 0;	/* public */
		if ((def_a && def_b) || strcmp(d, domain) == 0)	/* public */
			return (int)p->opsets[i].version;
	}
	return -1;
}

/* Makes the tensor of a Constant node (folded at load). */
static int
fold_constant(const struct ci_node *n, struct ci_tensor *t, struct cinfer_err *e)
{
	const struct ci_attr *a;

	memset(t, 0, sizeof(*t));
	if (n->n_attrs != 1)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "Constant %s: need one attribute",
		    n->name);
	a = &n->attrs[0];
	if (strcmp(a->name, "value") == 0 && a->t) {	/* public */
		*t = *a->t;
		t->owned = 0;
		t->name = NULL;
		return 0;
	}
	if (strcmp(a->name, "value_float") == 0 && a->type == CI_AT_FLOAT) {	/* public */
		t->dtype = CI_DT_FLOAT;
		t->ndim = 0;
		t->count = 1;
		t->data = ci_memdup(&a->f, sizeof(float));
	} else if (strcmp(a->name, "value_int") == 0 && a->type == CI_AT_INT) {	/* public */
		t->dtype = CI_DT_INT64;
		t->count = 1;
		t->data = ci_memdup(&a->i, sizeof(int64_t));
	} else if (strcmp(a->name, "value_floats") == 0 && a->type == CI_AT_FLOATS) {	/* public */
		t->dtype = CI_DT_FLOAT;
		t->ndim = 1;
		t->dims[0] = (int64_t)a->n;
		t->count = a->n;
		t->data = ci_memdup(a->floats, a->n ? a->n * sizeof(float) : 1);
	} else if (strcmp(a->name, "value_ints") == 0 && a->type == CI_AT_INTS) {	/* public */
		t->dtype = CI_DT_INT64;
		t->ndim = 1;
		t->dims[0] = (int64_t)a->n;
		t->count = a->n;
		t->data = ci_memdup(a->ints, a->n ? a->n * sizeof(int64_t) : 1);
	} else {
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "Constant %s: attribute %s",
		    n->name, a->name);
	}
	if (t->data == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	t->owned = 1;
	return 0;
}

static void
node_clear(struct rt_node *rn)
{
	ci_free(rn->in);
	ci_free(rn->out);
	ci_free(rn->implicit);
	for (size_t s = 0; rn->subs && s < rn->n_subs; s++)
		cinfer_model_free(rn->subs[s]);
	ci_free(rn->subs);
	if (rn->state.free_fn && rn->state.p)
		rn->state.free_fn(rn->state.p);
	memset(rn, 0, sizeof(*rn));
}

void
cinfer_model_free(struct cinfer_model *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; m->vals && i < m->n_vals; i++)
		if (m->vals[i].kind == V_CONST && m->vals[i].t.owned)
			ci_free(m->vals[i].t.data);
	ci_free(m->vals);
	for (size_t i = 0; m->nodes && i < m->n_nodes; i++)
		node_clear(&m->nodes[i]);
	ci_free(m->nodes);
	ci_free(m->inputs);
	ci_free(m->outputs);
	ci_free(m->tab);
	ci_free(m->io);
	arena_clear(&m->x);
	ci_pool_free(m->pool);
	if (m->parent == NULL)
		ci_onnx_clear(&m->proto);
	ci_free(m);
}

/* Appends a value; vals grows (ids stay valid, pointers do not). */
static int
add_value(struct cinfer_model *m, const char *name, int kind, int producer,
    struct cinfer_err *e)
{
	struct rt_value *v;

	if (m->n_vals == m->cap_vals) {
		size_t nc = m->cap_vals ? m->cap_vals * 2 : 16;
		struct rt_value *nv;
		if (nc > CI_RT_MAX_VALUES)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "too many values");
		nv = ci_realloc(m->vals, nc * sizeof(*nv));
		if (nv == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		memset(nv + m->cap_vals, 0, (nc - m->cap_vals) * sizeof(*nv));
		m->vals = nv;
		m->cap_vals = nc;
	}
	v = &m->vals[m->n_vals];
	v->name = name;
	v->kind = kind;
	v->last_use = -1;
	v->buf = -1;
	v->producer = producer;
	v->outer = -1;
	return (int)m->n_vals++;
}

/*
 * The id of name in graph m: a local value, or a value of an enclosing
 * graph (made a local V_OUTER value that is bound when m runs); -1 if none.
 */
static int
resolve(struct cinfer_model *m, const char *name, struct cinfer_err *e)
{
	int id, pid;

	if (m->tab != NULL && (id = lookup(m->tab, m->n_tab, name)) >= 0)
		return id;
	for (size_t i = 0; i < m->n_vals; i++)
		if (m->vals[i].kind == V_OUTER && strcmp(m->vals[i].name, name) == 0)	/* public */
			return (int)i;
	if (m->parent == NULL)
		return -1;
	pid = resolve(m->parent, name, e);
	if (pid < 0)
		return pid;
	id = add_value(m, m->parent->vals[pid].name, V_OUTER, -1, e);
	if (id >= 0)
		m->vals[id].outer = pid;
	return id < 0 ? -2 : id;
}

static int build(struct cinfer_model *m, const struct ci_graph *g, struct cinfer_err *e);

/* The context an op sees for node rn (inputs and outputs already bound). */
static void
kctx_init(struct ci_kctx *k, struct cinfer_model *m, struct rt_node *rn, struct ci_tensor **inp,
    struct ci_tensor **outp, int threads)
{
	memset(k, 0, sizeof(*k));
	k->x = &m->x;
	k->node = rn->n;
	k->opset = rn->opset;
	k->n_in = rn->n->n_in;
	k->n_out = rn->n->n_out;
	k->in = inp;
	k->out = outp;
	k->threads = threads;
	k->const_mask = rn->const_mask;
	k->state = &rn->state;
}

/*
 * Marks each node's constant inputs and runs the ops' prepare hooks, which
 * see only those inputs (the others are NULL) and may keep derived data
 * (packed weights, folded parameters) with ci_state_set.
 */
static void
const_free(struct rt_value *v)
{
	if (v->t.owned)
		ci_free(v->t.data);
	else if (v->src && v->src->owned && v->src->data == v->t.data)
		ci_free(v->src->data);
	else
		return;	/* borrowed from an attribute: stays */
	if (v->src && v->src->data == v->t.data)
		v->src->data = NULL;
	v->t.data = NULL;
	v->t.owned = 0;
}

static int
prepare_nodes(struct cinfer_model *m, struct cinfer_err *e)
{
	/* who reads each constant (a subgraph's reads count as keeping it) */
	for (size_t i = 0; i < m->n_vals; i++)
		m->vals[i].need = m->vals[i].is_output ? 1 : 0;
	for (size_t i = 0; i < m->n_nodes; i++) {
		const struct rt_node *rn = &m->nodes[i];
		for (size_t j = 0; j < rn->n->n_in; j++)
			if (rn->in[j] >= 0)
				m->vals[rn->in[j]].need++;
		for (size_t j = 0; j < rn->n_implicit; j++)
			m->vals[rn->implicit[j]].need++;
	}
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct rt_node *rn = &m->nodes[i];
		const struct ci_node *n = rn->n;
		struct ci_tensor **inp = m->io, **outp = m->io + m->max_in;
		struct ci_kctx k = { 0 };

		rn->const_mask = 0;
		for (size_t j = 0; j < n->n_in; j++) {
			const struct rt_value *v = rn->in[j] >= 0 ? &m->vals[rn->in[j]] : NULL;
			int c = v && v->kind == V_CONST;
			if (c && j < 32)
				rn->const_mask |= 1u << j;
			inp[j] = c ? &m->vals[rn->in[j]].t : NULL;
		}
		if (rn->op->prepare == NULL)
			continue;
		for (size_t j = 0; j < m->max_out + CI_IO_SPARE; j++)
			outp[j] = NULL;
		kctx_init(&k, m, rn, inp, outp, 1);
		if (rn->op->prepare(&k, e) != 0)
			return -1;
		/* constants this node no longer reads: freed once nobody does */
		for (size_t j = 0; j < n->n_in && j < 32; j++) {
			struct rt_value *v;
			if (!(k.drop_mask >> j & 1u) || rn->in[j] < 0)
				continue;
			v = &m->vals[rn->in[j]];
			/* subgraph constants are never dropped */
			if (v->kind == V_CONST && m->parent == NULL && --v->need == 0)
				const_free(v);
		}
	}
	return 0;
}

size_t
ci_model_const_bytes(const struct cinfer_model *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_vals; i++)
		if (m->vals[i].kind == V_CONST && m->vals[i].t.data)
			n += m->vals[i].t.count * ci_dt_size(m->vals[i].t.dtype);
	return n;
}

void
ci_const_drop(struct ci_kctx *k, size_t i)
{
	if (ci_in_const(k, i))
		k->drop_mask |= 1u << i;
}

static const struct ci_formal *
formal(const struct ci_formal *f, int n, size_t j)
{
	if (j < (size_t)n)
		return &f[j];
	if (n > 0 && f[n - 1].variadic)
		return &f[n - 1];
	return NULL;
}

static int
shares_type(const struct ci_formal *f)
{
	return f->group >= 0 && f->group < 32 && !(f->variadic && !f->homogeneous);
}

/*
 * Element types at load, from the ONNX schemas (ops/arity.c): every known
 * input type must be one the spec allows, inputs of one type constraint
 * must agree, and outputs get the constraint's type (or the only allowed
 * one, or Cast's "to"). Unknown types (0) are not checked; kernels still
 * check what they get at run time.
 */
static int
infer_types(struct cinfer_model *m, const struct ci_graph *g, struct cinfer_err *e)
{
	int *dt = ci_calloc(m->n_vals + 1, sizeof(int)), rc = -1;

	if (dt == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	for (size_t i = 0; i < m->n_vals; i++) {
		const struct rt_value *v = &m->vals[i];
		if (v->kind == V_CONST)
			dt[i] = v->t.dtype;
		else if (v->kind == V_INPUT && v->info->kind == 1)
			dt[i] = v->info->dtype;
	}
	for (size_t i = 0; i < m->n_nodes; i++) {
		const struct rt_node *rn = &m->nodes[i];
		const struct ci_node *n = rn->n;
		const struct ci_op_arity *ar = n->domain[0] == '\0' ?
		    ci_op_arity_find(n->op_type, rn->opset) : NULL;
		int gdt[32] = { 0 };
		if (ar == NULL)
			continue;
		for (size_t j = 0; j < n->n_in; j++) {
			const struct ci_formal *f = formal(ar->fin, ar->n_fin, j);
			int d = rn->in[j] >= 0 ? dt[rn->in[j]] : 0;
			if (f == NULL || d <= 0 || d >= 32 || f->mask == 0)
				continue;
			if (!(f->mask & (1u << d))) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "node %s (%s-%d): input %zu is %s, "
				    "which the spec does not allow", n->name, n->op_type, ar->since, j,
				    ci_dt_name(d));
				goto out;
			}
			if (!shares_type(f))
				continue;
			if (gdt[f->group] == 0) {
				gdt[f->group] = d;
			} else if (gdt[f->group] != d) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "node %s (%s): inputs of one type are "
				    "%s and %s", n->name, n->op_type, ci_dt_name(gdt[f->group]), ci_dt_name(d));
				goto out;
			}
		}
		for (size_t j = 0; j < n->n_out; j++) {
			const struct ci_formal *f = formal(ar->fout, ar->n_fout, j);
			int d = 0;
			if (f == NULL || rn->out[j] < 0)
				continue;
			if (shares_type(f))
				d = gdt[f->group];
			if (d == 0 && f->mask != 0 && (f->mask & (f->mask - 1)) == 0)
				d = __builtin_ctz(f->mask);
			if (d == 0 && strcmp(n->op_type, "Cast") == 0)	/* public */
				d = (int)ci_attr_i(n, "to", 0);
			dt[rn->out[j]] = d > 0 && d < CI_DT_COUNT ? d : 0;
		}
	}
	for (size_t i = 0; i < m->n_outputs; i++) {
		const struct ci_value_info *vi = &g->outputs[i];
		int d = dt[m->outputs[i]];
		if (vi->kind == 1 && vi->dtype != CI_DT_UNDEFINED && d != 0 && d != vi->dtype) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "output %s is declared %s but computes %s",
			    vi->name, ci_dt_name(vi->dtype), ci_dt_name(d));
			goto out;
		}
	}
	rc = 0;
out:
	ci_free(dt);
	return rc;
}

/* Builds the subgraphs of node n (If/Loop/Scan bodies) as children of m. */
static int
build_subs(struct cinfer_model *m, const struct ci_node *n, struct rt_node *rn,
    struct cinfer_err *e)
{
	size_t ns = 0;

	for (size_t a = 0; a < n->n_attrs; a++)
		if (n->attrs[a].type == CI_AT_GRAPH && n->attrs[a].g != NULL)
			ns++;
		else if (n->attrs[a].type == CI_AT_GRAPHS)
			return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "node %s: graphs attribute", n->name);
	if (ns == 0)
		return 0;
	if (m->depth + 1 > CI_RT_MAX_DEPTH)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "subgraphs nested too deep");
	rn->subs = ci_calloc(ns, sizeof(*rn->subs));
	if (rn->subs == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	for (size_t a = 0; a < n->n_attrs; a++) {
		struct cinfer_model *c;
		if (n->attrs[a].type != CI_AT_GRAPH || n->attrs[a].g == NULL)
			continue;
		c = ci_calloc(1, sizeof(*c));
		if (c == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		rn->subs[rn->n_subs++] = c;
		c->parent = m;
		c->root = m->root;
		c->depth = m->depth + 1;
		c->threads = 1;
		c->x.m = c;
		c->x.limit = m->x.limit;
		if (build(c, n->attrs[a].g, e) != 0)
			return -1;
	}
	/* values of this scope that the subgraphs read keep living until n ran */
	for (size_t s = 0; s < rn->n_subs; s++) {
		const struct cinfer_model *c = rn->subs[s];
		for (size_t v = 0; v < c->n_vals; v++) {
			int *ni;
			if (c->vals[v].kind != V_OUTER)
				continue;
			ni = ci_realloc(rn->implicit, (rn->n_implicit + 1) * sizeof(int));
			if (ni == NULL)
				return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			rn->implicit = ni;
			rn->implicit[rn->n_implicit++] = c->vals[v].outer;
		}
	}
	return 0;
}

static int
build(struct cinfer_model *m, const struct ci_graph *g, struct cinfer_err *e)
{
	size_t ni = 0, no = 0, nloc;
	int rc = -1;
	int *indeg = NULL, *order = NULL, *queue = NULL;
	size_t qh = 0, qt = 0, nord = 0;
	struct rt_node *tmp = NULL;	/* per file-order node, moved into m->nodes */

	if (m->parent == NULL && m->proto.has_functions)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "model-local functions");
	if (g->n_sparse)
		return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "sparse initializers");
	nloc = g->n_inits + g->n_inputs;
	for (size_t i = 0; i < g->n_nodes; i++)
		nloc += g->nodes[i].n_out;
	if (nloc > CI_RT_MAX_VALUES)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "too many values");
	m->tab = ci_calloc(nloc + 1, sizeof(*m->tab));
	tmp = ci_calloc(g->n_nodes + 1, sizeof(*tmp));
	indeg = ci_calloc(g->n_nodes + 1, sizeof(int));
	order = ci_calloc(g->n_nodes + 1, sizeof(int));
	queue = ci_calloc(g->n_nodes + 1, sizeof(int));
	m->inputs = ci_calloc(g->n_inputs + 1, sizeof(int));
	m->outputs = ci_calloc(g->n_outputs + 1, sizeof(int));
	if (!m->tab || !tmp || !indeg || !order || !queue || !m->inputs || !m->outputs) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
#define ADD_LOCAL(nm, k, prod) do { \
		int id_ = add_value(m, (nm), (k), (prod), e); \
		if (id_ < 0) \
			goto out; \
		m->tab[m->n_tab].name = (nm); \
		m->tab[m->n_tab++].id = id_; \
	} while (0)
	for (size_t i = 0; i < g->n_inits; i++) {
		ADD_LOCAL(g->inits[i].name, V_CONST, -1);
		m->vals[m->n_vals - 1].src = &g->inits[i];
		m->vals[m->n_vals - 1].t = g->inits[i];
		m->vals[m->n_vals - 1].t.owned = 0;
		m->vals[m->n_vals - 1].t.name = NULL;
	}
	qsort(m->tab, m->n_tab, sizeof(*m->tab), name_cmp);
	for (size_t i = 1; i < m->n_tab; i++)
		if (strcmp(m->tab[i - 1].name, m->tab[i].name) == 0) {	/* public */
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "initializer %s twice", m->tab[i].name);
			goto out;
		}
	{
		size_t n_init = m->n_tab;
		for (size_t i = 0; i < g->n_inputs; i++) {
			if (lookup(m->tab, n_init, g->inputs[i].name) >= 0)
				continue;	/* initializer default: a constant here */
			if (g->inputs[i].kind == 0) {
				ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "input %s is not a tensor",
				    g->inputs[i].name);
				goto out;
			}
			m->inputs[ni++] = (int)m->n_vals;
			ADD_LOCAL(g->inputs[i].name, V_INPUT, -1);
			m->vals[m->n_vals - 1].info = &g->inputs[i];
		}
	}
	m->n_inputs = ni;
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct ci_node *n = &g->nodes[i];
		tmp[i].n = n;
		tmp[i].out = ci_calloc(n->n_out + 1, sizeof(int));
		tmp[i].in = ci_calloc(n->n_in + 1, sizeof(int));
		if (tmp[i].out == NULL || tmp[i].in == NULL) {
			ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			goto out;
		}
		for (size_t j = 0; j < n->n_out; j++) {
			if (n->outputs[j][0] == '\0') {
				/* an omitted output still gets a (nameless, unused) value so
				 * that kernels always have somewhere to write */
				int id = add_value(m, "", V_INTERM, (int)i, e);
				if (id < 0)
					goto out;
				tmp[i].out[j] = id;
				continue;
			}
			tmp[i].out[j] = (int)m->n_vals;
			ADD_LOCAL(n->outputs[j], V_INTERM, (int)i);
		}
	}
	qsort(m->tab, m->n_tab, sizeof(*m->tab), name_cmp);
	for (size_t i = 1; i < m->n_tab; i++)
		if (strcmp(m->tab[i - 1].name, m->tab[i].name) == 0) {	/* public */
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "value %s defined twice", m->tab[i].name);
			goto out;
		}
	/* resolve inputs (locally or in enclosing graphs), build subgraphs */
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct ci_node *n = &g->nodes[i];
		for (size_t j = 0; j < n->n_in; j++) {
			int id;
			if (n->inputs[j][0] == '\0') {
				tmp[i].in[j] = -1;
				continue;
			}
			id = resolve(m, n->inputs[j], e);
			if (id == -2)
				goto out;
			if (id < 0) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "node %s (%s): input %s undefined",
				    n->name, n->op_type, n->inputs[j]);
				goto out;
			}
			tmp[i].in[j] = id;
		}
		if (build_subs(m, n, &tmp[i], e) != 0)
			goto out;
	}
	for (size_t i = 0; i < g->n_nodes; i++) {
		for (size_t j = 0; j < tmp[i].n->n_in; j++)
			if (tmp[i].in[j] >= 0 && m->vals[tmp[i].in[j]].producer >= 0)
				indeg[i]++;
		for (size_t j = 0; j < tmp[i].n_implicit; j++)
			if (m->vals[tmp[i].implicit[j]].producer >= 0)
				indeg[i]++;
	}
	/* Kahn: stable (file order among ready nodes) */
	for (size_t i = 0; i < g->n_nodes; i++)
		if (indeg[i] == 0)
			queue[qt++] = (int)i;
	while (qh < qt) {
		int ni2 = queue[qh++];
		order[nord++] = ni2;
		for (size_t j = 0; j < tmp[ni2].n->n_out; j++) {
			int id = tmp[ni2].out[j];
			if (id < 0)
				continue;
			/* consumers: scan (graphs are small enough; O(N*E) worst) */
			for (size_t c = 0; c < g->n_nodes; c++) {
				for (size_t k = 0; k < tmp[c].n->n_in; k++)
					if (tmp[c].in[k] == id && --indeg[c] == 0)
						queue[qt++] = (int)c;
				for (size_t k = 0; k < tmp[c].n_implicit; k++)
					if (tmp[c].implicit[k] == id && --indeg[c] == 0)
						queue[qt++] = (int)c;
			}
		}
	}
	if (nord != g->n_nodes) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "graph has a cycle");
		goto out;
	}
	/* outputs */
	for (size_t i = 0; i < g->n_outputs; i++) {
		int id = resolve(m, g->outputs[i].name, e);
		if (id == -2)
			goto out;
		if (id < 0) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "output %s undefined", g->outputs[i].name);
			goto out;
		}
		if (g->outputs[i].kind == 0) {
			ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "output %s is not a tensor",
			    g->outputs[i].name);
			goto out;
		}
		m->outputs[no++] = id;
		m->vals[id].is_output = 1;
	}
	m->n_outputs = no;
	/* nodes in order: fold constants, find ops, check attributes */
	m->nodes = ci_calloc(g->n_nodes + 1, sizeof(*m->nodes));
	if (m->nodes == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto out;
	}
	for (size_t oi = 0; oi < nord; oi++) {
		int i = order[oi];
		const struct ci_node *n = &g->nodes[i];
		struct rt_node *rn;
		int opset = model_opset(&m->root->proto, n->domain);
		if (opset < 0) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "node %s: no opset for domain '%s'",
			    n->name, n->domain);
			goto out;
		}
		if (strcmp(n->op_type, "Constant") == 0 && n->domain[0] == '\0' &&	/* public */
		    n->n_out == 1 && tmp[i].out[0] >= 0) {
			struct rt_value *v = &m->vals[tmp[i].out[0]];
			if (fold_constant(n, &v->t, e) != 0)
				goto out;
			if (ci_dt_size(v->t.dtype) == 0) {
				ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "Constant of type %s",
				    ci_dt_name(v->t.dtype));
				if (v->t.owned)
					ci_free(v->t.data);
				v->t.owned = 0;
				goto out;
			}
			v->kind = V_CONST;
			continue;
		}
		if (n->n_out == 0) {
			ci_fail(e, CINFER_E_MALFORMED, STAGE, "node %s (%s) has no outputs", n->name,
			    n->op_type);
			goto out;
		}
		tmp[i].opset = opset;
		tmp[i].op = ci_op_find(n->domain, n->op_type, opset);
		if (tmp[i].op == NULL) {
			ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "operator %s%s%s (opset %d) not supported",
			    n->domain, n->domain[0] ? "." : "", n->op_type, opset);
			goto out;
		}
		{
			const struct ci_op_arity *ar = n->domain[0] == '\0' ?
			    ci_op_arity_find(n->op_type, opset) : NULL;
			if (ar && ((long)n->n_in < ar->min_in || (long)n->n_in > ar->max_in ||
			    (long)n->n_out < ar->min_out || (long)n->n_out > ar->max_out)) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "node %s (%s-%d): %zu inputs and %zu outputs, the spec allows %d..%d and %d..%d",
				    n->name, n->op_type, ar->since, n->n_in, n->n_out, ar->min_in, ar->max_in,
				    ar->min_out, ar->max_out);
				goto out;
			}
		}
		if (tmp[i].op->check && tmp[i].op->check(n, opset, e) != 0)
			goto out;
		rn = &m->nodes[m->n_nodes++];
		*rn = tmp[i];
		memset(&tmp[i], 0, sizeof(tmp[i]));
	}
	if (infer_types(m, g, e) != 0)
		goto out;
	/* per-node input/output pointer arrays, sized for the widest node */
	{
		size_t mi = 1, mo = 1;
		for (size_t i = 0; i < m->n_nodes; i++) {
			mi = m->nodes[i].n->n_in > mi ? m->nodes[i].n->n_in : mi;
			mo = m->nodes[i].n->n_out > mo ? m->nodes[i].n->n_out : mo;
		}
		/* spare NULL slots: kernels may look at optional outputs past n_out */
		m->io = ci_calloc(mi + mo + CI_IO_SPARE, sizeof(*m->io));
		if (m->io == NULL) {
			ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			goto out;
		}
		m->max_in = mi;
		m->max_out = mo;
	}
	/* lifetimes */
	for (size_t i = 0; i < m->n_nodes; i++) {
		const struct rt_node *rn = &m->nodes[i];
		for (size_t j = 0; j < rn->n->n_in; j++)
			if (rn->in[j] >= 0) {
				m->vals[rn->in[j]].last_use = (int)i;
				m->vals[rn->in[j]].has_consumer = 1;
			}
		for (size_t j = 0; j < rn->n_implicit; j++) {
			m->vals[rn->implicit[j]].last_use = (int)i;
			m->vals[rn->implicit[j]].has_consumer = 1;
		}
	}
	if (prepare_nodes(m, e) != 0)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; tmp && i < g->n_nodes; i++)
		node_clear(&tmp[i]);
	ci_free(tmp);
	ci_free(m->tab);
	m->tab = NULL;
	m->n_tab = 0;
	ci_free(indeg);
	ci_free(order);
	ci_free(queue);
	return rc;
#undef ADD_LOCAL
}

int
cinfer_model_load_mem(const uint8_t *buf, size_t size, const char *dir,
    struct cinfer_model **out, struct cinfer_err *e)
{
	struct cinfer_model *m;

	*out = NULL;
	m = ci_calloc(1, sizeof(*m));
	if (m == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	m->threads = 1;
	m->x.m = m;
	m->x.limit = SIZE_MAX;
	m->root = m;
	if (ci_onnx_parse(buf, size, dir, &m->proto, e) != 0 ||
	    ci_graph_optimize(&m->proto, e) != 0 || build(m, &m->proto.graph, e) != 0) {
		cinfer_model_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

int
cinfer_model_load(const char *path, struct cinfer_model **out, struct cinfer_err *e)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	char *dir = NULL, *slash;
	int rc;

	*out = NULL;
	if (ci_file_read(path, CI_RT_MAX_MODEL_SIZE, &buf, &size, e) != 0)
		return -1;
	dir = ci_strdup(path);
	if (dir == NULL) {
		ci_free(buf);
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	}
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		dir[0] = '.';
		dir[1] = '\0';
	} else if (slash == dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	rc = cinfer_model_load_mem(buf, size, dir, out, e);
	ci_free(dir);
	ci_free(buf);
	return rc;
}

size_t
cinfer_model_input_count(const struct cinfer_model *m)
{
	return m->n_inputs;
}

size_t
cinfer_model_output_count(const struct cinfer_model *m)
{
	return m->n_outputs;
}

const char *
cinfer_model_input_name(const struct cinfer_model *m, size_t i)
{
	return i < m->n_inputs ? m->vals[m->inputs[i]].name : NULL;
}

const char *
cinfer_model_output_name(const struct cinfer_model *m, size_t i)
{
	return i < m->n_outputs ? m->vals[m->outputs[i]].name : NULL;
}

int
cinfer_model_input_info(const struct cinfer_model *m, size_t i, int *dtype, int *ndim,
    int64_t dims[CINFER_MAX_DIMS])
{
	const struct ci_value_info *vi;

	if (i >= m->n_inputs)
		return -1;
	vi = m->vals[m->inputs[i]].info;
	*dtype = vi->dtype;
	*ndim = vi->ndim;
	for (int d = 0; d < vi->ndim && d < CINFER_MAX_DIMS; d++)
		dims[d] = vi->dims[d];
	return 0;
}

void
cinfer_model_set_memory_limit(struct cinfer_model *m, size_t bytes)
{
	m->x.limit = bytes < m->x.bytes ? m->x.bytes : bytes;
	for (size_t i = 0; i < m->n_nodes; i++)
		for (size_t s = 0; s < m->nodes[i].n_subs; s++)
			cinfer_model_set_memory_limit(m->nodes[i].subs[s], bytes);
}

void
cinfer_model_set_threads(struct cinfer_model *m, int threads)
{
	int t = threads < 1 ? 1 : threads > CI_POOL_MAX ? CI_POOL_MAX : threads;

	if (t == m->threads)
		return;
	/* a pool that cannot start leaves the model on one thread */
	ci_pool_free(m->pool);
	m->pool = t > 1 ? ci_pool_new(t) : NULL;
	m->threads = m->pool ? t : 1;
}

void
ci_parallel(struct ci_kctx *k, size_t n, size_t grain, ci_par_fn fn, void *arg)
{
	struct ci_pool *pool = k->x ? k->x->m->root->pool : NULL;

	if (grain == 0)
		grain = 1;
	if (pool == NULL || k->threads < 2 || n <= grain)
		fn(arg, 0, n);
	else
		ci_pool_run(pool, n, grain, fn, arg);
}

void
ci_state_set(struct ci_kctx *k, void *p, void (*free_fn)(void *p))
{
	if (k->state == NULL) {
		if (free_fn && p)
			free_fn(p);
		return;
	}
	if (k->state->free_fn && k->state->p)
		k->state->free_fn(k->state->p);
	k->state->p = p;
	k->state->free_fn = free_fn;
}

/* ---- run ------------------------------------------------------------------- */
static void
release(struct cinfer_model *m, struct rt_value *v)
{
	if (v->kind != V_INTERM || !v->live)
		return;
	arena_put(&m->x, v->buf);
	v->buf = -1;
	v->live = 0;
	memset(&v->t, 0, sizeof(v->t));
}

static void
release_all(struct cinfer_model *m)
{
	for (size_t i = 0; i < m->n_vals; i++) {
		release(m, &m->vals[i]);
		if (m->vals[i].kind == V_INPUT || m->vals[i].kind == V_OUTER)
			memset(&m->vals[i].t, 0, sizeof(m->vals[i].t));
	}
	for (int i = 0; i < m->x.n_scratch; i++)
		arena_put(&m->x, m->x.scratch[i]);
	m->x.n_scratch = 0;
}

static int
bind_input(struct cinfer_model *m, size_t i, const struct cinfer_tensor *in,
    struct cinfer_err *e)
{
	struct rt_value *v = &m->vals[m->inputs[i]];
	const struct ci_value_info *vi = v->info;
	size_t count, size;

	if (in->ndim < 0 || in->ndim > CI_RT_MAX_DIMS)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "input %s: rank %d", v->name, in->ndim);
	if (ci_shape_count(in->dtype, in->ndim, in->dims, &count, &size, e) != 0)
		return -1;
	if (size != in->size || (size > 0 && in->data == NULL))
		return ci_fail(e, CINFER_E_USAGE, STAGE, "input %s: %zu bytes, shape needs %zu",
		    v->name, in->size, size);
	if (vi->dtype != CI_DT_UNDEFINED && vi->dtype != in->dtype)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "input %s: type %s, model wants %s",
		    v->name, ci_dt_name(in->dtype), ci_dt_name(vi->dtype));
	if (vi->ndim >= 0) {
		if (vi->ndim != in->ndim)
			return ci_fail(e, CINFER_E_USAGE, STAGE, "input %s: rank %d, model wants %d",
			    v->name, in->ndim, vi->ndim);
		for (int d = 0; d < vi->ndim; d++)
			if (vi->dims[d] >= 0 && vi->dims[d] != in->dims[d])
				return ci_fail(e, CINFER_E_USAGE, STAGE,
				    "input %s: dim %d is %lld, model wants %lld", v->name, d,
				    (long long)in->dims[d], (long long)vi->dims[d]);
	}
	memset(&v->t, 0, sizeof(v->t));
	v->t.dtype = in->dtype;
	v->t.ndim = in->ndim;
	memcpy(v->t.dims, in->dims, sizeof(int64_t) * (size_t)in->ndim);
	v->t.count = count;
	v->t.data = in->data;
	v->t.cap = in->size;
	return 0;
}

/* Runs the nodes of m; outputs stay live until release_all(). */
static int
exec_nodes(struct cinfer_model *m, struct cinfer_err *e)
{
	struct ci_tensor **inp = m->io, **outp = m->io + m->max_in;

	/* values read from the enclosing graph: borrow their current tensors */
	for (size_t i = 0; i < m->n_vals; i++) {
		struct rt_value *v = &m->vals[i];
		const struct rt_value *pv;
		if (v->kind != V_OUTER)
			continue;
		pv = &m->parent->vals[v->outer];
		if (pv->kind == V_INTERM && !pv->live)
			return ci_fail(e, CINFER_E_INTERNAL, STAGE, "outer value %s not computed", v->name);
		v->t = pv->t;
		v->t.owned = 0;
		v->t.name = NULL;
	}
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct rt_node *rn = &m->nodes[i];
		const struct ci_node *n = rn->n;
		struct ci_kctx k = { 0 };

		for (size_t j = 0; j < n->n_in; j++) {
			struct rt_value *v = rn->in[j] >= 0 ? &m->vals[rn->in[j]] : NULL;
			if (v && v->kind == V_INTERM && !v->live)
				return ci_fail(e, CINFER_E_INTERNAL, STAGE, "node %s: input %s not computed",
				    n->name, v->name);
			inp[j] = v ? &v->t : NULL;
		}
		for (size_t j = 0; j < n->n_out; j++)
			outp[j] = rn->out[j] >= 0 ? &m->vals[rn->out[j]].t : NULL;
		for (size_t j = n->n_out; j < m->max_out + CI_IO_SPARE; j++)
			outp[j] = NULL;	/* never a stale pointer from the previous node */
		kctx_init(&k, m, rn, inp, outp, m->threads);
		m->x.cur = rn;
		if (rn->op->run(&k, e) != 0)
			return -1;
		for (int s = 0; s < m->x.n_scratch; s++)
			arena_put(&m->x, m->x.scratch[s]);
		m->x.n_scratch = 0;
		for (size_t j = 0; j < n->n_out; j++) {
			struct rt_value *v;
			if (rn->out[j] < 0)
				continue;
			v = &m->vals[rn->out[j]];
			if (!v->live)
				return ci_fail(e, CINFER_E_INTERNAL, STAGE, "node %s (%s): output %zu not made",
				    n->name, n->op_type, j);
			if (!v->has_consumer && !v->is_output)
				release(m, v);
		}
		for (size_t j = 0; j < n->n_in; j++) {
			struct rt_value *v = rn->in[j] >= 0 ? &m->vals[rn->in[j]] : NULL;
			if (v && v->last_use == (int)i && !v->is_output)
				release(m, v);
		}
		for (size_t j = 0; j < rn->n_implicit; j++) {
			struct rt_value *v = &m->vals[rn->implicit[j]];
			if (v->last_use == (int)i && !v->is_output)
				release(m, v);
		}
	}
	return 0;
}

int
cinfer_model_run(struct cinfer_model *m, const struct cinfer_tensor *in, size_t n_in,
    struct cinfer_tensor *out, size_t n_out, struct cinfer_err *e)
{
	int rc = -1;

	memset(out, 0, n_out * sizeof(*out));
	if (n_in != m->n_inputs)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "%zu inputs given, model has %zu",
		    n_in, m->n_inputs);
	if (n_out != m->n_outputs)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "%zu outputs asked, model has %zu",
		    n_out, m->n_outputs);
	for (size_t i = 0; i < n_in; i++)
		if (bind_input(m, i, &in[i], e) != 0)
			goto out;
	if (exec_nodes(m, e) != 0)
		goto out;
	for (size_t i = 0; i < m->n_outputs; i++) {
		const struct ci_tensor *t = &m->vals[m->outputs[i]].t;
		size_t size = t->count * ci_dt_size(t->dtype);
		out[i].dtype = t->dtype;
		out[i].ndim = t->ndim;
		memcpy(out[i].dims, t->dims, sizeof(int64_t) * (size_t)t->ndim);
		out[i].size = size;
		out[i].data = ci_alloc(size ? size : 1);
		if (out[i].data == NULL) {
			ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			goto out;
		}
		if (size)
			memcpy(out[i].data, t->data, size);
	}
	rc = 0;
out:
	release_all(m);
	if (rc != 0)
		for (size_t i = 0; i < n_out; i++)
			cinfer_tensor_clear(&out[i]);
	return rc;
}

/* ---- subgraphs, for the control-flow operators ------------------------------ */
struct cinfer_model *
ci_kctx_subgraph(struct ci_kctx *k, const char *attr)
{
	const struct rt_node *rn = k->x->cur;
	size_t gi = 0;

	for (size_t a = 0; a < rn->n->n_attrs; a++) {
		const struct ci_attr *at = &rn->n->attrs[a];
		if (at->type != CI_AT_GRAPH || at->g == NULL)
			continue;
		if (strcmp(at->name, attr) == 0)	/* public */
			return gi < rn->n_subs ? rn->subs[gi] : NULL;
		gi++;
	}
	return NULL;
}

int
ci_subgraph_run(struct cinfer_model *sg, struct ci_tensor *const *in, size_t n_in,
    struct cinfer_err *e)
{
	if (n_in != sg->n_inputs)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "subgraph takes %zu inputs, given %zu",
		    sg->n_inputs, n_in);
	for (size_t i = 0; i < n_in; i++) {
		struct rt_value *v = &sg->vals[sg->inputs[i]];
		const struct ci_value_info *vi = v->info;
		if (in[i] == NULL)
			return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "subgraph input %s omitted", v->name);
		if (vi->kind == 1 && vi->dtype != CI_DT_UNDEFINED && vi->dtype != in[i]->dtype) {
			release_all(sg);
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "subgraph input %s: type %s, declared %s",
			    v->name, ci_dt_name(in[i]->dtype), ci_dt_name(vi->dtype));
		}
		v->t = *in[i];
		v->t.owned = 0;
		v->t.name = NULL;
	}
	if (exec_nodes(sg, e) != 0) {
		release_all(sg);
		return -1;
	}
	return 0;
}

const struct ci_tensor *
ci_subgraph_output(const struct cinfer_model *sg, size_t i)
{
	return i < sg->n_outputs ? &sg->vals[sg->outputs[i]].t : NULL;
}

void
ci_subgraph_release(struct cinfer_model *sg)
{
	release_all(sg);
}

void
cinfer_tensor_clear(struct cinfer_tensor *t)
{
	if (t == NULL)
		return;
	ci_free(t->data);
	memset(t, 0, sizeof(*t));
}

void
cinfer_buf_free(void *p)
{
	ci_free(p);
}

int
cinfer_tensor_read_pb(const uint8_t *buf, size_t size, struct cinfer_tensor *t, char **name,
    struct cinfer_err *e)
{
	struct ci_rd r;
	struct ci_tensor ct;

	memset(t, 0, sizeof(*t));
	if (name)
		*name = NULL;
	ci_rd_init(&r, buf, size);
	if (ci_tensor_parse(&r, NULL, &ct, e) != 0)
		return -1;
	t->dtype = ct.dtype;
	t->ndim = ct.ndim;
	memcpy(t->dims, ct.dims, sizeof(ct.dims));
	t->size = ct.count * ci_dt_size(ct.dtype);
	t->data = ct.data;
	ct.data = NULL;
	if (name) {
		*name = ct.name;
		ct.name = NULL;
	}
	ci_tensor_clear(&ct);
	return 0;
}

int
cinfer_tensor_write_pb(const struct cinfer_tensor *t, const char *name, uint8_t **out,
    size_t *out_size, struct cinfer_err *e)
{
	struct ci_tensor ct = { 0 };
	size_t size;

	*out = NULL;
	*out_size = 0;
	if (t->ndim < 0 || t->ndim > CI_RT_MAX_DIMS)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "rank %d", t->ndim);
	ct.dtype = t->dtype;
	ct.ndim = t->ndim;
	memcpy(ct.dims, t->dims, sizeof(int64_t) * (size_t)t->ndim);
	if (ci_shape_count(ct.dtype, ct.ndim, ct.dims, &ct.count, &size, e) != 0)
		return -1;
	if (size != t->size)
		return ci_fail(e, CINFER_E_USAGE, STAGE, "tensor size mismatch");
	ct.data = t->data;
	return ci_tensor_encode(&ct, name, out, out_size, e);
}
