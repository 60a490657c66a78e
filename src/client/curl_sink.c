#include <stdlib.h>
#include <string.h>

#include "client/curl_sink.h"

size_t
ci_curl_sink_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ci_curl_sink *s = arg;
	size_t add = size * nmemb;
	char *np;

	if (add > s->max || s->n > s->max - add) {
		s->over = 1;
		return 0;
	}
	np = realloc(s->p, s->n + add + 1);
	if (np == NULL)
		return 0;
	memcpy(np + s->n, ptr, add);
	s->p = np;
	s->n += add;
	s->p[s->n] = '\0';
	return add;
}
