/* Runs a real cinfer-kbs process on 127.0.0.1 for the tests. */
#ifndef T_KBS_HARNESS_H
#define T_KBS_HARNESS_H

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "cinfer/attester.h"
#include "cinfer/evidence.h"
#include "cinfer/kbs_client.h"
#include "core/json.h"

extern char **environ;

#define T_ADMIN_TOKEN "test-admin-token-0123456789abcdef"

struct t_kbs {
	pid_t pid;
	char url[128];
	char ca[4200];
	char db[4200];
	char log[4200];
};

static inline const char *
t_bin(const char *name)
{
	static char buf[4][4096];
	static int n;
	const char *base = getenv("CINFER_BIN");
	char *p = buf[n++ % 4];

	snprintf(p, 4096, "%s/%s", base ? base : ".", name);
	return p;
}

/* Starts cinfer-kbs with dir/kbs.db, dir/admin-token and the extra args (NULL-ended). */
static inline void
t_kbs_start(struct t_kbs *k, const char *dir, const char *sim, const char *const *extra)
{
	char tokf[4200], logf[4200], line[4400];
	const char *argv[64];
	int n = 0, fds[2];
	posix_spawn_file_actions_t fa;
	FILE *f;
	struct cinfer_err e = { 0 };

	snprintf(k->db, sizeof(k->db), "%s/kbs.db", dir);
	snprintf(tokf, sizeof(tokf), "%s/admin-token", dir);
	snprintf(logf, sizeof(logf), "%s/kbs.log", dir);
	snprintf(k->log, sizeof(k->log), "%.4190s", logf);
	if (ci_file_write(tokf, T_ADMIN_TOKEN "\n", strlen(T_ADMIN_TOKEN) + 1, 0600, &e) != 0)
		fail_msg("%s", e.msg);
	argv[n++] = t_bin("cinfer-kbs");
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--db";
	argv[n++] = k->db;
	argv[n++] = "--admin-token-file";
	argv[n++] = tokf;
	if (sim != NULL) {
		argv[n++] = "--sim";
		argv[n++] = sim;
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 60; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	assert_int_equal(pipe(fds), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addopen(&fa, 2, logf, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (posix_spawn(&k->pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
		fail_msg("cannot start %s", argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	f = fdopen(fds[0], "r");
	k->url[0] = k->ca[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "URL: ", 5) == 0)
			snprintf(k->url, sizeof(k->url), "%.120s", line + 5);
		if (strncmp(line, "CA certificate: ", 16) == 0) {
			snprintf(k->ca, sizeof(k->ca), "%.4000s", line + 16);
			break;
		}
	}
	fclose(f);
	if (k->url[0] == '\0' || k->ca[0] == '\0') {
		char cmd[4400];
		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", logf);
		(void)!system(cmd);
		fail_msg("cinfer-kbs did not start");
	}
}

static inline int
t_kbs_stop(struct t_kbs *k, int sig)
{
	int st = 0;

	if (k->pid <= 0)
		return -1;
	kill(k->pid, sig);
	waitpid(k->pid, &st, 0);
	k->pid = 0;
	return st;
}

/* A clean shutdown: exit status 0 (under ASan, also no leak or error report). */
static inline void
t_kbs_stop_clean(struct t_kbs *k)
{
	int st = t_kbs_stop(k, SIGTERM);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char cmd[4400];
		snprintf(cmd, sizeof(cmd), "tail -40 '%.4000s' >&2", k->log);
		(void)!system(cmd);
		fail_msg("cinfer-kbs exited with status %#x", st);
	}
}

static inline struct cinfer_kbs_client *
t_client(const struct t_kbs *k, int admin)
{
	struct cinfer_kbs_client_opts o = { .url = k->url, .cacert = k->ca,
		.admin_token = admin ? T_ADMIN_TOKEN : NULL };
	struct cinfer_kbs_client *c = NULL;
	struct cinfer_err e = { 0 };

	if (cinfer_kbs_client_new(&o, &c, &e) != 0)
		fail_msg("client: %s", e.msg);
	return c;
}

/* Evidence source for the client: the sim platform with knobs to get it wrong. */
struct t_ev {
	const char *sim;
	uint8_t meas[48];
	int debug;
	int unbound;		/* report_data over something else */
};

static inline int
t_evidence(const uint8_t rd[64], void *arg, char **json, struct cinfer_err *e)
{
	struct t_ev *t = arg;
	struct cinfer_evidence ev;
	struct cinfer_sim_attest_opts o = { .measurement = t->meas, .debug = t->debug };
	uint8_t r[64];

	memcpy(r, rd, 64);
	if (t->unbound)
		r[0] ^= 0x80;
	if (cinfer_sim_attest(t->sim, r, &o, &ev, e) != 0)
		return -1;
	*json = cinfer_evidence_to_json(&ev, e);
	cinfer_evidence_clear(&ev);
	return *json ? 0 : -1;
}

/* The policy the tests use: sim only, pins m1 (and m2 if given). */
static inline char *
t_policy(const char *id, const char *platform, const uint8_t *m1, const uint8_t *m2)
{
	char h1[97], h2[97];
	json_t *p;
	char *s;

	ci_hex_encode(m1, 48, h1);
	if (m2 != NULL)
		ci_hex_encode(m2, 48, h2);
	p = json_pack("{s:i, s:s, s:{s:[s]}, s:b, s:b, s:b, s:[s]}", "cinfer_policy", 1, "id", id,
	    "platforms", "any_of", platform, "allow_simulated", 1, "allow_debug", 0,
	    "require_report_data_binding", 1, "measurements", h1);
	if (m2 != NULL)
		json_array_append_new(json_object_get(p, "measurements"), json_string(h2));
	s = ci_json_dump(p, 0);
	json_decref(p);
	return s;
}

/* The audit records after seq (array), via the admin API. */
static inline json_t *
t_audit(const struct t_kbs *k, long after)
{
	struct cinfer_kbs_client *c = t_client(k, 1);
	struct cinfer_err e = { 0 };
	char path[64], *resp = NULL;
	long st;
	json_t *j;

	snprintf(path, sizeof(path), "/kbs/v0/admin/audit?after=%ld", after);
	if (cinfer_kbs_request(c, "GET", path, NULL, 0, 1, &st, &resp, &e) != 0 || st != 200)
		fail_msg("audit: %s %ld", e.msg, st);
	j = json_loads(resp, 0, NULL);
	free(resp);
	cinfer_kbs_client_free(c);
	assert_non_null(j);
	return j;
}

static inline long
t_audit_last_seq(const struct t_kbs *k)
{
	json_t *a = t_audit(k, 0);
	long last = 0;
	size_t i;
	json_t *r;

	json_array_foreach(a, i, r)
		last = (long)json_integer_value(json_object_get(r, "seq"));
	json_decref(a);
	return last;
}

/*
 * The last record of event after seq must have this decision and, if code
 * is non-NULL, a failed reason with that code. Returns 1 if so.
 */
static inline int
t_audit_has(const struct t_kbs *k, long after, const char *event, const char *decision,
    const char *code)
{
	json_t *a = t_audit(k, after), *rec = NULL, *r;
	size_t i;
	int ok = 0;

	json_array_foreach(a, i, r)
		if (strcmp(json_string_value(json_object_get(r, "event")), event) == 0)
			rec = r;
	if (rec != NULL) {
		json_t *d = json_object_get(rec, "detail");
		const char *dec = json_string_value(json_object_get(d, "decision"));
		ok = dec != NULL && strcmp(dec, decision) == 0;
		if (ok && code != NULL) {
			json_t *rs = json_object_get(d, "reasons"), *x;
			size_t j;
			ok = 0;
			json_array_foreach(rs, j, x)
				if (strcmp(json_string_value(json_object_get(x, "code")), code) == 0 &&
				    json_is_false(json_object_get(x, "ok")))
					ok = 1;
		}
		if (!ok) {
			char *s = json_dumps(rec, 0);
			fprintf(stderr, "audit record: %s\n", s);
			free(s);
		}
	}
	json_decref(a);
	return ok;
}

/* 1 if a record of event about resource exists after seq. */
static inline int
t_audit_event(const struct t_kbs *k, long after, const char *event, const char *resource)
{
	json_t *a = t_audit(k, after), *r;
	size_t i;
	int ok = 0;

	json_array_foreach(a, i, r) {
		const char *rs = json_string_value(json_object_get(json_object_get(r, "detail"),
		    "resource"));
		if (strcmp(json_string_value(json_object_get(r, "event")), event) == 0 &&
		    (resource == NULL || (rs != NULL && strcmp(rs, resource) == 0)))
			ok = 1;
	}
	json_decref(a);
	return ok;
}

#endif
