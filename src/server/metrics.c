/* Prometheus text exposition of cinferd's counters. */
#include <stdio.h>
#include <string.h>

#include "server/server.h"

static const double bounds[SRV_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};

void
srv_metrics_observe(struct srv_metrics *m, uint64_t us)
{
	size_t i;

	for (i = 0; i < SRV_BUCKETS; i++)
		if ((double)us / 1e6 <= bounds[i])
			break;
	atomic_fetch_add(&m->bucket[i], 1);
	atomic_fetch_add(&m->latency_us_sum, us);
}

char *
srv_metrics_render(const struct srv *s)
{
	const struct srv_metrics *m = &s->m;
	size_t cap = 4096, n = 0;
	char *out = ci_alloc(cap);
	unsigned long long cum = 0, total = 0;

	if (out == NULL)
		return NULL;
#define EMIT(...) do { \
	int k_ = snprintf(out + n, cap - n, __VA_ARGS__); \
	if (k_ > 0 && (size_t)k_ < cap - n) n += (size_t)k_; \
} while (0)
	EMIT("# HELP cinfer_requests_total HTTP requests received.\n"
	    "# TYPE cinfer_requests_total counter\ncinfer_requests_total %llu\n",
	    (unsigned long long)atomic_load(&m->requests));
	EMIT("# HELP cinfer_connections_total TLS connections accepted.\n"
	    "# TYPE cinfer_connections_total counter\ncinfer_connections_total %llu\n",
	    (unsigned long long)atomic_load(&m->connections));
	EMIT("# HELP cinfer_inferences_total Inference requests by result.\n"
	    "# TYPE cinfer_inferences_total counter\n"
	    "cinfer_inferences_total{result=\"ok\"} %llu\n"
	    "cinfer_inferences_total{result=\"error\"} %llu\n"
	    "cinfer_inferences_total{result=\"shed\"} %llu\n"
	    "cinfer_inferences_total{result=\"rate_limited\"} %llu\n",
	    (unsigned long long)atomic_load(&m->infer_ok),
	    (unsigned long long)atomic_load(&m->infer_err),
	    (unsigned long long)atomic_load(&m->shed),
	    (unsigned long long)atomic_load(&m->rate_limited));
	EMIT("# HELP cinfer_attestations_total Fresh evidence served on /v1/attestation.\n"
	    "# TYPE cinfer_attestations_total counter\ncinfer_attestations_total %llu\n",
	    (unsigned long long)atomic_load(&m->attestations));
	EMIT("# HELP cinfer_queue_depth Inference requests waiting or running.\n"
	    "# TYPE cinfer_queue_depth gauge\ncinfer_queue_depth %d\n",
	    atomic_load(&m->queue_depth));
	EMIT("# HELP cinfer_ready 1 once the model is loaded.\n# TYPE cinfer_ready gauge\n"
	    "cinfer_ready %d\n", s->ready);
	EMIT("# HELP cinfer_inference_seconds Inference latency, queue wait included.\n"
	    "# TYPE cinfer_inference_seconds histogram\n");
	for (size_t i = 0; i <= SRV_BUCKETS; i++)
		total += atomic_load(&m->bucket[i]);
	for (size_t i = 0; i < SRV_BUCKETS; i++) {
		cum += atomic_load(&m->bucket[i]);
		EMIT("cinfer_inference_seconds_bucket{le=\"%g\"} %llu\n", bounds[i], cum);
	}
	EMIT("cinfer_inference_seconds_bucket{le=\"+Inf\"} %llu\n", total);
	EMIT("cinfer_inference_seconds_sum %.6f\ncinfer_inference_seconds_count %llu\n",
	    (double)atomic_load(&m->latency_us_sum) / 1e6, total);
#undef EMIT
	return out;
}
