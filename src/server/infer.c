/*
 * Inference: a bounded queue in front of one worker that batches requests
 * of the same shape (up to max_batch, waiting at most max_wait_ms), runs the
 * model, and hands each answer back to the event loop with its receipt.
 *
 * Inputs and outputs never reach a log: lines carry the request id, the
 * model, the batch size and timings. Request and response bodies are wiped
 * once answered.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "cinfer/receipt.h"
#include "cinfer/runtime.h"
#include "core/json.h"
#include "crypto/crypto.h"
#include "server/server.h"

#define STAGE "server.infer"
#define MAX_ELEMS (16u << 20)
#define MAX_IO 16
#define CT_BINARY "application/x-cinfer-tensors"

void srv_reply_json(struct evhttp_request *req, int code, json_t *v);
void srv_reply_error(struct evhttp_request *req, int code, const char *reason, const char *text);

struct job {
	struct srv *s;
	struct evhttp_request *req;
	uint64_t id;
	int binary;
	struct cinfer_tensor in[MAX_IO];
	size_t n_in;
	struct cinfer_tensor out[MAX_IO];
	size_t n_out;
	uint8_t nonce[32];
	uint8_t in_commit[32];
	int status;			/* HTTP status of the answer */
	char err_code[40];
	char err_text[192];
	struct timespec t_arrive, t_start, t_end;
	size_t batch;
	struct job *next;
};

struct srv_infer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	int depth;
	int stop;
	pthread_t worker;
	int started;
	struct cinfer_model *model;
	/*
	 * Per-client token buckets keyed by the peer address (loop thread only):
	 * open addressing, 8 probes; a full neighbourhood evicts its idlest entry,
	 * which then starts over with a full bucket.
	 */
	struct {
		char addr[48];
		double tokens;
		double last;
	} rl[1024];
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void
job_free(struct job *j)
{
	for (size_t i = 0; i < j->n_in; i++) {
		ci_wipe(j->in[i].data, j->in[i].size);
		cinfer_tensor_clear(&j->in[i]);
	}
	for (size_t i = 0; i < j->n_out; i++) {
		ci_wipe(j->out[i].data, j->out[i].size);
		cinfer_tensor_clear(&j->out[i]);
	}
	ci_wipe(j->nonce, sizeof(j->nonce));
	ci_free(j);
}

/* ---- request decoding ----------------------------------------------------- */

static int
fail_job(struct job *j, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail_job(struct job *j, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	j->status = status;
	snprintf(j->err_code, sizeof(j->err_code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(j->err_text, sizeof(j->err_text), fmt, ap);
	va_end(ap);
	ci_str_mask(j->err_text);
	return -1;
}

static int
dtype_of(const char *s)
{
	static const struct { const char *n; int t; } map[] = {
		{ "float32", CINFER_DT_FLOAT }, { "float", CINFER_DT_FLOAT },
		{ "int64", CINFER_DT_INT64 }, { "int32", CINFER_DT_INT32 },
		{ "uint8", CINFER_DT_UINT8 }, { "int8", CINFER_DT_INT8 },
		{ "bool", CINFER_DT_BOOL }, { "float64", CINFER_DT_DOUBLE },
	};

	for (size_t i = 0; i < CI_ARRAY_LEN(map); i++)
		if (strcmp(s, map[i].n) == 0)	/* public */
			return map[i].t;
	return 0;
}

static const char *
dtype_str(int t)
{
	switch (t) {
	case CINFER_DT_FLOAT: return "float32";
	case CINFER_DT_INT64: return "int64";
	case CINFER_DT_INT32: return "int32";
	case CINFER_DT_UINT8: return "uint8";
	case CINFER_DT_INT8: return "int8";
	case CINFER_DT_BOOL: return "bool";
	case CINFER_DT_DOUBLE: return "float64";
	default: return "unsupported";
	}
}

static int
store_elem(struct cinfer_tensor *t, size_t i, const json_t *v)
{
	double d;

	if (json_is_integer(v))
		d = (double)json_integer_value(v);
	else if (json_is_real(v))
		d = json_real_value(v);
	else if (json_is_boolean(v))
		d = json_is_true(v);
	else
		return -1;
	switch (t->dtype) {
	case CINFER_DT_FLOAT: ((float *)t->data)[i] = (float)d; break;
	case CINFER_DT_DOUBLE: ((double *)t->data)[i] = d; break;
	case CINFER_DT_INT64:
		if (!json_is_integer(v))
			return -1;
		((int64_t *)t->data)[i] = (int64_t)json_integer_value(v);
		break;
	case CINFER_DT_INT32:
		if (!json_is_integer(v) || d < INT32_MIN || d > INT32_MAX)
			return -1;
		((int32_t *)t->data)[i] = (int32_t)json_integer_value(v);
		break;
	case CINFER_DT_UINT8:
		if (!json_is_integer(v) || d < 0 || d > 255)
			return -1;
		((uint8_t *)t->data)[i] = (uint8_t)d;
		break;
	case CINFER_DT_INT8:
		if (!json_is_integer(v) || d < -128 || d > 127)
			return -1;
		((int8_t *)t->data)[i] = (int8_t)d;
		break;
	case CINFER_DT_BOOL: ((uint8_t *)t->data)[i] = d != 0; break;
	default: return -1;
	}
	return 0;
}

/* Fills job inputs from {"inputs": {"name": {"dtype", "shape", "data"}}}. */
static int
decode_json(struct job *j, struct cinfer_model *m, const uint8_t *body, size_t size)
{
	static const char *const keys[] = { "inputs", NULL };
	static const char *const tkeys[] = { "dtype", "shape", "data", NULL };
	json_t *root = NULL, *inputs;
	struct cinfer_err e = { 0 };
	int rc = -1;

	if (ci_json_parse(body, size, STAGE, &root, &e) != 0)
		return fail_job(j, 400, "bad_json", "%s", e.msg);
	if (!json_is_object(root) || ci_json_known_keys(root, keys, STAGE, "request", &e) != 0) {
		fail_job(j, 400, "bad_request", "%s", e.msg[0] ? e.msg : "body must be {\"inputs\": {...}}");
		goto out;
	}
	inputs = json_object_get(root, "inputs");
	if (!json_is_object(inputs)) {
		fail_job(j, 400, "bad_request", "body must be {\"inputs\": {name: tensor}}");
		goto out;
	}
	j->n_in = cinfer_model_input_count(m);
	if (j->n_in > MAX_IO || json_object_size(inputs) != j->n_in) {
		fail_job(j, 400, "bad_inputs", "the model takes %zu inputs, %zu given", j->n_in,
		    json_object_size(inputs));
		j->n_in = 0;
		goto out;
	}
	for (size_t i = 0; i < j->n_in; i++) {
		const char *name = cinfer_model_input_name(m, i), *dts = "float32";
		json_t *t = json_object_get(inputs, name), *shape, *data;
		struct cinfer_tensor *x = &j->in[i];
		size_t count = 1;
		int want_dt, ndim;
		int64_t dims[CINFER_MAX_DIMS];

		if (!json_is_object(t) || ci_json_known_keys(t, tkeys, STAGE, name, &e) != 0) {
			fail_job(j, 400, "bad_inputs", "input \"%s\" missing or not {dtype, shape, data}", name);
			goto out;
		}
		if (cinfer_model_input_info(m, i, &want_dt, &ndim, dims) != 0)
			want_dt = CINFER_DT_FLOAT;
		(void)ci_json_str(t, "dtype", 0, &dts, STAGE, NULL);
		x->dtype = dtype_of(dts);
		if (x->dtype == 0 || x->dtype != want_dt) {
			fail_job(j, 400, "bad_dtype", "input \"%s\" must be %s", name, dtype_str(want_dt));
			goto out;
		}
		shape = json_object_get(t, "shape");
		data = json_object_get(t, "data");
		if (!json_is_array(shape) || json_array_size(shape) == 0 ||
		    json_array_size(shape) > CINFER_MAX_DIMS || !json_is_array(data)) {
			fail_job(j, 400, "bad_shape", "input \"%s\" needs shape (1-%d dims) and data",
			    name, CINFER_MAX_DIMS);
			goto out;
		}
		x->ndim = (int)json_array_size(shape);
		for (int d = 0; d < x->ndim; d++) {
			json_t *dv = json_array_get(shape, (size_t)d);
			int64_t n = json_is_integer(dv) ? json_integer_value(dv) : -1;
			if (n < 0 || (n > 0 && count > MAX_ELEMS / (size_t)n)) {
				fail_job(j, 400, "bad_shape", "input \"%s\": bad or too large shape", name);
				goto out;
			}
			if (ndim == x->ndim && dims[d] >= 0 && dims[d] != n) {
				fail_job(j, 400, "bad_shape", "input \"%s\" dim %d must be %lld", name, d,
				    (long long)dims[d]);
				goto out;
			}
			x->dims[d] = n;
			count *= (size_t)n;
		}
		if (ndim >= 0 && ndim != x->ndim) {
			fail_job(j, 400, "bad_shape", "input \"%s\" must have %d dims", name, ndim);
			goto out;
		}
		if (json_array_size(data) != count) {
			fail_job(j, 400, "bad_shape", "input \"%s\": shape holds %zu values, data has %zu",
			    name, count, json_array_size(data));
			goto out;
		}
		x->size = count * cinfer_dtype_size(x->dtype);
		x->data = ci_alloc(x->size ? x->size : 1);
		if (x->data == NULL) {
			fail_job(j, 503, "out_of_memory", "out of memory");
			goto out;
		}
		for (size_t k = 0; k < count; k++)
			if (store_elem(x, k, json_array_get(data, k)) != 0) {
				fail_job(j, 400, "bad_value", "input \"%s\" value %zu is not a %s", name, k,
				    dtype_str(x->dtype));
				goto out;
			}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Binary: repeated (le32 size, TensorProto with name), one per model input. */
static int
decode_binary(struct job *j, struct cinfer_model *m, const uint8_t *body, size_t size)
{
	struct ci_rd r;

	ci_rd_init(&r, body, size);
	j->n_in = cinfer_model_input_count(m);
	if (j->n_in > MAX_IO)
		return fail_job(j, 400, "bad_inputs", "too many model inputs");
	for (size_t i = 0; i < j->n_in; i++) {
		uint32_t n = 0;
		const uint8_t *p;
		struct cinfer_err e = { 0 };
		char *name = NULL;
		struct cinfer_tensor t;
		size_t slot;

		if (ci_rd_u32le(&r, &n) != 0 || ci_rd_bytes(&r, n, &p) != 0)
			return fail_job(j, 400, "bad_body", "truncated tensor %zu", i);
		if (cinfer_tensor_read_pb(p, n, &t, &name, &e) != 0)
			return fail_job(j, 400, "bad_tensor", "tensor %zu: %s", i, e.msg);
		for (slot = 0; slot < j->n_in; slot++)
			if (name != NULL && strcmp(name, cinfer_model_input_name(m, slot)) == 0)	/* public */
				break;
		if (slot == j->n_in || j->in[slot].data != NULL) {
			cinfer_tensor_clear(&t);
			cinfer_buf_free(name);
			return fail_job(j, 400, "bad_inputs", "tensor %zu names no (new) model input", i);
		}
		cinfer_buf_free(name);
		j->in[slot] = t;
	}
	if (ci_rd_done(&r) != 0)
		return fail_job(j, 400, "bad_body", "bytes after the last tensor");
	return 0;
}

/* ---- the worker ------------------------------------------------------------ */

static int
same_shape_tail(const struct cinfer_tensor *a, const struct cinfer_tensor *b)
{
	if (a->dtype != b->dtype || a->ndim != b->ndim || a->ndim < 1)
		return 0;
	for (int d = 1; d < a->ndim; d++)
		if (a->dims[d] != b->dims[d])
			return 0;
	return 1;
}

static void answer(evutil_socket_t fd, short what, void *arg);

static void
post_answer(struct job *j)
{
	struct timeval zero = { 0, 0 };

	clock_gettime(CLOCK_MONOTONIC, &j->t_end);
	if (event_base_once(j->s->base, -1, EV_TIMEOUT, answer, j, &zero) != 0)
		ci_log(CI_LOG_ERROR, STAGE, "req=%llu cannot hand back the answer",
		    (unsigned long long)j->id);
}

/* Runs a batch of jobs whose single-input tensors share all dims but the first. */
static void
run_batch(struct srv_infer *in, struct job **jobs, size_t n)
{
	struct cinfer_err e = { 0 };
	size_t n_out = cinfer_model_output_count(in->model);
	struct cinfer_tensor big, out[MAX_IO];
	int64_t rows = 0;
	size_t off = 0;

	if (n == 1 || jobs[0]->n_in != 1) {
		for (size_t k = 0; k < n; k++) {
			struct job *j = jobs[k];
			clock_gettime(CLOCK_MONOTONIC, &j->t_start);
			j->batch = 1;
			memset(&e, 0, sizeof(e));
			if (n_out > MAX_IO || cinfer_model_run(in->model, j->in, j->n_in, j->out, n_out, &e) != 0)
				fail_job(j, e.code == CINFER_E_MALFORMED || e.code == CINFER_E_USAGE ? 400 : 500,
				    "inference_failed", "%s", e.msg);
			else
				j->n_out = n_out;
			post_answer(j);
		}
		return;
	}
	memset(&big, 0, sizeof(big));
	big = jobs[0]->in[0];
	for (size_t k = 0; k < n; k++)
		rows += jobs[k]->in[0].dims[0];
	big.dims[0] = rows;
	big.size = 0;
	for (size_t k = 0; k < n; k++)
		big.size += jobs[k]->in[0].size;
	big.data = ci_alloc(big.size ? big.size : 1);
	for (size_t k = 0; big.data != NULL && k < n; k++) {
		memcpy((uint8_t *)big.data + off, jobs[k]->in[0].data, jobs[k]->in[0].size);
		off += jobs[k]->in[0].size;
		clock_gettime(CLOCK_MONOTONIC, &jobs[k]->t_start);
		jobs[k]->batch = n;
	}
	memset(out, 0, sizeof(out));
	if (big.data == NULL || n_out > MAX_IO ||
	    cinfer_model_run(in->model, &big, 1, out, n_out, &e) != 0) {
		for (size_t k = 0; k < n; k++) {
			fail_job(jobs[k], 500, "inference_failed", "%s", e.msg[0] ? e.msg : "out of memory");
			post_answer(jobs[k]);
		}
		goto out;
	}
	/* Split every output along its first dimension, row for row. */
	for (size_t o = 0; o < n_out; o++) {
		size_t row_bytes;
		int64_t r0 = 0;
		if (out[o].ndim < 1 || out[o].dims[0] != rows)
			goto unbatchable;
		row_bytes = rows ? out[o].size / (size_t)rows : 0;
		for (size_t k = 0; k < n; k++) {
			struct cinfer_tensor *t = &jobs[k]->out[o];
			int64_t r = jobs[k]->in[0].dims[0];
			*t = out[o];
			t->dims[0] = r;
			t->size = (size_t)r * row_bytes;
			t->data = ci_alloc(t->size ? t->size : 1);
			if (t->data == NULL)
				goto unbatchable;
			memcpy(t->data, (uint8_t *)out[o].data + (size_t)r0 * row_bytes, t->size);
			r0 += r;
			jobs[k]->n_out = o + 1;
		}
	}
	for (size_t k = 0; k < n; k++)
		post_answer(jobs[k]);
	goto out;
unbatchable:
	/* The model's outputs don't follow the batch: answer one by one. */
	for (size_t k = 0; k < n; k++) {
		for (size_t o = 0; o < jobs[k]->n_out; o++)
			cinfer_tensor_clear(&jobs[k]->out[o]);
		jobs[k]->n_out = 0;
	}
	for (size_t o = 0; o < n_out; o++) {
		ci_wipe(out[o].data, out[o].size);
		cinfer_tensor_clear(&out[o]);
	}
	ci_wipe(big.data, big.size);
	ci_free(big.data);
	big.data = NULL;
	run_batch(in, jobs, 1);
	for (size_t k = 1; k < n; k++)
		run_batch(in, jobs + k, 1);
	return;
out:
	for (size_t o = 0; o < n_out; o++) {
		ci_wipe(out[o].data, out[o].size);
		cinfer_tensor_clear(&out[o]);
	}
	if (big.data != NULL) {
		ci_wipe(big.data, big.size);
		ci_free(big.data);
	}
}

static void *
worker(void *arg)
{
	struct srv *s = arg;
	struct srv_infer *in = s->infer;
	struct job *batch[64];

	for (;;) {
		size_t n = 0;
		pthread_mutex_lock(&in->mu);
		while (in->head == NULL && !in->stop)
			pthread_cond_wait(&in->cv, &in->mu);
		if (in->stop && in->head == NULL) {
			pthread_mutex_unlock(&in->mu);
			return NULL;
		}
		/* Gather same-shaped requests, waiting up to max_wait_ms for more. */
		{
			struct timespec deadline;
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += (long)s->cfg.max_wait_ms * 1000000L;
			deadline.tv_sec += deadline.tv_nsec / 1000000000L;
			deadline.tv_nsec %= 1000000000L;
			for (;;) {
				while (in->head != NULL && n < (size_t)s->cfg.max_batch && n < 64 &&
				    (n == 0 || (in->head->n_in == 1 && batch[0]->n_in == 1 &&
				    !in->head->binary == !batch[0]->binary &&
				    same_shape_tail(&in->head->in[0], &batch[0]->in[0])))) {
					batch[n++] = in->head;
					in->head = in->head->next;
					if (in->head == NULL)
						in->tail = NULL;
				}
				if (n >= (size_t)s->cfg.max_batch || in->head != NULL || in->stop ||
				    s->cfg.max_wait_ms <= 0)
					break;
				if (pthread_cond_timedwait(&in->cv, &in->mu, &deadline) == ETIMEDOUT)
					break;
			}
		}
		pthread_mutex_unlock(&in->mu);
		run_batch(in, batch, n);
	}
}

/* ---- back on the event loop ----------------------------------------------- */

static json_t *
tensor_json(const struct cinfer_tensor *t)
{
	json_t *shape = json_array(), *data = json_array();
	size_t count = 1;

	for (int d = 0; d < t->ndim; d++) {
		json_array_append_new(shape, json_integer(t->dims[d]));
		count *= (size_t)t->dims[d];
	}
	for (size_t i = 0; i < count; i++) {
		json_t *v;
		switch (t->dtype) {
		case CINFER_DT_FLOAT: {
			float f = ((const float *)t->data)[i];
			v = isfinite(f) ? json_real(f) : json_null();
			break;
		}
		case CINFER_DT_DOUBLE: v = json_real(((const double *)t->data)[i]); break;
		case CINFER_DT_INT64: v = json_integer(((const int64_t *)t->data)[i]); break;
		case CINFER_DT_INT32: v = json_integer(((const int32_t *)t->data)[i]); break;
		case CINFER_DT_UINT8: v = json_integer(((const uint8_t *)t->data)[i]); break;
		case CINFER_DT_INT8: v = json_integer(((const int8_t *)t->data)[i]); break;
		case CINFER_DT_BOOL: v = json_boolean(((const uint8_t *)t->data)[i]); break;
		default: v = json_null(); break;
		}
		json_array_append_new(data, v);
	}
	return json_pack("{s:s, s:o, s:o}", "dtype", dtype_str(t->dtype), "shape", shape, "data", data);
}

static void
answer(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	struct srv *s = j->s;
	struct srv_infer *in = s->infer;
	struct evbuffer *b = NULL;
	struct evkeyvalq *h = evhttp_request_get_output_headers(j->req);
	char *body = NULL, *jws = NULL, rid[40];
	size_t body_size = 0;
	uint64_t us;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&in->mu);
	in->depth--;
	atomic_store(&s->m.queue_depth, in->depth);
	pthread_mutex_unlock(&in->mu);
	snprintf(rid, sizeof(rid), "%016llx", (unsigned long long)j->id);
	if (j->status != 0) {
		atomic_fetch_add(&s->m.infer_err, 1);
		ci_log(CI_LOG_INFO, STAGE, "req=%s status=%d error=%s", rid, j->status, j->err_code);
		srv_reply_error(j->req, j->status, j->err_code, j->err_text);
		job_free(j);
		return;
	}
	if (j->binary) {
		struct evbuffer *tmp = evbuffer_new();
		for (size_t o = 0; tmp != NULL && o < j->n_out; o++) {
			uint8_t *pb = NULL, len[4];
			size_t pn = 0;
			struct cinfer_err e = { 0 };
			if (cinfer_tensor_write_pb(&j->out[o], cinfer_model_output_name(in->model, o),
				&pb, &pn, &e) == 0) {
				len[0] = (uint8_t)pn;
				len[1] = (uint8_t)(pn >> 8);
				len[2] = (uint8_t)(pn >> 16);
				len[3] = (uint8_t)(pn >> 24);
				evbuffer_add(tmp, len, 4);
				evbuffer_add(tmp, pb, pn);
				ci_wipe(pb, pn);
				cinfer_buf_free(pb);
			}
		}
		body_size = tmp ? evbuffer_get_length(tmp) : 0;
		body = tmp ? malloc(body_size + 1) : NULL;
		if (body != NULL)
			evbuffer_remove(tmp, body, body_size);
		if (tmp)
			evbuffer_free(tmp);
	} else {
		json_t *outs = json_object(), *root;
		for (size_t o = 0; o < j->n_out; o++)
			json_object_set_new(outs, cinfer_model_output_name(in->model, o), tensor_json(&j->out[o]));
		root = json_pack("{s:o, s:s, s:s}", "outputs", outs, "model", s->cfg.model_name,
		    "request_id", rid);
		body = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		body_size = body ? strlen(body) : 0;
		json_decref(root);
	}
	if (body == NULL) {
		srv_reply_error(j->req, 500, "encode_failed", "cannot encode the outputs");
		job_free(j);
		return;
	}
	{
		struct cinfer_receipt r;
		struct cinfer_err e = { 0 };
		memset(&r, 0, sizeof(r));
		snprintf(r.session, sizeof(r.session), "%s", rid);
		r.iat = ci_time_now();
		r.platform = s->boot_evidence.platform;
		r.simulated = r.platform == CINFER_PLATFORM_SIM;
		memcpy(r.measurement, s->measurement, s->measurement_size);
		r.measurement_size = s->measurement_size;
		snprintf(r.model_name, sizeof(r.model_name), "%s", s->cfg.model_name);
		memcpy(r.model_sha256, s->model_sha256, 32);
		memcpy(r.policy_sha256, s->policy_sha256, 32);
		memcpy(r.tls_key_sha256, s->key_sha256[0], 32);
		memcpy(r.client_nonce, j->nonce, 32);
		memcpy(r.input_commitment, j->in_commit, 32);
		cinfer_receipt_commit(1, j->nonce, body, body_size, r.output_commitment);
		jws = cinfer_receipt_sign(s->receipt_key, &r, &e);
		if (jws == NULL) {
			/* No receipt, no answer: outputs never leave unsigned. */
			ci_log(CI_LOG_ERROR, STAGE, "req=%s receipt not signed: %s", rid, e.msg);
			atomic_fetch_add(&s->m.infer_err, 1);
			srv_reply_error(j->req, 500, "receipt_failed", "the answer could not be signed");
			ci_wipe(body, body_size);
			free(body);
			job_free(j);
			return;
		}
	}
	evhttp_add_header(h, "Content-Type", j->binary ? CT_BINARY : "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Cinfer-Request-Id", rid);
	if (jws != NULL)
		evhttp_add_header(h, "Cinfer-Receipt", jws);
	b = evbuffer_new();
	if (b != NULL)
		evbuffer_add(b, body, body_size);
	evhttp_send_reply(j->req, 200, NULL, b);
	if (b != NULL)
		evbuffer_free(b);
	us = (uint64_t)(ms_between(&j->t_arrive, &j->t_end) * 1000.0);
	srv_metrics_observe(&s->m, us);
	atomic_fetch_add(&s->m.infer_ok, 1);
	ci_log(CI_LOG_INFO, STAGE, "req=%s status=200 batch=%zu queue_ms=%.3f run_ms=%.3f", rid,
	    j->batch, ms_between(&j->t_arrive, &j->t_start), ms_between(&j->t_start, &j->t_end));
	ci_wipe(body, body_size);
	free(body);
	free(jws);
	job_free(j);
}

int
srv_rate_ok(struct srv *s, struct evhttp_request *req)
{
	struct srv_infer *in = s->infer;
	const char *host = NULL;
	char key[48];
	ev_uint16_t port;
	uint32_t h = 2166136261u;
	size_t slot = 0, idle = 0;
	double t = now_s(), oldest = 1e300;
	int found = 0;

	if (s->cfg.rate_per_sec <= 0)
		return 1;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), (char **)&host, &port);
	snprintf(key, sizeof(key), "%s", host ? host : "?");
	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (size_t i = 0; i < 8; i++) {
		size_t k = (h + i) % CI_ARRAY_LEN(in->rl);
		if (strcmp(in->rl[k].addr, key) == 0) {	/* public */
			slot = k;
			found = 1;
			break;
		}
		if (in->rl[k].last < oldest) {
			oldest = in->rl[k].last;
			idle = k;
		}
	}
	if (!found) {
		slot = idle;
		snprintf(in->rl[slot].addr, sizeof(in->rl[slot].addr), "%s", key);
		in->rl[slot].tokens = s->cfg.rate_per_sec;
		in->rl[slot].last = t;
	}
	in->rl[slot].tokens += (t - in->rl[slot].last) * s->cfg.rate_per_sec;
	if (in->rl[slot].tokens > s->cfg.rate_per_sec)
		in->rl[slot].tokens = s->cfg.rate_per_sec;
	in->rl[slot].last = t;
	if (in->rl[slot].tokens < 1)
		return 0;
	in->rl[slot].tokens -= 1;
	return 1;
}

static void
on_infer(struct evhttp_request *req, struct srv *s)
{
	struct srv_infer *in = s->infer;
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	size_t size = evbuffer_get_length(b);
	const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	const char *nonce_hex = evhttp_find_header(evhttp_request_get_input_headers(req), "Cinfer-Nonce");
	uint8_t *body;
	struct job *j;
	size_t nn = 0;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		srv_reply_error(req, 405, "method_not_allowed", "POST tensors to this endpoint");
		return;
	}
	if (!s->ready) {
		srv_reply_error(req, 503, "not_ready", "the model is not loaded yet");
		return;
	}
	if (s->draining) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		srv_reply_error(req, 503, "draining", "this instance is shutting down");
		return;
	}
	if (!srv_rate_ok(s, req)) {
		atomic_fetch_add(&s->m.rate_limited, 1);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		srv_reply_error(req, 429, "rate_limited", "too many requests from this client");
		return;
	}
	pthread_mutex_lock(&in->mu);
	if (in->depth >= s->cfg.queue_max) {
		pthread_mutex_unlock(&in->mu);
		atomic_fetch_add(&s->m.shed, 1);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		srv_reply_error(req, 503, "overloaded", "the queue is full; retry shortly");
		return;
	}
	pthread_mutex_unlock(&in->mu);
	j = ci_calloc(1, sizeof(*j));
	body = ci_alloc(size ? size : 1);
	if (j == NULL || body == NULL) {
		ci_free(j);
		ci_free(body);
		srv_reply_error(req, 503, "out_of_memory", "out of memory");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &j->t_arrive);
	j->s = s;
	j->req = req;
	/* Random ids: a counter would tell anyone holding receipts the request volume. */
	if (ci_random(&j->id, sizeof(j->id), NULL) != 0)
		j->id = ++s->next_request_id;
	evbuffer_remove(b, body, size);
	j->binary = ctype != NULL && strncmp(ctype, CT_BINARY, strlen(CT_BINARY)) == 0;
	if (nonce_hex == NULL || ci_hex_decode(nonce_hex, strlen(nonce_hex), j->nonce, 32, &nn,
		NULL) != 0 || nn != 32) {
		fail_job(j, 400, "bad_nonce", "send a fresh 32-byte Cinfer-Nonce header (hex); "
		    "it salts the receipt's commitments");
	} else {
		cinfer_receipt_commit(0, j->nonce, body, size, j->in_commit);
		if (j->binary)
			(void)decode_binary(j, in->model, body, size);
		else
			(void)decode_json(j, in->model, body, size);
	}
	ci_wipe(body, size);
	ci_free(body);
	pthread_mutex_lock(&in->mu);
	in->depth++;
	atomic_store(&s->m.queue_depth, in->depth);
	if (j->status != 0) {
		pthread_mutex_unlock(&in->mu);
		post_answer(j);
		return;
	}
	if (in->tail)
		in->tail->next = j;
	else
		in->head = j;
	in->tail = j;
	pthread_cond_signal(&in->cv);
	pthread_mutex_unlock(&in->mu);
}

static json_t *
io_json(struct cinfer_model *m, int output)
{
	json_t *arr = json_array();
	size_t n = output ? cinfer_model_output_count(m) : cinfer_model_input_count(m);

	for (size_t i = 0; i < n; i++) {
		json_t *shape = json_array();
		int dt = 0, nd = -1;
		int64_t dims[CINFER_MAX_DIMS];
		if (!output && cinfer_model_input_info(m, i, &dt, &nd, dims) == 0)
			for (int d = 0; d < nd; d++)
				json_array_append_new(shape, dims[d] >= 0 ? json_integer(dims[d]) : json_null());
		if (output) {
			json_decref(shape);
			json_array_append_new(arr, json_pack("{s:s, s:n, s:n}", "name",
			    cinfer_model_output_name(m, i), "dtype", "shape"));
		} else {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "name",
			    cinfer_model_input_name(m, i), "dtype", dtype_str(dt), "shape", shape));
		}
	}
	return arr;
}

static void
on_models(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	json_t *list, *out;
	char hex[65];

	atomic_fetch_add(&s->m.requests, 1);
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
		srv_reply_error(req, 405, "method_not_allowed", "GET this endpoint");
		return;
	}
	list = json_array();
	if (s->ready) {
		ci_hex_encode(s->model_sha256, 32, hex);
		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o}", "name", s->cfg.model_name,
		    "sha256", hex, "inputs", io_json(s->infer->model, 0), "outputs",
		    io_json(s->infer->model, 1)));
	}
	out = json_pack("{s:o}", "models", list);
	srv_reply_json(req, 200, out);
	json_decref(out);
}

/* /v1/models/<name>/infer */
static void
on_model_path(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const char *prefix = "/v1/models/";
	size_t pl = strlen(prefix), nl = strlen(s->cfg.model_name);

	atomic_fetch_add(&s->m.requests, 1);
	if (path != NULL && strncmp(path, prefix, pl) == 0 &&
	    strncmp(path + pl, s->cfg.model_name, nl) == 0 && strcmp(path + pl + nl, "/infer") == 0) {
		on_infer(req, s);
		return;
	}
	srv_reply_error(req, 404, "not_found", "no such endpoint or model");
}

int
srv_infer_start(struct srv *s, const uint8_t *model, size_t size, struct cinfer_err *e)
{
	struct srv_infer *in = ci_calloc(1, sizeof(*in));

	if (in == NULL)
		return ci_fail(e, CINFER_E_NOMEM, STAGE, "out of memory");
	s->infer = in;
	pthread_mutex_init(&in->mu, NULL);
	pthread_cond_init(&in->cv, NULL);
	if (cinfer_model_load_mem(model, size, NULL, &in->model, e) != 0)
		return -1;
	cinfer_model_set_threads(in->model, s->cfg.threads);
	ci_sha256(model, size, s->model_sha256);
	if (pthread_create(&in->worker, NULL, worker, s) != 0)
		return ci_fail(e, CINFER_E_INTERNAL, STAGE, "cannot start the inference worker");
	in->started = 1;
	s->ready = 1;
	return 0;
}

void
srv_infer_stop(struct srv *s)
{
	struct srv_infer *in = s->infer;

	if (in == NULL)
		return;
	if (in->started) {
		pthread_mutex_lock(&in->mu);
		in->stop = 1;
		pthread_cond_broadcast(&in->cv);
		pthread_mutex_unlock(&in->mu);
		pthread_join(in->worker, NULL);
	}
	cinfer_model_free(in->model);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->cv);
	ci_free(in);
	s->infer = NULL;
}

void
srv_http_routes_extra(struct srv *s)
{
	evhttp_set_cb(s->http, "/v1/models", on_models, s);
}

void
srv_http_gencb(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	if (path != NULL && strncmp(path, "/v1/models/", 11) == 0) {
		on_model_path(req, arg);
		return;
	}
	atomic_fetch_add(&((struct srv *)arg)->m.requests, 1);
	srv_reply_error(req, 404, "not_found", "no such endpoint");
}
