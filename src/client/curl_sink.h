/* A capped response body for libcurl's write callback (both HTTP clients). */
#ifndef CI_CURL_SINK_H
#define CI_CURL_SINK_H

#include <stddef.h>

struct ci_curl_sink {
	char *p;	/* NUL-terminated; free() */
	size_t n;
	size_t max;	/* past this the transfer is stopped and over is set */
	int over;
};

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA = struct ci_curl_sink *. */
size_t ci_curl_sink_write(char *ptr, size_t size, size_t nmemb, void *arg);

#endif
