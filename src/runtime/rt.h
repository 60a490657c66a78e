/*
 * Internal interface of the lean ONNX runtime: protobuf wire reader, the
 * parsed model, tensors, the executor context that operators see, and the
 * operator registry. See docs/runtime.md for the design.
 */
#ifndef CI_RUNTIME_RT_H
#define CI_RUNTIME_RT_H

#include <stddef.h>
#include <stdint.h>

#include "core/ci.h"
#include "cinfer/runtime.h"

/* ---- limits (every count and size in a model is checked against these) -- */
#define CI_RT_MAX_DIMS		8		/* tensor rank */
#define CI_RT_MAX_DEPTH		8		/* nested graphs (If/Loop bodies) */
#define CI_RT_MAX_NODES		(1u << 20)
#define CI_RT_MAX_VALUES	(1u << 22)
#define CI_RT_MAX_NODE_IO	4096		/* inputs or outputs of one node */
#define CI_RT_MAX_ATTRS		1024		/* attributes of one node */
#define CI_RT_MAX_ATTR_LEN	(1u << 24)	/* elements of ints/floats */
#define CI_RT_MAX_NAME		4096		/* bytes of a name or string attr */
#define CI_RT_MAX_OPSETS	64
#define CI_RT_MAX_TENSOR_SIZE	((size_t)1 << 32)	/* bytes of one tensor */
#define CI_RT_MAX_MODEL_SIZE	((size_t)2 << 30)	/* protobuf's own cap */

/* ONNX TensorProto.DataType codes (the public enum mirrors them). */
enum ci_dt {
	CI_DT_UNDEFINED = 0, CI_DT_FLOAT = 1, CI_DT_UINT8 = 2, CI_DT_INT8 = 3,
	CI_DT_UINT16 = 4, CI_DT_INT16 = 5, CI_DT_INT32 = 6, CI_DT_INT64 = 7,
	CI_DT_STRING = 8, CI_DT_BOOL = 9, CI_DT_FLOAT16 = 10, CI_DT_DOUBLE = 11,
	CI_DT_UINT32 = 12, CI_DT_UINT64 = 13, CI_DT_COMPLEX64 = 14,
	CI_DT_COMPLEX128 = 15, CI_DT_BFLOAT16 = 16, CI_DT_COUNT
};
/* Element size in bytes, 0 for types we do not store (string, complex). */
size_t ci_dt_size(int dt);
const char *ci_dt_name(int dt);

/* ---- pb.c: protobuf wire format over ci_rd -------------------------------- */
enum { CI_PB_VARINT = 0, CI_PB_I64 = 1, CI_PB_LEN = 2, CI_PB_I32 = 5 };
struct ci_pb_field {
	uint32_t num;		/* field number */
	uint32_t wt;		/* wire type */
	uint64_t v;		/* VARINT, I64, I32 payload */
	struct ci_rd sub;	/* LEN payload, a view into the parent */
};
/* 1: a field was read; 0: the view is consumed; -1: malformed (e set). */
int ci_pb_next(struct ci_rd *r, struct ci_pb_field *f, struct cinfer_err *e);
int ci_pb_varint(struct ci_rd *r, uint64_t *v);
/* Copies a LEN field into a new NUL-terminated string (no NUL inside). */
int ci_pb_str(const struct ci_pb_field *f, char **out, struct cinfer_err *e);

/* ---- tensors ---------------------------------------------------------------- */
struct ci_tensor {
	int dtype;			/* enum ci_dt */
	int ndim;
	int64_t dims[CI_RT_MAX_DIMS];
	size_t count;			/* product of dims */
	void *data;			/* count * ci_dt_size(dtype) bytes */
	size_t cap;			/* bytes of the buffer behind data */
	int owned;			/* data is ours (ci_free) */
	char *name;			/* initializers and .pb files only */
};
/* count of dims with overflow and cap checks (size = count * elem size). */
int ci_shape_count(int dtype, int ndim, const int64_t *dims, size_t *count,
    size_t *size, struct cinfer_err *e);
void ci_tensor_clear(struct ci_tensor *t);
/*
 * Parses a TensorProto. dir is the model directory for external data (NULL:
 * external data refused). Returns a tensor that owns its data.
 */
CI_MUST_CHECK int ci_tensor_parse(struct ci_rd *r, const char *dir, struct ci_tensor *t,
    struct cinfer_err *e);
/* Serializes t as a TensorProto (raw_data); returns a new buffer. */
int ci_tensor_encode(const struct ci_tensor *t, const char *name, uint8_t **out,
    size_t *out_size, struct cinfer_err *e);

/* ---- onnx.c: the parsed model -------------------------------------------- */
enum ci_attr_type {
	CI_AT_UNDEFINED = 0, CI_AT_FLOAT = 1, CI_AT_INT = 2, CI_AT_STRING = 3,
	CI_AT_TENSOR = 4, CI_AT_GRAPH = 5, CI_AT_FLOATS = 6, CI_AT_INTS = 7,
	CI_AT_STRINGS = 8, CI_AT_TENSORS = 9, CI_AT_GRAPHS = 10,
	CI_AT_SPARSE_TENSOR = 11, CI_AT_SPARSE_TENSORS = 12,
	CI_AT_TYPE_PROTO = 13, CI_AT_TYPE_PROTOS = 14
};
struct ci_graph;
struct ci_attr {
	char *name;
	int type;
	float f;
	int64_t i;
	char *s;		/* NUL-terminated copy */
	size_t s_size;
	struct ci_tensor *t;
	struct ci_graph *g;
	float *floats;
	int64_t *ints;
	size_t n;		/* elements of floats, ints or strings */
	char **strings;
};
struct ci_node {
	char *name;
	char *op_type;
	char *domain;
	char **inputs;		/* "" for an omitted optional input */
	size_t n_in;
	char **outputs;
	size_t n_out;
	struct ci_attr *attrs;
	size_t n_attrs;
};
struct ci_value_info {
	char *name;
	int kind;		/* 1 tensor, 0 other (sequence, map...), 2 untyped */
	int dtype;
	int ndim;		/* -1: rank unknown */
	int64_t dims[CI_RT_MAX_DIMS];	/* -1: symbolic or unknown */
};
struct ci_graph {
	char *name;
	struct ci_node *nodes;
	size_t n_nodes;
	struct ci_tensor *inits;	/* name set */
	size_t n_inits;
	struct ci_value_info *inputs;
	size_t n_inputs;
	struct ci_value_info *outputs;
	size_t n_outputs;
	size_t n_sparse;		/* sparse initializers: unsupported */
};
struct ci_opset {
	char *domain;
	int64_t version;
};
struct ci_model_proto {
	int64_t ir_version;
	char *producer;
	struct ci_opset *opsets;
	size_t n_opsets;
	struct ci_graph graph;
	int has_graph;
	int has_functions;		/* model-local functions: unsupported */
};
/* Parses a ModelProto from buf; dir as for ci_tensor_parse. */
CI_MUST_CHECK int ci_onnx_parse(const uint8_t *buf, size_t size, const char *dir,
    struct ci_model_proto *m, struct cinfer_err *e);
void ci_onnx_clear(struct ci_model_proto *m);
const struct ci_attr *ci_node_attr(const struct ci_node *n, const char *name);
/* Frees what a node or attribute holds and zeroes it (graph rewrites). */
void ci_node_clear(struct ci_node *n);
void ci_attr_clear(struct ci_attr *a);

/* ---- executor context seen by operators ------------------------------------ */
struct ci_exec;
struct ci_kctx {
	struct ci_exec *x;
	const struct ci_node *node;
	int opset;			/* of the node's domain */
	size_t n_in, n_out;
	struct ci_tensor **in;		/* NULL for an omitted input */
	struct ci_tensor **out;		/* NULL for an omitted output */
	int threads;
	/* const_mask bit i: input i is a constant of the model (an initializer
	 * or a folded Constant), the same on every run. Inputs past 31: 0. */
	uint32_t const_mask;
	struct ci_node_state *state;	/* this node's persistent state */
	uint32_t drop_mask;		/* prepare: ci_const_drop */
};

/* Input i is the same tensor on every run (safe to derive cached data from). */
static inline int
ci_in_const(const struct ci_kctx *k, size_t i)
{
	return i < 32 && (k->const_mask >> i & 1u) && k->in[i] != NULL;
}

/*
 * Per-node state that outlives a run: packed weights, folded parameters.
 * An op's prepare hook (struct ci_op) sets it once at load, where only the
 * constant inputs are bound (the others are NULL); run reads it with
 * ci_state_get. free_fn releases it when the model is freed (may be NULL).
 * Setting it again frees the previous one.
 */
struct ci_node_state {
	void *p;
	void (*free_fn)(void *p);
};
static inline void *
ci_state_get(const struct ci_kctx *k)
{
	return k->state ? k->state->p : NULL;
}
void ci_state_set(struct ci_kctx *k, void *p, void (*free_fn)(void *p));
/*
 * From a prepare hook: this node will never read constant input i's data
 * again (its state holds what it needs, e.g. packed weights). When every
 * reader of the constant said so, its data is freed at load, so packed
 * weights replace the originals instead of doubling the memory. At run
 * time the input is still bound, with its shape, but data NULL.
 */
void ci_const_drop(struct ci_kctx *k, size_t i);
/* Bytes of constant data the main graph still holds (tests, docs). */
size_t ci_model_const_bytes(const struct cinfer_model *m);

/*
 * Data-parallel loop on the model's threads (cinfer_model_set_threads):
 * fn(arg, lo, hi) is called on disjoint ranges that cover [0, n), each of
 * at least grain items but the last, possibly concurrently; returns when
 * all are done. Runs inline when the model has one thread or n <= grain.
 * fn must not fail (check inputs first) and must not call ci_parallel.
 */
typedef void (*ci_par_fn)(void *arg, size_t lo, size_t hi);
void ci_parallel(struct ci_kctx *k, size_t n, size_t grain, ci_par_fn fn, void *arg);
/* Shapes output i and gives it a buffer from the arena. */
int ci_out(struct ci_kctx *k, size_t i, int dtype, int ndim, const int64_t *dims,
    struct cinfer_err *e);
/*
 * Output i as a view of input in_i's elements with another shape (same
 * count): no copy (Reshape, Flatten, Squeeze, Unsqueeze, Identity). Neither
 * tensor may be written afterwards; the buffer lives while either does.
 */
int ci_out_view(struct ci_kctx *k, size_t i, size_t in_i, int ndim, const int64_t *dims,
    struct cinfer_err *e);
/* Output i as a copy of the shape of t with dtype. */
int ci_out_like(struct ci_kctx *k, size_t i, int dtype, const struct ci_tensor *t,
    struct cinfer_err *e);
/* Scratch memory released after the node runs. */
void *ci_scratch(struct ci_kctx *k, size_t size, struct cinfer_err *e);

static inline struct ci_tensor *
ci_in(const struct ci_kctx *k, size_t i)
{
	return i < k->n_in ? k->in[i] : NULL;
}

/* attribute helpers */
int64_t ci_attr_i(const struct ci_node *n, const char *name, int64_t def);
float ci_attr_f(const struct ci_node *n, const char *name, float def);
const char *ci_attr_s(const struct ci_node *n, const char *name, const char *def);
/* ints attribute; *count = 0 and NULL when absent. */
const int64_t *ci_attr_ints(const struct ci_node *n, const char *name, size_t *count);

/* Float to integer without undefined behaviour: NaN is 0, the range is clamped. */
static inline int64_t
ci_f2i(double v)
{
	if (!(v == v))
		return 0;
	if (v >= 4.6e18)
		return (int64_t)4.6e18;
	if (v <= -4.6e18)
		return -(int64_t)4.6e18;
	return (int64_t)v;
}

/* Reads an int64/int32 tensor's element i as int64. */
int64_t ci_tensor_i64(const struct ci_tensor *t, size_t i);
double ci_tensor_f64(const struct ci_tensor *t, size_t i);

/* Subgraphs of If/Loop/Scan nodes (model.c): the graph attribute attr of
 * the running node; run with inputs (borrowed); read outputs; release. */
struct cinfer_model *ci_kctx_subgraph(struct ci_kctx *k, const char *attr);
int ci_subgraph_run(struct cinfer_model *sg, struct ci_tensor *const *in, size_t n_in,
    struct cinfer_err *e);
const struct ci_tensor *ci_subgraph_output(const struct cinfer_model *sg, size_t i);
void ci_subgraph_release(struct cinfer_model *sg);
/* shape.c: permutes x's axes into dst (count elements). */
void ci_transpose(const struct ci_tensor *x, const int *perm, void *dst);

/* ---- registry ------------------------------------------------------------ */
typedef int (*ci_op_run_fn)(struct ci_kctx *k, struct cinfer_err *e);
typedef int (*ci_op_check_fn)(const struct ci_node *n, int opset, struct cinfer_err *e);
struct ci_op {
	const char *name;
	const char *domain;		/* "" for ai.onnx */
	int min_opset;			/* oldest version handled */
	ci_op_run_fn run;
	ci_op_check_fn check;		/* optional, at load */
	ci_op_run_fn prepare;		/* optional, once at load: see ci_state_set */
};
/* Input/output counts the ONNX spec allows (ops/arity.c, generated). */
struct ci_formal {
	uint32_t mask;		/* allowed element types: bit (1 << dtype) */
	int group;		/* type constraint index; -1: a fixed type */
	int variadic, homogeneous;
};
struct ci_op_arity {
	const char *name;
	int since, min_in, max_in, min_out, max_out;
	int n_fin, n_fout;
	const struct ci_formal *fin, *fout;
};
extern const struct ci_op_arity ci_op_arity_table[];
extern const size_t ci_op_arity_count;
/* The schema version of name in force at opset; NULL if unknown. */
const struct ci_op_arity *ci_op_arity_find(const char *name, int opset);

/* NULL if op_type/domain/opset is not implemented. */
const struct ci_op *ci_op_find(const char *domain, const char *op_type, int opset);
/* Registry walk for docs and tests; NULL past the end. */
const struct ci_op *ci_op_at(size_t i);

#define CI_OP_DEF(sym, opname, minv, runfn) \
	const struct ci_op ci_op_##sym = { .name = opname, .domain = "", \
	    .min_opset = (minv), .run = (runfn) }
/* An ONNX op with a prepare hook (see ci_state_set). */
#define CI_OP_DEF_PREP(sym, opname, minv, runfn, prepfn) \
	const struct ci_op ci_op_##sym = { .name = opname, .domain = "", \
	    .min_opset = (minv), .run = (runfn), .prepare = (prepfn) }
/* An op of cinfer's internal domain "com.cinfer" (fused nodes made by the
 * graph passes, graph.h); prepfn may be NULL. */
#define CI_OP_DEF_INTERNAL(sym, opname, runfn, prepfn) \
	const struct ci_op ci_op_##sym = { .name = opname, .domain = "com.cinfer", \
	    .min_opset = 1, .run = (runfn), .prepare = (prepfn) }

/* Common failure helpers for kernels. */
#define CI_STAGE_OP "runtime.op"
int ci_op_fail(struct ci_kctx *k, struct cinfer_err *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Broadcasting of two or more shapes (numpy rules). */
int ci_broadcast(int na, const int64_t *da, int nb, const int64_t *db, int *nout,
    int64_t *dout);
/* Normalizes axis into [0, rank) or returns -1. */
int ci_axis(int64_t axis, int rank);

/* half/bfloat conversions */
float ci_f16_to_f32(uint16_t h);
uint16_t ci_f32_to_f16(float f);
float ci_bf16_to_f32(uint16_t h);
uint16_t ci_f32_to_bf16(float f);

/* matmul.c: output shape of numpy matmul of a and b. */
int ci_matmul_shape(struct ci_kctx *k, const struct ci_tensor *a, const struct ci_tensor *b,
    int *nd, int64_t *dims, size_t *m, size_t *n, size_t *kk, struct cinfer_err *e);
/* Copies element si of src to element di of dst converting types (Cast). */
void ci_convert(void *dst, int ddt, const void *src, int sdt, size_t n);

/*
 * Whether kernels take their AVX2+FMA paths (files *_avx2.c): the CPU has
 * both and no test forced the portable paths (ci_sgemm_path_set, sgemm.h).
 */
int ci_use_avx2(void);

/* sgemm.c: C[m,n] = alpha * op(A) op(B) + beta * C, row major. */
void ci_sgemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
    const float *a, size_t lda, const float *b, size_t ldb, float beta,
    float *c, size_t ldc);

#endif
