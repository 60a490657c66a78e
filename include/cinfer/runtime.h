/*
 * cinfer lean ONNX runtime: load a model, run it on CPU.
 *
 * A model is parsed with a bounds-checked protobuf reader, validated as a
 * whole at load (graph structure, operator support, attributes, weights),
 * then run node by node with buffers from an arena that reuses memory by
 * value lifetime. thread-safe: no (one run at a time per model).
 */
#ifndef CINFER_RUNTIME_H
#define CINFER_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "cinfer/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CINFER_MAX_DIMS 8

/* Element types, numbered as ONNX TensorProto.DataType. */
enum cinfer_dtype {
	CINFER_DT_FLOAT = 1, CINFER_DT_UINT8 = 2, CINFER_DT_INT8 = 3,
	CINFER_DT_UINT16 = 4, CINFER_DT_INT16 = 5, CINFER_DT_INT32 = 6,
	CINFER_DT_INT64 = 7, CINFER_DT_BOOL = 9, CINFER_DT_FLOAT16 = 10,
	CINFER_DT_DOUBLE = 11, CINFER_DT_UINT32 = 12, CINFER_DT_UINT64 = 13,
	CINFER_DT_BFLOAT16 = 16
};

struct cinfer_tensor {
	int dtype;			/* enum cinfer_dtype */
	int ndim;
	int64_t dims[CINFER_MAX_DIMS];
	void *data;			/* row-major elements */
	size_t size;			/* bytes of data */
};

struct cinfer_model;

/* Loads MODEL.onnx (external data beside it). Returns new (cinfer_model_free). */
int cinfer_model_load(const char *path, struct cinfer_model **out, struct cinfer_err *e);
/* Same from memory; dir: folder for external data, NULL refuses it. Borrows buf. */
int cinfer_model_load_mem(const uint8_t *buf, size_t size, const char *dir,
    struct cinfer_model **out, struct cinfer_err *e);
void cinfer_model_free(struct cinfer_model *m);

/* Graph inputs (without initializers) and outputs. Names borrowed from m. */
size_t cinfer_model_input_count(const struct cinfer_model *m);
size_t cinfer_model_output_count(const struct cinfer_model *m);
const char *cinfer_model_input_name(const struct cinfer_model *m, size_t i);
const char *cinfer_model_output_name(const struct cinfer_model *m, size_t i);
/* Declared type and shape; dims < 0 are symbolic. ndim = -1: unknown rank. */
int cinfer_model_input_info(const struct cinfer_model *m, size_t i, int *dtype,
    int *ndim, int64_t dims[CINFER_MAX_DIMS]);
void cinfer_model_set_threads(struct cinfer_model *m, int threads);
/* Caps the bytes of intermediate tensors a run may hold (default: none). */
void cinfer_model_set_memory_limit(struct cinfer_model *m, size_t bytes);

/*
 * Runs the model. in[i] feeds input i (borrowed). out[] receives every graph
 * output, each with new data (free with cinfer_tensor_clear).
 */
int cinfer_model_run(struct cinfer_model *m, const struct cinfer_tensor *in,
    size_t n_in, struct cinfer_tensor *out, size_t n_out, struct cinfer_err *e);

void cinfer_tensor_clear(struct cinfer_tensor *t);
/* Parses an ONNX TensorProto (.pb file); t gets new data; name optional. */
int cinfer_tensor_read_pb(const uint8_t *buf, size_t size, struct cinfer_tensor *t,
    char **name, struct cinfer_err *e);
/* Encodes t as a TensorProto; returns a new buffer (free with cinfer_buf_free). */
int cinfer_tensor_write_pb(const struct cinfer_tensor *t, const char *name,
    uint8_t **out, size_t *out_size, struct cinfer_err *e);
void cinfer_buf_free(void *p);
size_t cinfer_dtype_size(int dtype);
const char *cinfer_dtype_name(int dtype);

#ifdef __cplusplus
}
#endif
#endif
