/*
 * Loader and executor checks: protobuf wire errors, external data confined
 * to the model folder, graph structure errors, limits, every allocation
 * failure path (no leaks), arena reuse across runs, the registry order.
 */
#include <math.h>

#include "testutil.h"

#include "cinfer/runtime.h"
#include "runtime/rt.h"

static const char *
vec(const char *rel)
{
	static char buf[4][4096];
	static int n;
	char *p = buf[n++ % 4];

	snprintf(p, 4096, "%s", t_src("tests/runtime/vectors/"));
	strncat(p, rel, 4095 - strlen(p));
	return p;
}

static void
expect_load(const char *rel, enum cinfer_code code)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };

	assert_int_equal(cinfer_model_load(vec(rel), &m, &e), -1);
	assert_null(m);
	assert_code(e, code);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_structure_errors(void **state)
{
	(void)state;
	expect_load("cycle.onnx", CINFER_E_MALFORMED);
	expect_load("undefined_input.onnx", CINFER_E_MALFORMED);
	expect_load("duplicate_output.onnx", CINFER_E_MALFORMED);
	expect_load("unsupported_op.onnx", CINFER_E_UNSUPPORTED);
	expect_load("huge_initializer.onnx", CINFER_E_LIMIT);
	expect_load("short_raw_data.onnx", CINFER_E_MALFORMED);
	expect_load("node_without_outputs.onnx", CINFER_E_MALFORMED);
	expect_load("topk_one_output.onnx", CINFER_E_MALFORMED);	/* spec: 2 outputs */
}

/* Relu with an omitted output and TopK with its Indices output omitted ("") run. */
static void
test_omitted_outputs(void **state)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	float x[4] = { 3, -1, 7, 2 };
	struct cinfer_tensor in = { .dtype = CINFER_DT_FLOAT, .ndim = 1, .dims = { 4 }, .data = x,
		.size = sizeof(x) }, out = { 0 };

	(void)state;
	assert_int_equal(cinfer_model_load(vec("omitted_outputs.onnx"), &m, &e), 0);
	assert_int_equal(cinfer_model_run(m, &in, 1, &out, 1, &e), 0);
	assert_int_equal(out.dims[0], 2);
	assert_true(((float *)out.data)[0] == 7 && ((float *)out.data)[1] == 3);
	cinfer_tensor_clear(&out);
	cinfer_model_free(m);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_external_data(void **state)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	struct cinfer_tensor in = { 0 }, out = { 0 }, want = { 0 };
	uint8_t *buf;
	size_t size;

	(void)state;
	expect_load("ext_dotdot/model.onnx", CINFER_E_MALFORMED);
	expect_load("ext_abs/model.onnx", CINFER_E_MALFORMED);
	expect_load("ext_ok/past_end.onnx", CINFER_E_MALFORMED);
	expect_load("ext_ok/bad_length.onnx", CINFER_E_MALFORMED);
	expect_load("ext_ok/missing.onnx", CINFER_E_IO);
	/* from memory without a folder, external data is refused */
	buf = t_read(vec("ext_ok/model.onnx"), &size);
	assert_int_equal(cinfer_model_load_mem(buf, size, NULL, &m, &e), -1);
	assert_code(e, CINFER_E_UNSUPPORTED);
	ci_free(buf);

	assert_int_equal(cinfer_model_load(vec("ext_ok/model.onnx"), &m, &e), 0);
	buf = t_read(vec("ext_ok/input_0.pb"), &size);
	assert_int_equal(cinfer_tensor_read_pb(buf, size, &in, NULL, &e), 0);
	ci_free(buf);
	buf = t_read(vec("ext_ok/output_0.pb"), &size);
	assert_int_equal(cinfer_tensor_read_pb(buf, size, &want, NULL, &e), 0);
	ci_free(buf);
	assert_int_equal(cinfer_model_run(m, &in, 1, &out, 1, &e), 0);
	assert_int_equal(out.ndim, 2);
	assert_int_equal(out.dims[0], 2);
	assert_int_equal(out.dims[1], 4);
	for (size_t i = 0; i < 8; i++)
		assert_true(fabsf(((float *)out.data)[i] - ((float *)want.data)[i]) < 1e-5f);
	cinfer_tensor_clear(&in);
	cinfer_tensor_clear(&out);
	cinfer_tensor_clear(&want);
	cinfer_model_free(m);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_wire_errors(void **state)
{
	/* ModelProto bytes: graph (field 7) with a length past the end */
	static const uint8_t past_end[] = { 0x3a, 0x10, 0x0a, 0x00 };
	/* field number 0 */
	static const uint8_t field0[] = { 0x00, 0x01 };
	/* wire type 3 (group) */
	static const uint8_t group[] = { 0x0b };
	/* an 11-byte varint */
	static const uint8_t long_varint[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0x01 };
	/* no graph */
	static const uint8_t no_graph[] = { 0x08, 0x07 };
	const struct {
		const uint8_t *p;
		size_t n;
	} cases[] = {
		{ past_end, sizeof(past_end) }, { field0, sizeof(field0) }, { group, sizeof(group) },
		{ long_varint, sizeof(long_varint) }, { no_graph, sizeof(no_graph) },
	};

	(void)state;
	for (size_t i = 0; i < CI_ARRAY_LEN(cases); i++) {
		struct cinfer_model *m = NULL;
		struct cinfer_err e = { 0 };
		assert_int_equal(cinfer_model_load_mem(cases[i].p, cases[i].n, NULL, &m, &e), -1);
		assert_code(e, CINFER_E_MALFORMED);
	}
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_tensor_pb_roundtrip(void **state)
{
	struct cinfer_tensor t = { 0 }, u = { 0 };
	struct cinfer_err e = { 0 };
	int32_t v[6] = { 1, -2, 3, -4, 5, 2147483647 };
	uint8_t *pb;
	size_t n;
	char *name = NULL;

	(void)state;
	t.dtype = CINFER_DT_INT32;
	t.ndim = 2;
	t.dims[0] = 2;
	t.dims[1] = 3;
	t.data = v;
	t.size = sizeof(v);
	assert_int_equal(cinfer_tensor_write_pb(&t, "v", &pb, &n, &e), 0);
	assert_int_equal(cinfer_tensor_read_pb(pb, n, &u, &name, &e), 0);
	assert_string_equal(name, "v");
	assert_int_equal(u.dtype, CINFER_DT_INT32);
	assert_int_equal(u.size, sizeof(v));
	assert_memory_equal(u.data, v, sizeof(v));
	/* every truncation fails cleanly */
	for (size_t cut = 0; cut < n; cut++) {
		struct cinfer_tensor w;
		cinfer_err_clear(&e);
		assert_int_equal(cinfer_tensor_read_pb(pb, cut, &w, NULL, &e), -1);
	}
	cinfer_buf_free(pb);
	cinfer_buf_free(name);
	cinfer_tensor_clear(&u);
	assert_int_equal(ci_alloc_live(), 0);
}

/* A real conv test model: load and run under allocation failure at every step. */
static void
test_alloc_failures(void **state)
{
	const char *dir = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding";
	char path[4096];
	struct cinfer_tensor in[2] = { 0 };
	uint8_t *buf;
	size_t size;
	struct cinfer_err e = { 0 };

	(void)state;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/test_data_set_0/input_%d.pb", dir, i);
		buf = t_read(path, &size);
		assert_int_equal(cinfer_tensor_read_pb(buf, size, &in[i], NULL, &e), 0);
		ci_free(buf);
	}
	snprintf(path, sizeof(path), "%s/model.onnx", dir);
	for (size_t n = 0;; n++) {
		struct cinfer_model *m = NULL;
		struct cinfer_tensor out = { 0 };
		int rc;
		cinfer_err_clear(&e);
		ci_alloc_fail_after(n);
		rc = cinfer_model_load(path, &m, &e);
		if (rc == 0)
			rc = cinfer_model_run(m, in, 2, &out, 1, &e);
		ci_alloc_fail_after(SIZE_MAX);
		cinfer_tensor_clear(&out);
		cinfer_model_free(m);
		if (rc == 0)
			break;
		assert_code(e, CINFER_E_NOMEM);
		assert_int_equal(ci_alloc_live(), 2);	/* only the two inputs */
	}
	cinfer_tensor_clear(&in[0]);
	cinfer_tensor_clear(&in[1]);
	assert_int_equal(ci_alloc_live(), 0);
}

/* Second run with the same shapes takes every buffer from the arena. */
static void
test_arena_reuse(void **state)
{
	const char *dir = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding";
	char path[4096];
	struct cinfer_model *m = NULL;
	struct cinfer_tensor in[2] = { 0 }, out = { 0 };
	uint8_t *buf;
	size_t size, live;
	struct cinfer_err e = { 0 };

	(void)state;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/test_data_set_0/input_%d.pb", dir, i);
		buf = t_read(path, &size);
		assert_int_equal(cinfer_tensor_read_pb(buf, size, &in[i], NULL, &e), 0);
		ci_free(buf);
	}
	snprintf(path, sizeof(path), "%s/model.onnx", dir);
	assert_int_equal(cinfer_model_load(path, &m, &e), 0);
	assert_int_equal(cinfer_model_run(m, in, 2, &out, 1, &e), 0);
	cinfer_tensor_clear(&out);
	live = ci_alloc_live();
	/* with allocation failing, only the output copy may allocate */
	ci_alloc_fail_after(1);
	assert_int_equal(cinfer_model_run(m, in, 2, &out, 1, &e), 0);
	ci_alloc_fail_after(SIZE_MAX);
	assert_int_equal(ci_alloc_live(), live + 1);
	cinfer_tensor_clear(&out);
	/* wrong input shape is a usage error, not a crash */
	in[0].dims[2] = 6;
	in[0].size = 0;
	assert_int_equal(cinfer_model_run(m, in, 2, &out, 1, &e), -1);
	assert_code(e, CINFER_E_USAGE);
	cinfer_model_free(m);
	cinfer_tensor_clear(&in[0]);
	cinfer_tensor_clear(&in[1]);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_run_time_checks(void **state)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	float x[3] = { 1, 2, 3 };
	struct cinfer_tensor in = { .dtype = CINFER_DT_FLOAT, .ndim = 1, .dims = { 3 }, .data = x,
		.size = sizeof(x) }, out = { 0 };

	(void)state;
	assert_int_equal(cinfer_model_load(vec("gather_oob.onnx"), &m, &e), 0);
	assert_int_equal(cinfer_model_run(m, &in, 1, &out, 1, &e), -1);
	assert_code(e, CINFER_E_MALFORMED);
	assert_non_null(strstr(e.msg, "out of range"));
	cinfer_model_free(m);
	assert_int_equal(ci_alloc_live(), 0);
}

/* Hostile values in valid graphs (tools/gen_runtime_vectors.py bad_runs). */
static void
test_bad_runs(void **state)
{
	FILE *f = fopen(vec("bad_run/expected.txt"), "r");
	char line[256];
	int n = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[128], code[32], rel[200];
		struct cinfer_model *m = NULL;
		struct cinfer_err e = { 0 };
		struct cinfer_tensor out[2];
		int rc;
		if (line[0] == '#' || sscanf(line, "%127s %31s", name, code) != 2)
			continue;
		snprintf(rel, sizeof(rel), "bad_run/%s.onnx", name);
		if (cinfer_model_load(vec(rel), &m, &e) != 0)
			fail_msg("%s: load failed: %s", name, e.msg);
		rc = cinfer_model_run(m, NULL, 0, out, cinfer_model_output_count(m), &e);
		if (rc == 0)
			fail_msg("%s: run succeeded, expected %s", name, code);
		if (strcmp(cinfer_code_name(e.code), code) != 0)
			fail_msg("%s: got %s (%s), expected %s", name, cinfer_code_name(e.code), e.msg, code);
		cinfer_model_free(m);
		n++;
	}
	fclose(f);
	assert_true(n >= 20);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_registry_sorted(void **state)
{
	const struct ci_op *prev = NULL, *op;

	(void)state;
	for (size_t i = 0; (op = ci_op_at(i)) != NULL; i++) {
		if (prev) {
			int c = strcmp(prev->domain, op->domain);
			assert_true(c < 0 || (c == 0 && strcmp(prev->name, op->name) < 0));
		}
		assert_ptr_equal(ci_op_find(op->domain, op->name, 1000), op);
		prev = op;
	}
	assert_null(ci_op_find("", "NoSuchOp", 13));
	assert_null(ci_op_find("", "LayerNormalization", 16));	/* too old */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_external_data),
		cmocka_unit_test(test_wire_errors),
		cmocka_unit_test(test_tensor_pb_roundtrip),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_arena_reuse),
		cmocka_unit_test(test_run_time_checks),
		cmocka_unit_test(test_bad_runs),
		cmocka_unit_test(test_omitted_outputs),
		cmocka_unit_test(test_registry_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
