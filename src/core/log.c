#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/ci.h"

/*
 * Logging is a formatted line, never a buffer: there is no call that takes
 * bytes and a length, so key material cannot be dumped by accident. Every
 * message is masked (control bytes become '?') and cut to 512 bytes, so a
 * peer-supplied string can't forge lines or flood the log.
 */
static atomic_int min_level = CI_LOG_INFO;
static atomic_int log_fd = 2;
static atomic_int log_json = 0;

void
ci_log_set_level(enum ci_log_level level)
{
	atomic_store(&min_level, (int)level);
}

void
ci_log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

void
ci_log_set_json(int on)
{
	atomic_store(&log_json, on);
}

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
ci_log(enum ci_log_level level, const char *stage, const char *fmt, ...)
{
	char msg[512], line[700], ts[21];
	va_list ap;
	int n;

	if ((int)level < atomic_load(&min_level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ci_str_mask(msg);
	ci_time_format(ci_time_now(), ts);
	if (atomic_load(&log_json)) {
		/* msg is masked to printable ASCII; escape quotes and backslashes. */
		char esc[1100];
		size_t j = 0;
		for (size_t i = 0; msg[i] != '\0' && j + 2 < sizeof(esc); i++) {
			if (msg[i] == '"' || msg[i] == '\\')
				esc[j++] = '\\';
			esc[j++] = msg[i];
		}
		esc[j] = '\0';
		n = snprintf(line, sizeof(line),
		    "{\"ts\":\"%s\",\"level\":\"%s\",\"stage\":\"%s\",\"msg\":\"%s\"}\n",
		    ts, level_names[level], stage, esc);
	} else {
		n = snprintf(line, sizeof(line), "%s %-5s %s: %s\n", ts,
		    level_names[level], stage, msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)!write(atomic_load(&log_fd), line, (size_t)n);
}
