/*
 * Memory the runtime saves, and must not save too eagerly:
 * - weights packed at load replace the originals (ci_const_drop): after
 *   loading the demo MLP only its biases are still held as plain constants,
 *   and the model still classifies the stored samples right, run after run;
 * - Reshape / Identity / Flatten / Squeeze outputs are views of their
 *   input's buffer (ci_out_view), which must stay taken while a view lives
 *   (vectors/views/gen_views.py explains how a freed-too-early buffer shows).
 */
#include <jansson.h>
#include <math.h>

#include "testutil.h"

#include "cinfer/runtime.h"
#include "runtime/rt.h"

static void
test_digits_weights_dropped(void **state)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	json_error_t je;
	json_t *doc = json_load_file(t_src("models/digits_samples.json"), 0, &je);
	json_t *pix, *lab;

	(void)state;
	assert_non_null(doc);
	pix = json_object_get(doc, "pixels");
	lab = json_object_get(doc, "labels");
	assert_true(json_array_size(pix) >= 4);
	assert_int_equal(cinfer_model_load(t_src("models/digits.onnx"), &m, &e), 0);
	/* w1 64x32 and w2 32x10 are packed and freed; b1 [32] and b2 [10] stay */
	assert_int_equal(ci_model_const_bytes(m), (32 + 10) * sizeof(float));
	for (int round = 0; round < 2; round++)
		for (size_t s = 0; s < json_array_size(pix); s++) {
			float x[64];
			struct cinfer_tensor in = { .dtype = CINFER_DT_FLOAT, .ndim = 2,
				.dims = { 1, 64 }, .data = x, .size = sizeof(x) };
			struct cinfer_tensor out = { 0 };
			json_t *row = json_array_get(pix, s);
			size_t best = 0;

			assert_int_equal(json_array_size(row), 64);
			for (size_t i = 0; i < 64; i++)
				x[i] = (float)json_number_value(json_array_get(row, i));
			assert_int_equal(cinfer_model_run(m, &in, 1, &out, 1, &e), 0);
			assert_int_equal(out.size, 10 * sizeof(float));
			for (size_t i = 1; i < 10; i++)
				if (((float *)out.data)[i] > ((float *)out.data)[best])
					best = i;
			assert_int_equal(best, json_integer_value(json_array_get(lab, s)));
			cinfer_tensor_clear(&out);
		}
	cinfer_model_free(m);
	json_decref(doc);
	assert_int_equal(ci_alloc_live(), 0);
}

static void
test_views_keep_buffers(void **state)
{
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	float x[24];
	struct cinfer_tensor in = { .dtype = CINFER_DT_FLOAT, .ndim = 2, .dims = { 4, 6 },
		.data = x, .size = sizeof(x) };

	(void)state;
	for (int i = 0; i < 24; i++)
		x[i] = (float)(i - 9) / 4.0f;
	assert_int_equal(cinfer_model_load(t_src("tests/runtime/vectors/views/views.onnx"), &m, &e),
	    0);
	for (int round = 0; round < 3; round++) {
		struct cinfer_tensor out = { 0 };
		assert_int_equal(cinfer_model_run(m, &in, 1, &out, 1, &e), 0);
		assert_int_equal(out.ndim, 1);
		assert_int_equal(out.dims[0], 24);
		for (int i = 0; i < 24; i++) {
			float r = x[i] > 0 ? x[i] : 0;
			assert_float_equal(((float *)out.data)[i], r + expf(r), 1e-5f);
		}
		cinfer_tensor_clear(&out);
	}
	cinfer_model_free(m);
	assert_int_equal(ci_alloc_live(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digits_weights_dropped),
		cmocka_unit_test(test_views_keep_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
