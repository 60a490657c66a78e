/*
 * Load generator for cinferd: C concurrent keep-alive TLS connections POST
 * the same inference request for S seconds; prints one JSON line with
 * requests/s, latency percentiles and how many answers were shed (503) or
 * rate-limited (429). It measures serving, not the client's evidence check:
 * certificate verification is off here, and the traffic goes to 127.0.0.1
 * only. Usage: bench_load URL BODY_FILE CONCURRENCY SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define MAX_CONC 256
#define MAX_SAMPLES (1u << 22)

struct slot {
	CURL *h;
	struct curl_slist *hdr;
	double start;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
arm(CURLM *m, struct slot *s, const char *url, const char *body, long size)
{
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, size);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdr);
	curl_easy_setopt(s->h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(s->h, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	s->start = now();
	curl_multi_add_handle(m, s->h);
}

int
main(int argc, char **argv)
{
	static struct slot slots[MAX_CONC];
	double *lat, t0, dur, sum = 0;
	size_t n = 0, ok = 0, shed = 0, limited = 0, other = 0;
	int conc, running = 0;
	long size;
	char *body;
	FILE *f;
	CURLM *m;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_load URL BODY_FILE CONCURRENCY SECONDS\n"
		    "(bench/load.sh starts a simulated cinferd and runs the table)\n");
		return 0;
	}
	conc = atoi(argv[3]);
	dur = atof(argv[4]);
	if (conc < 1 || conc > MAX_CONC || dur <= 0 || dur > 600) {
		fprintf(stderr, "bench_load: concurrency 1-%d, seconds 0-600\n", MAX_CONC);
		return 2;
	}
	f = fopen(argv[2], "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "bench_load: cannot read %s\n", argv[2]);
		return 2;
	}
	body = malloc((size_t)size);
	lat = malloc(sizeof(*lat) * MAX_SAMPLES);
	if (body == NULL || lat == NULL || fread(body, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "bench_load: out of memory\n");
		return 2;
	}
	fclose(f);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	for (int i = 0; i < conc; i++) {
		char nonce[80];
		slots[i].h = curl_easy_init();
		snprintf(nonce, sizeof(nonce), "Cinfer-Nonce: %064x", i + 1);
		slots[i].hdr = curl_slist_append(NULL, "Content-Type: application/json");
		slots[i].hdr = curl_slist_append(slots[i].hdr, nonce);
		curl_easy_setopt(slots[i].h, CURLOPT_PRIVATE, &slots[i]);
		arm(m, &slots[i], argv[1], body, size);
	}
	t0 = now();
	do {
		CURLMsg *msg;
		int left;
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct slot *s;
			long code = 0;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
			curl_multi_remove_handle(m, s->h);
			if (msg->data.result == CURLE_OK && code == 200) {
				ok++;
				if (n < MAX_SAMPLES)
					lat[n++] = now() - s->start;
			} else if (code == 503) {
				shed++;
			} else if (code == 429) {
				limited++;
			} else {
				other++;
			}
			if (now() - t0 < dur)
				arm(m, s, argv[1], body, size);
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running > 0 || now() - t0 < dur);
	dur = now() - t0;
	qsort(lat, n, sizeof(*lat), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += lat[i];
	printf("{\"concurrency\": %d, \"seconds\": %.2f, \"ok\": %zu, \"shed_503\": %zu, "
	    "\"limited_429\": %zu, \"other\": %zu, \"rps\": %.1f, \"p50_ms\": %.3f, "
	    "\"p99_ms\": %.3f, \"mean_ms\": %.3f}\n", conc, dur, ok, shed, limited, other,
	    (double)ok / dur, n ? lat[n / 2] * 1e3 : 0, n ? lat[(n * 99) / 100] * 1e3 : 0,
	    n ? sum / (double)n * 1e3 : 0);
	for (int i = 0; i < conc; i++) {
		curl_easy_cleanup(slots[i].h);
		curl_slist_free_all(slots[i].hdr);
	}
	curl_multi_cleanup(m);
	curl_global_cleanup();
	free(body);
	free(lat);
	return other != 0;
}
