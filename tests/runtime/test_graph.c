/*
 * The graph-rewrite layer under the load-time passes (graph.h): the name
 * index (consumers, producers, constants that a caller cannot override),
 * the edits, fresh names that never collide, the internal opset import,
 * graphs with subgraphs left alone, and every allocation failure of the
 * index and the edits handled without a leak.
 */
#include "testutil.h"

#include "runtime/graph.h"
#include "runtime/rt.h"

/* x -> Relu -> y -> Neg -> z (graph output); y also read by Sum(y, w); w is
 * an initializer; d is an initializer that is also a graph input. */
static int
make(struct ci_model_proto *p, struct cinfer_err *e)
{
	struct ci_graph *g = &p->graph;
	static const char *const inits[] = { "w", "d" };
	long a, b, c;

	memset(p, 0, sizeof(*p));
	p->has_graph = 1;
	p->opsets = ci_calloc(1, sizeof(*p->opsets));
	if (p->opsets == NULL || (p->opsets[0].domain = ci_strdup("")) == NULL)
		return -1;
	p->opsets[0].version = 17;
	p->n_opsets = 1;
	g->inputs = ci_calloc(2, sizeof(*g->inputs));
	g->outputs = ci_calloc(1, sizeof(*g->outputs));
	g->inits = ci_calloc(2, sizeof(*g->inits));
	if (!g->inputs || !g->outputs || !g->inits)
		return -1;
	if ((g->inputs[0].name = ci_strdup("x")) == NULL)
		return -1;
	g->n_inputs = 1;
	if ((g->inputs[1].name = ci_strdup("d")) == NULL)
		return -1;
	g->n_inputs = 2;
	if ((g->outputs[0].name = ci_strdup("z")) == NULL)
		return -1;
	g->n_outputs = 1;
	for (size_t i = 0; i < 2; i++) {
		struct ci_tensor *t = &g->inits[i];
		t->dtype = CI_DT_FLOAT;
		t->count = 1;
		t->owned = 1;
		t->data = ci_calloc(1, sizeof(float));
		t->name = ci_strdup(inits[i]);
		g->n_inits++;
		if (t->data == NULL || t->name == NULL)
			return -1;
	}
	if ((a = ci_g_add_node(g, "", "Relu", "relu", e)) < 0 ||
	    ci_g_set_input(&g->nodes[a], 0, "x", e) || ci_g_set_output(&g->nodes[a], 0, "y", e))
		return -1;
	if ((b = ci_g_add_node(g, "", "Neg", "neg", e)) < 0 ||
	    ci_g_set_input(&g->nodes[b], 0, "y", e) || ci_g_set_output(&g->nodes[b], 0, "z", e))
		return -1;
	if ((c = ci_g_add_node(g, "", "Sum", "sum", e)) < 0 ||
	    ci_g_set_input(&g->nodes[c], 0, "y", e) || ci_g_set_input(&g->nodes[c], 1, "w", e) ||
	    ci_g_set_input(&g->nodes[c], 2, "d", e) || ci_g_set_output(&g->nodes[c], 0, "s", e))
		return -1;
	return 0;
}

static void
test_index(void **state)
{
	struct ci_model_proto p;
	struct cinfer_err e = { 0 };
	struct ci_gindex *ix;

	(void)state;
	assert_int_equal(make(&p, &e), 0);
	ix = ci_g_index(&p.graph, &e);
	assert_non_null(ix);
	assert_int_equal(ci_g_uses(ix, "y"), 2);
	assert_int_equal(ci_g_sole_consumer(ix, "y"), -1);	/* two readers */
	assert_int_equal(ci_g_sole_consumer(ix, "x"), 0);
	assert_int_equal(ci_g_sole_consumer(ix, "z"), -1);	/* a graph output */
	assert_int_equal(ci_g_uses(ix, "z"), CI_G_PINNED);
	assert_int_equal(ci_g_producer(ix, "z"), 1);
	assert_int_equal(ci_g_producer(ix, "x"), -1);
	assert_int_equal(ci_g_producer(ix, "nope"), -1);
	assert_non_null(ci_g_const(ix, "w"));
	assert_null(ci_g_const(ix, "d"));	/* overridable: not a constant */
	assert_null(ci_g_const(ix, "x"));
	ci_g_index_free(ix);
	ci_onnx_clear(&p);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_edits(void **state)
{
	struct ci_model_proto p;
	struct cinfer_err e = { 0 };
	struct ci_gindex *ix;
	struct ci_tensor t = { 0 };
	const char *n1 = NULL, *n2 = NULL;
	struct ci_node *nd;
	int64_t ints[3] = { 1, 2, 3 };

	(void)state;
	assert_int_equal(make(&p, &e), 0);
	ix = ci_g_index(&p.graph, &e);
	assert_non_null(ix);
	/* a fresh constant never takes an existing name */
	t.dtype = CI_DT_FLOAT;
	t.count = 1;
	t.data = ci_calloc(1, sizeof(float));
	assert_non_null(t.data);
	assert_int_equal(ci_g_add_const(&p.graph, "w", &t, &n1, &e), 0);
	assert_null(t.data);	/* moved */
	t.dtype = CI_DT_FLOAT;
	t.count = 1;
	t.data = ci_calloc(1, sizeof(float));
	assert_int_equal(ci_g_add_const(&p.graph, "w", &t, &n2, &e), 0);
	assert_string_not_equal(n1, "w");
	assert_string_not_equal(n1, n2);
	assert_int_equal(p.graph.n_inits, 4);
	/* edits: op, a grown input list, attributes replaced not duplicated */
	nd = &p.graph.nodes[1];
	assert_int_equal(ci_g_set_op(nd, CI_DOMAIN_CINFER, "Fused", &e), 0);
	assert_int_equal(ci_g_set_input(nd, 3, n1, &e), 0);
	assert_int_equal(nd->n_in, 4);
	assert_string_equal(nd->inputs[1], "");
	assert_string_equal(nd->inputs[3], n1);
	assert_int_equal(ci_g_attr_i(nd, "k", 5, &e), 0);
	assert_int_equal(ci_g_attr_i(nd, "k", 6, &e), 0);
	assert_int_equal(ci_g_attr_f(nd, "f", 0.5f, &e), 0);
	assert_int_equal(ci_g_attr_s(nd, "act", "Relu", &e), 0);
	assert_int_equal(ci_g_attr_ints(nd, "v", ints, 3, &e), 0);
	assert_int_equal(nd->n_attrs, 4);
	assert_int_equal(ci_attr_i(nd, "k", 0), 6);
	assert_string_equal(ci_attr_s(nd, "act", ""), "Relu");
	ci_g_kill(&p.graph, 0);
	assert_null(p.graph.nodes[0].op_type);
	ci_g_index_free(ix);
	ci_onnx_clear(&p);
	assert_int_equal(ci_alloc_live(), 0);
}

/* A com.cinfer node gets its opset import; compaction drops killed nodes. */
static void
test_optimize_opset(void **state)
{
	struct ci_model_proto p;
	struct cinfer_err e = { 0 };

	(void)state;
	assert_int_equal(make(&p, &e), 0);
	assert_int_equal(ci_g_set_op(&p.graph.nodes[2], CI_DOMAIN_CINFER, "X", &e), 0);
	assert_int_equal(ci_graph_optimize(&p, &e), 0);
	assert_int_equal(p.n_opsets, 2);
	assert_string_equal(p.opsets[1].domain, CI_DOMAIN_CINFER);
	ci_graph_optimize_enable(0);
	assert_int_equal(ci_graph_optimize_enabled(), 0);
	ci_graph_optimize_enable(1);
	ci_onnx_clear(&p);
	assert_int_equal(ci_alloc_live(), 0);
}

/* Every allocation of the index and the edits may fail: clean error, no leak. */
static void
test_alloc_failures(void **state)
{
	int failed = 0, passed = 0;

	(void)state;
	for (size_t n = 0; n < 400 && passed == 0; n++) {
		struct ci_model_proto p;
		struct cinfer_err e = { 0 };
		struct ci_gindex *ix = NULL;
		struct ci_tensor t = { 0 };
		const char *nm;
		int rc;

		rc = make(&p, &e);
		if (rc == 0) {
			ci_alloc_fail_after(n);
			ix = ci_g_index(&p.graph, &e);
			t.dtype = CI_DT_FLOAT;
			t.count = 1;
			t.owned = 1;
			t.data = ci_calloc(1, sizeof(float));
			rc = ix == NULL || t.data == NULL ||
			    ci_g_add_const(&p.graph, "w", &t, &nm, &e) != 0 ||
			    ci_g_attr_s(&p.graph.nodes[0], "a", "b", &e) != 0 ||
			    ci_g_set_input(&p.graph.nodes[0], 5, "w", &e) != 0 ||
			    ci_g_add_node(&p.graph, CI_DOMAIN_CINFER, "Y", "y", &e) < 0 ||
			    ci_graph_optimize(&p, &e) != 0 ? -1 : 0;
			ci_alloc_fail_after(SIZE_MAX);
		}
		ci_tensor_clear(&t);
		ci_g_index_free(ix);
		ci_onnx_clear(&p);
		assert_int_equal(ci_alloc_live(), 0);
		if (rc == 0)
			passed++;
		else
			failed++;
	}
	assert_true(failed > 10);
	assert_int_equal(passed, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_optimize_opset),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
