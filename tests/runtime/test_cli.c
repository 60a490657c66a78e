/*
 * `cinfer run` and `cinfer inspect` (tests/runtime/cli/cmd_run.c, compiled
 * in here until src/cli/main.c dispatches them): run a conformance model
 * from .pb files, write output_0.pb, compare it with the expected tensor;
 * usage errors; inspect's support report.
 */
#include <math.h>

#include "testutil.h"

#include "runtime/cli/cmd_run.c"

#define NODE "/usr/share/libonnx-testdata/data/node/"

static int
call(int (*fn)(int, char **), int argc, const char **argv)
{
	return fn(argc, (char **)argv);
}

static void
test_run_writes_outputs(void **state)
{
	char *dir = t_tmpdir(), out[4200];
	const char *argv[] = { "run", NODE "test_conv_with_strides_padding/model.onnx", "--input",
		"x=" NODE "test_conv_with_strides_padding/test_data_set_0/input_0.pb", "--input",
		NODE "test_conv_with_strides_padding/test_data_set_0/input_1.pb", "--output-dir", dir,
		"--repeat", "3" };
	struct cinfer_tensor got, want;
	struct cinfer_err e = { 0 };
	uint8_t *buf;
	size_t size;

	(void)state;
	assert_int_equal(call(ci_cmd_run, CI_ARRAY_LEN(argv), argv), 0);
	snprintf(out, sizeof(out), "%s/output_0.pb", dir);
	buf = t_read(out, &size);
	assert_int_equal(cinfer_tensor_read_pb(buf, size, &got, NULL, &e), 0);
	ci_free(buf);
	buf = t_read(NODE "test_conv_with_strides_padding/test_data_set_0/output_0.pb", &size);
	assert_int_equal(cinfer_tensor_read_pb(buf, size, &want, NULL, &e), 0);
	ci_free(buf);
	assert_int_equal(got.size, want.size);
	assert_int_equal(got.ndim, want.ndim);
	for (size_t i = 0; i < want.size / 4; i++)
		assert_true(fabsf(((float *)got.data)[i] - ((float *)want.data)[i]) < 1e-4f);
	cinfer_tensor_clear(&got);
	cinfer_tensor_clear(&want);
	t_rmrf(dir);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_run_usage_errors(void **state)
{
	const char *missing[] = { "run", NODE "test_conv_with_strides_padding/model.onnx", "--input",
		NODE "test_conv_with_strides_padding/test_data_set_0/input_0.pb" };
	const char *badname[] = { "run", NODE "test_abs/model.onnx", "--input",
		"nosuch=" NODE "test_abs/test_data_set_0/input_0.pb" };
	const char *twice[] = { "run", NODE "test_add/model.onnx", "--input",
		"x=" NODE "test_add/test_data_set_0/input_0.pb", "--input",
		"x=" NODE "test_add/test_data_set_0/input_1.pb" };
	const char *noargs[] = { "run" };
	const char *nomodel[] = { "run", "/nonexistent/model.onnx" };

	(void)state;
	assert_int_equal(call(ci_cmd_run, CI_ARRAY_LEN(missing), missing), 2);
	assert_int_equal(call(ci_cmd_run, CI_ARRAY_LEN(badname), badname), 2);
	assert_int_equal(call(ci_cmd_run, CI_ARRAY_LEN(twice), twice), 2);
	assert_int_equal(call(ci_cmd_run, CI_ARRAY_LEN(noargs), noargs), 2);
	assert_int_equal(call(ci_cmd_run, CI_ARRAY_LEN(nomodel), nomodel), 1);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_inspect(void **state)
{
	const char *ok[] = { "inspect", NODE "test_conv_with_strides_padding/model.onnx" };
	const char *unsup[] = { "inspect",
		"/usr/share/libonnx-testdata/data/simple/test_strnorm_model_monday_empty_output/model.onnx" };
	const char *bad[] = { "inspect", "/nonexistent.onnx" };

	(void)state;
	assert_int_equal(call(ci_cmd_inspect, CI_ARRAY_LEN(ok), ok), 0);
	assert_int_equal(call(ci_cmd_inspect, CI_ARRAY_LEN(unsup), unsup), 1);
	assert_int_equal(call(ci_cmd_inspect, CI_ARRAY_LEN(bad), bad), 1);
	assert_int_equal(ci_alloc_live(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_writes_outputs),
		cmocka_unit_test(test_run_usage_errors),
		cmocka_unit_test(test_inspect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
