/*
 * Destined for src/cli/cmd_run.c (kept under tests/runtime/cli/ until the
 * lead wires it: any .c in src/cli makes CMake add the `cinfer` program,
 * whose name collides with the library target today).
 *
 * cinfer run / cinfer inspect: run an ONNX model on TensorProto .pb inputs
 * (the ONNX test suite's format) and write its outputs the same way; list
 * a model's inputs, outputs, opsets and operators with their support.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cinfer/runtime.h"
#include "cmd_runtime.h"
#include "core/ci.h"
#include "runtime/rt.h"

#define MAX_IO 256
#define MAX_PB ((size_t)4 << 30)

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
print_shape(FILE *f, int ndim, const int64_t *dims)
{
	fputc('[', f);
	for (int d = 0; d < ndim; d++) {
		if (dims[d] < 0)
			fprintf(f, "%s?", d ? "," : "");
		else
			fprintf(f, "%s%lld", d ? "," : "", (long long)dims[d]);
	}
	fputc(']', f);
}

static void
run_usage(void)
{
	fprintf(stderr, "usage: cinfer run MODEL.onnx --input [NAME=]FILE.pb ... "
	    "[--output-dir DIR] [--threads N] [--repeat N]\n");
}

int
ci_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output-dir", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *specs[MAX_IO], *outdir = NULL, *model_path;
	size_t nspec = 0, nin, nout;
	long threads = 1, repeat = 1;
	struct cinfer_model *m = NULL;
	struct cinfer_err e = { 0 };
	struct cinfer_tensor *in = NULL, *out = NULL;
	int rc = 1, c;
	double t0, t1, best = 0, total = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:o:t:r:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'i':
			if (nspec >= MAX_IO) {
				fprintf(stderr, "cinfer run: too many inputs\n");
				return 2;
			}
			specs[nspec++] = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 't':
			errno = 0;
			threads = strtol(optarg, &end, 10);
			if (errno || *end || threads < 1 || threads > 256) {
				fprintf(stderr, "cinfer run: bad --threads\n");
				return 2;
			}
			break;
		case 'r':
			errno = 0;
			repeat = strtol(optarg, &end, 10);
			if (errno || *end || repeat < 1 || repeat > 100000) {
				fprintf(stderr, "cinfer run: bad --repeat\n");
				return 2;
			}
			break;
		case 'h':
			run_usage();
			return 0;
		default:
			run_usage();
			return 2;
		}
	}
	if (optind != argc - 1) {
		run_usage();
		return 2;
	}
	model_path = argv[optind];
	t0 = now();
	if (cinfer_model_load(model_path, &m, &e) != 0) {
		fprintf(stderr, "cinfer run: %s: %s (%s)\n", model_path, e.msg, cinfer_code_name(e.code));
		return 1;
	}
	t1 = now();
	cinfer_model_set_threads(m, (int)threads);
	nin = cinfer_model_input_count(m);
	nout = cinfer_model_output_count(m);
	in = calloc(nin + 1, sizeof(*in));
	out = calloc(nout + 1, sizeof(*out));
	if (in == NULL || out == NULL) {
		fprintf(stderr, "cinfer run: out of memory\n");
		goto out;
	}
	if (nspec != nin) {
		fprintf(stderr, "cinfer run: model has %zu inputs, %zu given\n", nin, nspec);
		for (size_t i = 0; i < nin; i++)
			fprintf(stderr, "  input %s\n", cinfer_model_input_name(m, i));
		rc = 2;
		goto out;
	}
	for (size_t s = 0; s < nspec; s++) {
		const char *eq = strchr(specs[s], '='), *file = eq ? eq + 1 : specs[s];
		size_t idx = s, size;
		uint8_t *buf;
		if (eq) {
			for (idx = 0; idx < nin; idx++) {
				const char *n = cinfer_model_input_name(m, idx);
				if (strlen(n) == (size_t)(eq - specs[s]) &&
				    memcmp(n, specs[s], (size_t)(eq - specs[s])) == 0)	/* public */
					break;
			}
			if (idx == nin) {
				fprintf(stderr, "cinfer run: no input named %.*s\n", (int)(eq - specs[s]), specs[s]);
				rc = 2;
				goto out;
			}
		}
		if (in[idx].data != NULL) {
			fprintf(stderr, "cinfer run: input %s given twice\n", cinfer_model_input_name(m, idx));
			rc = 2;
			goto out;
		}
		cinfer_err_clear(&e);
		if (ci_file_read(file, MAX_PB, &buf, &size, &e) != 0) {
			fprintf(stderr, "cinfer run: %s\n", e.msg);
			goto out;
		}
		c = cinfer_tensor_read_pb(buf, size, &in[idx], NULL, &e);
		ci_free(buf);
		if (c != 0) {
			fprintf(stderr, "cinfer run: %s: %s\n", file, e.msg);
			goto out;
		}
		if (in[idx].data == NULL) {
			fprintf(stderr, "cinfer run: %s: empty\n", file);
			goto out;
		}
	}
	for (long r = 0; r < repeat; r++) {
		double a = now(), b;
		if (r > 0)
			for (size_t o = 0; o < nout; o++)
				cinfer_tensor_clear(&out[o]);
		cinfer_err_clear(&e);
		if (cinfer_model_run(m, in, nin, out, nout, &e) != 0) {
			fprintf(stderr, "cinfer run: %s (%s)\n", e.msg, cinfer_code_name(e.code));
			goto out;
		}
		b = now() - a;
		total += b;
		if (r == 0 || b < best)
			best = b;
	}
	if (outdir && mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "cinfer run: %s: %s\n", outdir, strerror(errno));
		goto out;
	}
	for (size_t o = 0; o < nout; o++) {
		const char *name = cinfer_model_output_name(m, o);
		printf("output %zu %s %s ", o, name, cinfer_dtype_name(out[o].dtype));
		print_shape(stdout, out[o].ndim, out[o].dims);
		if (outdir) {
			char path[4096];
			uint8_t *pb = NULL;
			size_t pbs;
			snprintf(path, sizeof(path), "%s/output_%zu.pb", outdir, o);
			cinfer_err_clear(&e);
			c = cinfer_tensor_write_pb(&out[o], name, &pb, &pbs, &e);
			if (c == 0)
				c = ci_file_write(path, pb, pbs, 0644, &e);
			cinfer_buf_free(pb);
			if (c != 0) {
				fprintf(stderr, "\ncinfer run: %s: %s\n", path, e.msg);
				goto out;
			}
			printf(" -> %s", path);
		}
		printf("\n");
	}
	printf("load %.3f ms, run %.3f ms (best of %ld, mean %.3f ms), threads %ld\n",
	    (t1 - t0) * 1e3, best * 1e3, repeat, total / (double)repeat * 1e3, threads);
	rc = 0;
out:
	for (size_t i = 0; in && i < nin; i++)
		cinfer_tensor_clear(&in[i]);
	for (size_t o = 0; out && o < nout; o++)
		cinfer_tensor_clear(&out[o]);
	free(in);
	free(out);
	cinfer_model_free(m);
	return rc;
}

static void
print_vi(const char *kind, const struct ci_value_info *v)
{
	printf("%s %s ", kind, v->name);
	if (v->kind == 1) {
		printf("%s ", ci_dt_name(v->dtype));
		if (v->ndim < 0)
			printf("[rank unknown]");
		else
			print_shape(stdout, v->ndim, v->dims);
	} else {
		printf(v->kind == 0 ? "(not a tensor)" : "(no type)");
	}
	printf("\n");
}

static int
op_cmp(const void *a, const void *b)
{
	const struct ci_node *x = *(const struct ci_node *const *)a, *y = *(const struct ci_node *const *)b;
	int c = strcmp(x->domain, y->domain);

	return c ? c : strcmp(x->op_type, y->op_type);
}

static int
domain_opset(const struct ci_model_proto *p, const char *domain)
{
	for (size_t i = 0; i < p->n_opsets; i++) {
		const char *d = p->opsets[i].domain;
		if (strcmp(d, domain) == 0 ||	/* public */
		    ((d[0] == '\0' || strcmp(d, "ai.onnx") == 0) &&	/* public */
		    (domain[0] == '\0' || strcmp(domain, "ai.onnx") == 0)))	/* public */
			return (int)p->opsets[i].version;
	}
	return -1;
}

int
ci_cmd_inspect(int argc, char **argv)
{
	const char *path;
	uint8_t *buf = NULL;
	size_t size = 0, unsupported = 0, kinds = 0;
	struct ci_model_proto p;
	struct cinfer_err e = { 0 };
	const struct ci_node **nodes = NULL;
	const struct ci_graph *g;
	struct cinfer_model *m = NULL;
	char *dir, *slash;
	int rc = 1;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: cinfer inspect MODEL.onnx\n");
		return 2;
	}
	path = argv[1];
	if (ci_file_read(path, CI_RT_MAX_MODEL_SIZE, &buf, &size, &e) != 0) {
		fprintf(stderr, "cinfer inspect: %s\n", e.msg);
		return 1;
	}
	dir = ci_strdup(path);
	if (dir == NULL) {
		ci_free(buf);
		return 1;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if (ci_onnx_parse(buf, size, dir, &p, &e) != 0) {
		fprintf(stderr, "cinfer inspect: %s: %s (%s)\n", path, e.msg, cinfer_code_name(e.code));
		goto out2;
	}
	g = &p.graph;
	printf("model %s\nir_version %lld, producer %s, graph %s\n", path, (long long)p.ir_version,
	    p.producer ? p.producer : "-", g->name ? g->name : "-");
	for (size_t i = 0; i < p.n_opsets; i++)
		printf("opset %s %lld\n", p.opsets[i].domain[0] ? p.opsets[i].domain : "ai.onnx",
		    (long long)p.opsets[i].version);
	for (size_t i = 0; i < g->n_inputs; i++) {
		int init = 0;
		for (size_t j = 0; j < g->n_inits; j++)
			if (strcmp(g->inits[j].name, g->inputs[i].name) == 0)	/* public */
				init = 1;
		if (!init)
			print_vi("input", &g->inputs[i]);
	}
	for (size_t i = 0; i < g->n_outputs; i++)
		print_vi("output", &g->outputs[i]);
	printf("initializers %zu, nodes %zu\n", g->n_inits, g->n_nodes);
	nodes = calloc(g->n_nodes + 1, sizeof(*nodes));
	if (nodes == NULL)
		goto out;
	for (size_t i = 0; i < g->n_nodes; i++)
		nodes[i] = &g->nodes[i];
	qsort(nodes, g->n_nodes, sizeof(*nodes), op_cmp);
	for (size_t i = 0; i < g->n_nodes;) {
		size_t j = i;
		const struct ci_node *n = nodes[i];
		int opset = domain_opset(&p, n->domain), ok;
		while (j < g->n_nodes && op_cmp(&nodes[i], &nodes[j]) == 0)
			j++;
		ok = (strcmp(n->op_type, "Constant") == 0 && n->domain[0] == '\0') ||	/* public */
		    (opset > 0 && ci_op_find(n->domain, n->op_type, opset) != NULL);
		printf("op %s%s%s x%zu %s\n", n->domain, n->domain[0] ? "." : "", n->op_type, j - i,
		    ok ? "supported" : "UNSUPPORTED");
		unsupported += !ok;
		kinds++;
		i = j;
	}
	cinfer_err_clear(&e);
	if (cinfer_model_load_mem(buf, size, dir, &m, &e) != 0)
		printf("load: %s (%s)\n", e.msg, cinfer_code_name(e.code));
	else
		printf("load: ok\n");
	printf("%zu operator types, %zu unsupported\n", kinds, unsupported);
	rc = unsupported || m == NULL ? 1 : 0;
out:
	free(nodes);
	cinfer_model_free(m);
	ci_onnx_clear(&p);
out2:
	ci_free(dir);
	ci_free(buf);
	return rc;
}
