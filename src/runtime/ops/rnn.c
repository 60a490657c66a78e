/*
 * Recurrent layers: RNN, GRU, LSTM (fp32). Forward, reverse and
 * bidirectional; sequence_lens; initial states; LSTM peepholes and
 * input_forget; GRU linear_before_reset; clip; layout 0 and 1; the
 * activation functions of the ONNX spec with activation_alpha/beta.
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

enum rk { K_RNN, K_GRU, K_LSTM };

struct act {
	int fn;
	float a, b;
};

enum { A_SIGMOID, A_TANH, A_RELU, A_AFFINE, A_LEAKY, A_THRELU, A_STANH, A_HSIG, A_ELU,
	A_SOFTSIGN, A_SOFTPLUS };

static float
act_apply(const struct act *f, float x)
{
	switch (f->fn) {
	case A_SIGMOID: return 1.0f / (1.0f + expf(-x));
	case A_TANH: return tanhf(x);
	case A_RELU: return x > 0 ? x : 0;
	case A_AFFINE: return f->a * x + f->b;
	case A_LEAKY: return x >= 0 ? x : f->a * x;
	case A_THRELU: return x > f->a ? x : 0;
	case A_STANH: return f->a * tanhf(f->b * x);
	case A_HSIG: { float v = f->a * x + f->b; return v < 0 ? 0 : v > 1 ? 1 : v; }
	case A_ELU: return x >= 0 ? x : f->a * (expf(x) - 1);
	case A_SOFTSIGN: return x / (1 + fabsf(x));
	default: return logf(1 + expf(x));
	}
}

static int
parse_acts(struct ci_kctx *k, int per_dir, int ndir, struct act *acts, struct cinfer_err *e)
{
	static const struct {
		const char *name;
		int fn, nparams;
		float da, db;
	} names[] = {
		{ "Sigmoid", A_SIGMOID, 0, 0, 0 }, { "Tanh", A_TANH, 0, 0, 0 }, { "Relu", A_RELU, 0, 0, 0 },
		{ "Affine", A_AFFINE, 2, 1, 0 }, { "LeakyRelu", A_LEAKY, 1, 0.01f, 0 },
		{ "ThresholdedRelu", A_THRELU, 1, 1, 0 }, { "ScaledTanh", A_STANH, 2, 1, 1 },
		{ "HardSigmoid", A_HSIG, 2, 0.2f, 0.5f }, { "Elu", A_ELU, 1, 1, 0 },
		{ "Softsign", A_SOFTSIGN, 0, 0, 0 }, { "Softplus", A_SOFTPLUS, 0, 0, 0 },
	};
	const struct ci_attr *an = ci_node_attr(k->node, "activations");
	const struct ci_attr *aa = ci_node_attr(k->node, "activation_alpha");
	const struct ci_attr *ab = ci_node_attr(k->node, "activation_beta");
	size_t ia = 0, ib = 0;
	int total = per_dir * ndir;

	if (an == NULL || an->type != CI_AT_STRINGS || an->n == 0) {
		for (int d = 0; d < ndir; d++)
			for (int i = 0; i < per_dir; i++) {
				struct act *f = &acts[d * per_dir + i];
				/* RNN: Tanh; GRU: Sigmoid, Tanh; LSTM: Sigmoid, Tanh, Tanh */
				f->fn = per_dir == 1 ? A_TANH : i == 0 ? A_SIGMOID : A_TANH;
				f->a = f->b = 0;
			}
		return 0;
	}
	if ((int)an->n != total)
		return ci_op_fail(k, e, "%zu activations, need %d", an->n, total);
	for (int i = 0; i < total; i++) {
		size_t j;
		for (j = 0; j < CI_ARRAY_LEN(names); j++)
			if (strcasecmp(an->strings[i], names[j].name) == 0)	/* public */
				break;
		if (j == CI_ARRAY_LEN(names))
			return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "activation %s",
			    an->strings[i]);
		acts[i].fn = names[j].fn;
		acts[i].a = names[j].da;
		acts[i].b = names[j].db;
		if (names[j].nparams >= 1 && aa && aa->type == CI_AT_FLOATS && ia < aa->n)
			acts[i].a = aa->floats[ia++];
		if (names[j].nparams >= 2 && ab && ab->type == CI_AT_FLOATS && ib < ab->n)
			acts[i].b = ab->floats[ib++];
	}
	return 0;
}

static float
clipv(float x, float c)
{
	if (c <= 0)
		return x;
	return x < -c ? -c : x > c ? c : x;
}

static int
rnn(struct ci_kctx *k, enum rk kind, struct cinfer_err *e)
{
	struct ci_tensor *x = ci_in(k, 0), *w = ci_in(k, 1), *r = ci_in(k, 2), *b = ci_in(k, 3);
	struct ci_tensor *sl = ci_in(k, 4), *h0 = ci_in(k, 5), *c0 = ci_in(k, 6), *pp = ci_in(k, 7);
	const char *dir = ci_attr_s(k->node, "direction", "forward");
	int layout = (int)ci_attr_i(k->node, "layout", 0);
	int lbr = (int)ci_attr_i(k->node, "linear_before_reset", 0);
	int ifg = (int)ci_attr_i(k->node, "input_forget", 0);
	float clip = ci_attr_f(k->node, "clip", 0);
	int ndir, G = kind == K_RNN ? 1 : kind == K_GRU ? 3 : 4, nact = kind == K_LSTM ? 3 :
	    kind == K_GRU ? 2 : 1;
	int64_t seq, batch, in, H, dims[4];
	struct act acts[6];
	float *h, *c, *g, *tmp;

	if (x == NULL || w == NULL || r == NULL)
		return ci_op_fail(k, e, "missing input");
	if (kind != K_LSTM) {
		c0 = NULL;
		pp = NULL;
	}
	for (int i = 0; i < 8; i++)
		if (ci_in(k, (size_t)i) && i != 4 && ci_in(k, (size_t)i)->dtype != CI_DT_FLOAT)
			return ci_fail(e, CINFER_E_UNSUPPORTED, CI_STAGE_OP, "%s: type", k->node->op_type);
	if (strcmp(dir, "forward") == 0 || strcmp(dir, "reverse") == 0)	/* public */
		ndir = 1;
	else if (strcmp(dir, "bidirectional") == 0)	/* public */
		ndir = 2;
	else
		return ci_op_fail(k, e, "direction %s", dir);
	if (x->ndim != 3 || w->ndim != 3 || r->ndim != 3 || (layout != 0 && layout != 1))
		return ci_op_fail(k, e, "ranks");
	seq = x->dims[layout ? 1 : 0];
	batch = x->dims[layout ? 0 : 1];
	in = x->dims[2];
	H = ci_attr_i(k->node, "hidden_size", r->dims[2]);
	if (H <= 0 || H > 1 << 16 || w->dims[0] != ndir || w->dims[1] != G * H || w->dims[2] != in ||
	    r->dims[0] != ndir || r->dims[1] != G * H || r->dims[2] != H)
		return ci_op_fail(k, e, "W or R shape");
	if (b && b->count != (size_t)(ndir * 2 * G * H))
		return ci_op_fail(k, e, "B shape");
	if (sl && (sl->count != (size_t)batch || (sl->dtype != CI_DT_INT32 && sl->dtype != CI_DT_INT64)))
		return ci_op_fail(k, e, "sequence_lens");
	if (h0 && h0->count != (size_t)(ndir * batch * H))
		return ci_op_fail(k, e, "initial_h shape");
	if (c0 && c0->count != (size_t)(ndir * batch * H))
		return ci_op_fail(k, e, "initial_c shape");
	if (pp && pp->count != (size_t)(ndir * 3 * H))
		return ci_op_fail(k, e, "P shape");
	for (int64_t i = 0; sl && i < batch; i++) {
		int64_t v = ci_tensor_i64(sl, (size_t)i);
		if (v < 0 || v > seq)
			return ci_op_fail(k, e, "sequence length out of range");
	}
	if (parse_acts(k, nact, ndir, acts, e) != 0)
		return -1;
	if (layout == 0) {
		dims[0] = seq; dims[1] = ndir; dims[2] = batch; dims[3] = H;
	} else {
		dims[0] = batch; dims[1] = seq; dims[2] = ndir; dims[3] = H;
	}
	if (ci_out(k, 0, CI_DT_FLOAT, 4, dims, e) != 0)
		return -1;
	if (layout == 0) {
		dims[0] = ndir; dims[1] = batch; dims[2] = H;
	} else {
		dims[0] = batch; dims[1] = ndir; dims[2] = H;
	}
	if (ci_out(k, 1, CI_DT_FLOAT, 3, dims, e) != 0 ||
	    (kind == K_LSTM && ci_out(k, 2, CI_DT_FLOAT, 3, dims, e) != 0))
		return -1;
	if (k->out[0])
		memset(k->out[0]->data, 0, k->out[0]->count * sizeof(float));
	h = ci_scratch(k, (size_t)(batch * H + 1) * sizeof(float), e);
	c = ci_scratch(k, (size_t)(batch * H + 1) * sizeof(float), e);
	g = ci_scratch(k, (size_t)(G * H + 1) * sizeof(float), e);
	tmp = ci_scratch(k, (size_t)(G * H + 1) * sizeof(float), e);
	if (!h || !c || !g || !tmp)
		return -1;
	for (int d = 0; d < ndir; d++) {
		int rev = (ndir == 2 && d == 1) || strcmp(dir, "reverse") == 0;	/* public */
		const float *W = (const float *)w->data + (size_t)(d * G * H * in);
		const float *R = (const float *)r->data + (size_t)(d * G * H * H);
		const float *Wb = b ? (const float *)b->data + (size_t)(d * 2 * G * H) : NULL;
		const float *Rb = Wb ? Wb + G * H : NULL;
		const float *P = pp ? (const float *)pp->data + (size_t)(d * 3 * H) : NULL;
		const struct act *f = &acts[d * nact];
		for (int64_t bi = 0; bi < batch; bi++) {
			int64_t len = sl ? ci_tensor_i64(sl, (size_t)bi) : seq;
			float *hb = h + bi * H, *cb = c + bi * H;
			for (int64_t j = 0; j < H; j++) {
				size_t hi = layout == 0 ? (size_t)((d * batch + bi) * H + j) :
				    (size_t)((bi * ndir + d) * H + j);
				hb[j] = h0 ? ((const float *)h0->data)[hi] : 0;
				cb[j] = c0 ? ((const float *)c0->data)[hi] : 0;
			}
			for (int64_t step = 0; step < len; step++) {
				int64_t t = rev ? len - 1 - step : step;
				const float *xt = (const float *)x->data + (layout == 0 ?
				    (size_t)((t * batch + bi) * in) : (size_t)((bi * seq + t) * in));
				/* g = W x + Wb (+ Rb), tmp = R h (+ Rb) */
				for (int64_t q = 0; q < G * H; q++) {
					float s = Wb ? Wb[q] : 0, s2 = Rb ? Rb[q] : 0;
					for (int64_t p = 0; p < in; p++)
						s += W[q * in + p] * xt[p];
					for (int64_t p = 0; p < H; p++)
						s2 += R[q * H + p] * hb[p];
					g[q] = s;
					tmp[q] = s2;
				}
				if (kind == K_RNN) {
					for (int64_t j = 0; j < H; j++)
						hb[j] = act_apply(&f[0], clipv(g[j] + tmp[j], clip));
				} else if (kind == K_GRU) {
					/* gates z, r, h: z and r first, h needs r of every unit */
					for (int64_t j = 0; j < H; j++) {
						g[j] = act_apply(&f[0], clipv(g[j] + tmp[j], clip));
						g[H + j] = act_apply(&f[0], clipv(g[H + j] + tmp[H + j], clip));
					}
					for (int64_t j = 0; j < H; j++) {
						float hh;
						if (lbr) {
							hh = g[2 * H + j] + g[H + j] * tmp[2 * H + j];
						} else {
							float s = Rb ? Rb[2 * H + j] : 0;
							for (int64_t p = 0; p < H; p++)
								s += R[(2 * H + j) * H + p] * g[H + p] * hb[p];
							hh = g[2 * H + j] + s;
						}
						tmp[j] = act_apply(&f[1], clipv(hh, clip));
					}
					for (int64_t j = 0; j < H; j++)
						hb[j] = (1 - g[j]) * tmp[j] + g[j] * hb[j];
				} else {
					/* gates i, o, f, c */
					for (int64_t j = 0; j < H; j++) {
						float ig = g[j] + tmp[j], og = g[H + j] + tmp[H + j];
						float fg = g[2 * H + j] + tmp[2 * H + j], cg = g[3 * H + j] + tmp[3 * H + j];
						float cn;
						if (P) {
							ig += P[j] * cb[j];
							fg += P[2 * H + j] * cb[j];
						}
						ig = act_apply(&f[0], clipv(ig, clip));
						fg = ifg ? 1 - ig : act_apply(&f[0], clipv(fg, clip));
						cg = act_apply(&f[1], clipv(cg, clip));
						cn = fg * cb[j] + ig * cg;
						if (P)
							og += P[H + j] * cn;
						og = act_apply(&f[0], clipv(og, clip));
						cb[j] = cn;
						tmp[j] = og * act_apply(&f[2], cn);
					}
					for (int64_t j = 0; j < H; j++)
						hb[j] = tmp[j];
				}
				if (k->out[0])
					for (int64_t j = 0; j < H; j++) {
						size_t yi = layout == 0 ? (size_t)(((t * ndir + d) * batch + bi) * H + j) :
						    (size_t)(((bi * seq + t) * ndir + d) * H + j);
						((float *)k->out[0]->data)[yi] = hb[j];
					}
			}
			for (int64_t j = 0; j < H; j++) {
				size_t hi = layout == 0 ? (size_t)((d * batch + bi) * H + j) :
				    (size_t)((bi * ndir + d) * H + j);
				if (k->n_out > 1 && k->out[1])
					((float *)k->out[1]->data)[hi] = hb[j];
				if (kind == K_LSTM && k->n_out > 2 && k->out[2])
					((float *)k->out[2]->data)[hi] = cb[j];
			}
		}
	}
	return 0;
}

static int run_rnn(struct ci_kctx *k, struct cinfer_err *e) { return rnn(k, K_RNN, e); }
static int run_gru(struct ci_kctx *k, struct cinfer_err *e) { return rnn(k, K_GRU, e); }
static int run_lstm(struct ci_kctx *k, struct cinfer_err *e) { return rnn(k, K_LSTM, e); }

CI_OP_DEF(GRU, "GRU", 7, run_gru);
CI_OP_DEF(LSTM, "LSTM", 7, run_lstm);
CI_OP_DEF(RNN, "RNN", 7, run_rnn);
