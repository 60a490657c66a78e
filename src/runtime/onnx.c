/*
 * ONNX ModelProto reader. Each message is walked twice: once to count the
 * repeated fields (checked against the limits in rt.h), once to fill arrays
 * of exactly that size. Strings are copied; the input buffer is not kept.
 */
#include <string.h>

#include "runtime/rt.h"

#define STAGE "runtime.onnx"

static int parse_graph(struct ci_rd r, const char *dir, int depth, struct ci_graph *g,
    struct cinfer_err *e);
static void graph_clear(struct ci_graph *g);

/* Counts occurrences of field num (any wire type) in msg. */
static int
count_field(struct ci_rd msg, uint32_t num, size_t max, size_t *n, struct cinfer_err *e)
{
	struct ci_pb_field f;
	int rc;

	*n = 0;
	while ((rc = ci_pb_next(&msg, &f, e)) == 1) {
		if (f.num != num)
			continue;
		if (++*n > max)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "field %u repeated more than %zu times",
			    num, max);
	}
	return rc < 0 ? -1 : 0;
}

static int
want(const struct ci_pb_field *f, uint32_t wt, struct cinfer_err *e)
{
	if (f->wt != wt)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "field %u: wire type %u, want %u",
		    f->num, f->wt, wt);
	return 0;
}

static int
set_str(const struct ci_pb_field *f, char **dst, struct cinfer_err *e)
{
	ci_free(*dst);
	*dst = NULL;
	return ci_pb_str(f, dst, e);
}

/* ---- ValueInfoProto ------------------------------------------------------- */
static int
parse_tensor_type(struct ci_rd r, struct ci_value_info *v, struct cinfer_err *e)
{
	struct ci_pb_field f, g, h;
	int rc, rc2, rc3;

	while ((rc = ci_pb_next(&r, &f, e)) == 1) {
		if (f.num == 1) {
			if (want(&f, CI_PB_VARINT, e) != 0)
				return -1;
			v->dtype = f.v < CI_DT_COUNT ? (int)f.v : CI_DT_UNDEFINED;
		} else if (f.num == 2) {
			struct ci_rd s;
			if (want(&f, CI_PB_LEN, e) != 0)
				return -1;
			s = f.sub;
			v->ndim = 0;
			while ((rc2 = ci_pb_next(&s, &g, e)) == 1) {
				struct ci_rd d;
				int64_t dim = -1;
				if (g.num != 1)
					continue;
				if (want(&g, CI_PB_LEN, e) != 0)
					return -1;
				if (v->ndim >= CI_RT_MAX_DIMS)
					return ci_fail(e, CINFER_E_LIMIT, STAGE, "value %s: rank over %d",
					    v->name ? v->name : "?", CI_RT_MAX_DIMS);
				d = g.sub;
				while ((rc3 = ci_pb_next(&d, &h, e)) == 1) {
					if (h.num == 1 && h.wt == CI_PB_VARINT && (int64_t)h.v >= 0)
						dim = (int64_t)h.v;
				}
				if (rc3 < 0)
					return -1;
				v->dims[v->ndim++] = dim;
			}
			if (rc2 < 0)
				return -1;
		}
	}
	return rc < 0 ? -1 : 0;
}

static int
parse_value_info(struct ci_rd r, struct ci_value_info *v, struct cinfer_err *e)
{
	struct ci_pb_field f, g;
	int rc, rc2;

	memset(v, 0, sizeof(*v));
	v->ndim = -1;
	v->kind = 2;	/* no type given */
	while ((rc = ci_pb_next(&r, &f, e)) == 1) {
		if (f.num == 1) {
			if (set_str(&f, &v->name, e) != 0)
				return -1;
		} else if (f.num == 2) {
			struct ci_rd t;
			if (want(&f, CI_PB_LEN, e) != 0)
				return -1;
			t = f.sub;
			v->kind = 0;
			while ((rc2 = ci_pb_next(&t, &g, e)) == 1) {
				if (g.num == 1) {
					if (want(&g, CI_PB_LEN, e) != 0)
						return -1;
					v->kind = 1;
					if (parse_tensor_type(g.sub, v, e) != 0)
						return -1;
				}
			}
			if (rc2 < 0)
				return -1;
		}
	}
	if (rc < 0)
		return -1;
	if (v->name == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "value info without a name");
	return 0;
}

/* ---- AttributeProto ------------------------------------------------------- */
void
ci_attr_clear(struct ci_attr *a)
{
	ci_free(a->name);
	ci_free(a->s);
	if (a->t) {
		ci_tensor_clear(a->t);
		ci_free(a->t);
	}
	if (a->g) {
		graph_clear(a->g);
		ci_free(a->g);
	}
	ci_free(a->floats);
	ci_free(a->ints);
	for (size_t i = 0; a->strings && i < a->n; i++)
		ci_free(a->strings[i]);
	ci_free(a->strings);
	memset(a, 0, sizeof(*a));
}

/* Counts the elements of repeated scalar field num, packed or not. */
static int
count_scalars(struct ci_rd msg, uint32_t num, uint32_t wt, size_t *n, struct cinfer_err *e)
{
	struct ci_pb_field f;
	int rc;

	*n = 0;
	while ((rc = ci_pb_next(&msg, &f, e)) == 1) {
		if (f.num != num)
			continue;
		if (f.wt == wt) {
			(*n)++;
		} else if (f.wt == CI_PB_LEN) {
			struct ci_rd p = f.sub;
			while (p.left > 0) {
				uint64_t v;
				if (wt == CI_PB_VARINT) {
					if (ci_pb_varint(&p, &v) != 0)
						return ci_fail(e, CINFER_E_MALFORMED, STAGE, "packed ints");
				} else if (ci_rd_skip(&p, 4) != 0) {
					return ci_fail(e, CINFER_E_MALFORMED, STAGE, "packed floats");
				}
				(*n)++;
			}
		} else {
			return ci_fail(e, CINFER_E_MALFORMED, STAGE, "field %u: wire type %u", num, f.wt);
		}
		if (*n > CI_RT_MAX_ATTR_LEN)
			return ci_fail(e, CINFER_E_LIMIT, STAGE, "attribute list too long");
	}
	return rc < 0 ? -1 : 0;
}

static void
fill_scalars(struct ci_rd msg, uint32_t num, uint32_t wt, void *dst, size_t cap)
{
	struct ci_pb_field f;
	size_t n = 0;

	/* count_scalars already validated the encoding */
	while (ci_pb_next(&msg, &f, NULL) == 1 && n < cap) {
		if (f.num != num)
			continue;
		if (f.wt == wt) {
			if (wt == CI_PB_VARINT) {
				((int64_t *)dst)[n++] = (int64_t)f.v;
			} else {
				uint32_t u = (uint32_t)f.v;
				memcpy((float *)dst + n++, &u, 4);
			}
		} else {
			struct ci_rd p = f.sub;
			while (p.left > 0 && n < cap) {
				uint64_t v;
				uint32_t u;
				if (wt == CI_PB_VARINT) {
					(void)ci_pb_varint(&p, &v);
					((int64_t *)dst)[n++] = (int64_t)v;
				} else {
					(void)ci_rd_u32le(&p, &u);
					memcpy((float *)dst + n++, &u, 4);
				}
			}
		}
	}
}

static int
parse_attr(struct ci_rd r, const char *dir, int depth, struct ci_attr *a, struct cinfer_err *e)
{
	struct ci_pb_field f;
	struct ci_rd r0 = r;	/* for the repeated fields */
	int rc;
	size_t n;

	memset(a, 0, sizeof(*a));
	while ((rc = ci_pb_next(&r, &f, e)) == 1) {
		switch (f.num) {
		case 1:
			if (set_str(&f, &a->name, e) != 0)
				return -1;
			break;
		case 20:
			if (want(&f, CI_PB_VARINT, e) != 0)
				return -1;
			a->type = f.v > CI_AT_TYPE_PROTOS ? -1 : (int)f.v;
			break;
		case 2: {
			uint32_t u = (uint32_t)f.v;
			if (want(&f, CI_PB_I32, e) != 0)
				return -1;
			memcpy(&a->f, &u, 4);
			break;
		}
		case 3:
			if (want(&f, CI_PB_VARINT, e) != 0)
				return -1;
			a->i = (int64_t)f.v;
			break;
		case 4:
			if (want(&f, CI_PB_LEN, e) != 0)
				return -1;
			/* strings may hold bytes; copy with size, NUL-terminated */
			if (f.sub.left > CI_RT_MAX_NAME)
				return ci_fail(e, CINFER_E_LIMIT, STAGE, "string attribute too long");
			ci_free(a->s);
			a->s = ci_alloc(f.sub.left + 1);
			if (a->s == NULL)
				return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			a->s_size = f.sub.left;
			if (ci_rd_copy(&f.sub, a->s, f.sub.left) != 0)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE, "string attribute");
			a->s[a->s_size] = '\0';
			break;
		case 5:
			if (want(&f, CI_PB_LEN, e) != 0 || a->t != NULL)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE, "tensor attribute");
			a->t = ci_calloc(1, sizeof(*a->t));
			if (a->t == NULL)
				return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			if (ci_tensor_parse(&f.sub, dir, a->t, e) != 0)
				return -1;
			break;
		case 6:
			if (want(&f, CI_PB_LEN, e) != 0 || a->g != NULL)
				return ci_fail(e, CINFER_E_MALFORMED, STAGE, "graph attribute");
			if (depth + 1 > CI_RT_MAX_DEPTH)
				return ci_fail(e, CINFER_E_LIMIT, STAGE, "graphs nested too deep");
			a->g = ci_calloc(1, sizeof(*a->g));
			if (a->g == NULL)
				return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			if (parse_graph(f.sub, dir, depth + 1, a->g, e) != 0)
				return -1;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		return -1;
	if (a->name == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "attribute without a name");
	/* repeated fields */
	r = r0;
	switch (a->type) {
	case CI_AT_FLOATS:
		if (count_scalars(r, 7, CI_PB_I32, &n, e) != 0)
			return -1;
		a->floats = ci_calloc(n ? n : 1, sizeof(float));
		if (a->floats == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		fill_scalars(r, 7, CI_PB_I32, a->floats, n);
		a->n = n;
		break;
	case CI_AT_INTS:
		if (count_scalars(r, 8, CI_PB_VARINT, &n, e) != 0)
			return -1;
		a->ints = ci_calloc(n ? n : 1, sizeof(int64_t));
		if (a->ints == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		fill_scalars(r, 8, CI_PB_VARINT, a->ints, n);
		a->n = n;
		break;
	case CI_AT_STRINGS: {
		struct ci_rd m = r;
		size_t k = 0;
		if (count_field(r, 9, CI_RT_MAX_ATTRS, &n, e) != 0)
			return -1;
		a->strings = ci_calloc(n ? n : 1, sizeof(char *));
		if (a->strings == NULL)
			return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		a->n = n;
		while (k < n && ci_pb_next(&m, &f, e) == 1) {
			if (f.num != 9)
				continue;
			if (want(&f, CI_PB_LEN, e) != 0)
				return -1;
			/* byte strings with NULs are cut at the first NUL */
			if (f.sub.left > CI_RT_MAX_NAME)
				return ci_fail(e, CINFER_E_LIMIT, STAGE, "string too long");
			a->strings[k] = ci_strndup((const char *)f.sub.p, f.sub.left);
			if (a->strings[k] == NULL)
				return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
			k++;
		}
		break;
	}
	case CI_AT_FLOAT: case CI_AT_INT: case CI_AT_STRING: case CI_AT_TENSOR:
	case CI_AT_GRAPH:
		break;
	case CI_AT_UNDEFINED:
		/* IR < 3 models may omit the type: infer from what was set */
		if (a->t)
			a->type = CI_AT_TENSOR;
		else if (a->g)
			a->type = CI_AT_GRAPH;
		else if (a->s)
			a->type = CI_AT_STRING;
		else
			return ci_fail(e, CINFER_E_UNSUPPORTED, STAGE, "attribute %s: no type",
			    a->name);
		break;
	default:
		/* tensors, graphs, sparse tensors, type protos: kept as type only */
		break;
	}
	return 0;
}

/* ---- NodeProto ------------------------------------------------------------- */
void
ci_node_clear(struct ci_node *n)
{
	ci_free(n->name);
	ci_free(n->op_type);
	ci_free(n->domain);
	for (size_t i = 0; n->inputs && i < n->n_in; i++)
		ci_free(n->inputs[i]);
	ci_free(n->inputs);
	for (size_t i = 0; n->outputs && i < n->n_out; i++)
		ci_free(n->outputs[i]);
	ci_free(n->outputs);
	for (size_t i = 0; n->attrs && i < n->n_attrs; i++)
		ci_attr_clear(&n->attrs[i]);
	ci_free(n->attrs);
	memset(n, 0, sizeof(*n));
}

static int
parse_node(struct ci_rd r, const char *dir, int depth, struct ci_node *n, struct cinfer_err *e)
{
	struct ci_pb_field f;
	size_t ni, no, na, ki = 0, ko = 0, ka = 0;
	int rc;

	memset(n, 0, sizeof(*n));
	if (count_field(r, 1, CI_RT_MAX_NODE_IO, &ni, e) != 0 ||
	    count_field(r, 2, CI_RT_MAX_NODE_IO, &no, e) != 0 ||
	    count_field(r, 5, CI_RT_MAX_ATTRS, &na, e) != 0)
		return -1;
	n->inputs = ci_calloc(ni + 1, sizeof(char *));
	n->outputs = ci_calloc(no + 1, sizeof(char *));
	n->attrs = ci_calloc(na + 1, sizeof(struct ci_attr));
	if (n->inputs == NULL || n->outputs == NULL || n->attrs == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	n->n_in = ni;
	n->n_out = no;
	n->n_attrs = na;
	while ((rc = ci_pb_next(&r, &f, e)) == 1) {
		switch (f.num) {
		case 1:
			if (ci_pb_str(&f, &n->inputs[ki++], e) != 0)
				return -1;
			break;
		case 2:
			if (ci_pb_str(&f, &n->outputs[ko++], e) != 0)
				return -1;
			break;
		case 3:
			if (set_str(&f, &n->name, e) != 0)
				return -1;
			break;
		case 4:
			if (set_str(&f, &n->op_type, e) != 0)
				return -1;
			break;
		case 7:
			if (set_str(&f, &n->domain, e) != 0)
				return -1;
			break;
		case 5:
			if (want(&f, CI_PB_LEN, e) != 0 ||
			    parse_attr(f.sub, dir, depth, &n->attrs[ka++], e) != 0)
				return -1;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		return -1;
	if (n->op_type == NULL)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "node without op_type");
	if (n->domain == NULL && (n->domain = ci_strdup("")) == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	if (n->name == NULL && (n->name = ci_strdup("")) == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	for (size_t i = 0; i < n->n_attrs; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(n->attrs[i].name, n->attrs[j].name) == 0)	/* public */
				return ci_fail(e, CINFER_E_MALFORMED, STAGE,
				    "node %s: attribute %s twice", n->name, n->attrs[i].name);
	return 0;
}

/* ---- GraphProto ------------------------------------------------------------ */
static void
graph_clear(struct ci_graph *g)
{
	ci_free(g->name);
	for (size_t i = 0; g->nodes && i < g->n_nodes; i++)
		ci_node_clear(&g->nodes[i]);
	ci_free(g->nodes);
	for (size_t i = 0; g->inits && i < g->n_inits; i++)
		ci_tensor_clear(&g->inits[i]);
	ci_free(g->inits);
	for (size_t i = 0; g->inputs && i < g->n_inputs; i++)
		ci_free(g->inputs[i].name);
	ci_free(g->inputs);
	for (size_t i = 0; g->outputs && i < g->n_outputs; i++)
		ci_free(g->outputs[i].name);
	ci_free(g->outputs);
	memset(g, 0, sizeof(*g));
}

static int
parse_graph(struct ci_rd r, const char *dir, int depth, struct ci_graph *g, struct cinfer_err *e)
{
	struct ci_pb_field f;
	size_t nn, nt, nin, nout, kn = 0, kt = 0, kin = 0, kout = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	if (count_field(r, 1, CI_RT_MAX_NODES, &nn, e) != 0 ||
	    count_field(r, 5, CI_RT_MAX_VALUES, &nt, e) != 0 ||
	    count_field(r, 11, CI_RT_MAX_VALUES, &nin, e) != 0 ||
	    count_field(r, 12, CI_RT_MAX_VALUES, &nout, e) != 0 ||
	    count_field(r, 15, CI_RT_MAX_VALUES, &g->n_sparse, e) != 0)
		goto fail;
	g->nodes = ci_calloc(nn + 1, sizeof(*g->nodes));
	g->inits = ci_calloc(nt + 1, sizeof(*g->inits));
	g->inputs = ci_calloc(nin + 1, sizeof(*g->inputs));
	g->outputs = ci_calloc(nout + 1, sizeof(*g->outputs));
	if (g->nodes == NULL || g->inits == NULL || g->inputs == NULL || g->outputs == NULL) {
		ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
		goto fail;
	}
	while ((rc = ci_pb_next(&r, &f, e)) == 1) {
		switch (f.num) {
		case 1:
			g->n_nodes = kn + 1;
			if (want(&f, CI_PB_LEN, e) != 0 ||
			    parse_node(f.sub, dir, depth, &g->nodes[kn++], e) != 0)
				goto fail;
			break;
		case 2:
			if (set_str(&f, &g->name, e) != 0)
				goto fail;
			break;
		case 5:
			g->n_inits = kt + 1;
			if (want(&f, CI_PB_LEN, e) != 0 ||
			    ci_tensor_parse(&f.sub, dir, &g->inits[kt++], e) != 0)
				goto fail;
			if (g->inits[kt - 1].name == NULL) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "initializer without a name");
				goto fail;
			}
			break;
		case 11:
			g->n_inputs = kin + 1;
			if (want(&f, CI_PB_LEN, e) != 0 ||
			    parse_value_info(f.sub, &g->inputs[kin++], e) != 0)
				goto fail;
			break;
		case 12:
			g->n_outputs = kout + 1;
			if (want(&f, CI_PB_LEN, e) != 0 ||
			    parse_value_info(f.sub, &g->outputs[kout++], e) != 0)
				goto fail;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		goto fail;
	return 0;
fail:
	graph_clear(g);
	return -1;
}

/* ---- ModelProto ------------------------------------------------------------ */
void
ci_onnx_clear(struct ci_model_proto *m)
{
	if (m == NULL)
		return;
	ci_free(m->producer);
	for (size_t i = 0; m->opsets && i < m->n_opsets; i++)
		ci_free(m->opsets[i].domain);
	ci_free(m->opsets);
	graph_clear(&m->graph);
	memset(m, 0, sizeof(*m));
}

static int
parse_opset(struct ci_rd r, struct ci_opset *o, struct cinfer_err *e)
{
	struct ci_pb_field f;
	int rc;

	while ((rc = ci_pb_next(&r, &f, e)) == 1) {
		if (f.num == 1) {
			if (set_str(&f, &o->domain, e) != 0)
				return -1;
		} else if (f.num == 2) {
			if (want(&f, CI_PB_VARINT, e) != 0)
				return -1;
			o->version = (int64_t)f.v;
		}
	}
	if (rc < 0)
		return -1;
	if (o->domain == NULL && (o->domain = ci_strdup("")) == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	if (o->version < 1 || o->version > 1000)
		return ci_fail(e, CINFER_E_MALFORMED, STAGE, "opset version %lld",
		    (long long)o->version);
	return 0;
}

int
ci_onnx_parse(const uint8_t *buf, size_t size, const char *dir, struct ci_model_proto *m,
    struct cinfer_err *e)
{
	struct ci_rd r;
	struct ci_pb_field f;
	size_t no, ko = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if (size > CI_RT_MAX_MODEL_SIZE)
		return ci_fail(e, CINFER_E_LIMIT, STAGE, "model of %zu bytes", size);
	ci_rd_init(&r, buf, size);
	if (count_field(r, 8, CI_RT_MAX_OPSETS, &no, e) != 0)
		return -1;
	m->opsets = ci_calloc(no + 1, sizeof(*m->opsets));
	if (m->opsets == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	while ((rc = ci_pb_next(&r, &f, e)) == 1) {
		switch (f.num) {
		case 1:
			if (want(&f, CI_PB_VARINT, e) != 0)
				goto fail;
			m->ir_version = (int64_t)f.v;
			break;
		case 2:
			if (set_str(&f, &m->producer, e) != 0)
				goto fail;
			break;
		case 7:
			if (want(&f, CI_PB_LEN, e) != 0)
				goto fail;
			if (m->has_graph) {
				ci_fail(e, CINFER_E_MALFORMED, STAGE, "two graphs");
				goto fail;
			}
			if (parse_graph(f.sub, dir, 0, &m->graph, e) != 0)
				goto fail;
			m->has_graph = 1;
			break;
		case 8:
			m->n_opsets = ko + 1;
			if (want(&f, CI_PB_LEN, e) != 0 || parse_opset(f.sub, &m->opsets[ko++], e) != 0)
				goto fail;
			break;
		case 25:
			m->has_functions = 1;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		goto fail;
	if (!m->has_graph) {
		ci_fail(e, CINFER_E_MALFORMED, STAGE, "model without a graph");
		goto fail;
	}
	return 0;
fail:
	ci_onnx_clear(m);
	return -1;
}

const struct ci_attr *
ci_node_attr(const struct ci_node *n, const char *name)
{
	for (size_t i = 0; i < n->n_attrs; i++)
		if (strcmp(n->attrs[i].name, name) == 0)	/* public */
			return &n->attrs[i];
	return NULL;
}

int64_t
ci_attr_i(const struct ci_node *n, const char *name, int64_t def)
{
	const struct ci_attr *a = ci_node_attr(n, name);

	return a && a->type == CI_AT_INT ? a->i : def;
}

float
ci_attr_f(const struct ci_node *n, const char *name, float def)
{
	const struct ci_attr *a = ci_node_attr(n, name);

	return a && a->type == CI_AT_FLOAT ? a->f : def;
}

const char *
ci_attr_s(const struct ci_node *n, const char *name, const char *def)
{
	const struct ci_attr *a = ci_node_attr(n, name);

	if (a == NULL || a->type != CI_AT_STRING)
		return def;
	return a->s ? a->s : "";	/* an unset string field is "" in protobuf */
}

const int64_t *
ci_attr_ints(const struct ci_node *n, const char *name, size_t *count)
{
	const struct ci_attr *a = ci_node_attr(n, name);

	if (a == NULL || a->type != CI_AT_INTS) {
		*count = 0;
		return NULL;
	}
	*count = a->n;
	return a->ints;
}
