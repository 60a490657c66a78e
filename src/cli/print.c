#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "cli/cli.h"

static void
hexline(FILE *f, const char *label, const uint8_t *v, size_t size)
{
	char hex[2 * CINFER_MEAS_SIZE_MAX + 1];

	if (size == 0 || size > CINFER_MEAS_SIZE_MAX)
		return;
	ci_hex_encode(v, size, hex);
	fprintf(f, "  %-20s %s\n", label, hex);
}

void
cli_print_claims(FILE *f, const struct cinfer_claims *c)
{
	const char *pn = cinfer_platform_name(c->platform);

	fprintf(f, "claims:\n");
	fprintf(f, "  %-20s %s%s\n", "platform", pn ? pn : "?",
	    c->simulated ? "  (SIMULATED: not a TEE, no hardware protection)" : "");
	hexline(f, "measurement", c->measurement, c->measurement_size);
	for (size_t i = 0; i < c->extra_count; i++)
		hexline(f, c->extra[i].name, c->extra[i].value, c->extra[i].size);
	hexline(f, "report_data", c->report_data, c->report_data_size);
	hexline(f, "host_data", c->host_data, c->host_data_size);
	hexline(f, "chip_id", c->chip_id, c->chip_id_size);
	fprintf(f, "  %-20s %s\n", "debug", c->debug ? "ON (debugger can read TEE memory)" : "off");
	if (c->signer[0])
		fprintf(f, "  %-20s %s\n", "signer", c->signer);
	for (size_t i = 0; i < c->tcb_count; i++) {
		char name[40];
		snprintf(name, sizeof(name), "tcb.%s", c->tcb[i].name);
		fprintf(f, "  %-20s %" PRIu64 "\n", name, c->tcb[i].value);
	}
	if (c->tcb_status[0])
		fprintf(f, "  %-20s %s\n", "tcb_status", c->tcb_status);
	if (c->tcb_date) {
		char t[21];
		ci_time_format(c->tcb_date, t);
		fprintf(f, "  %-20s %s\n", "tcb_date", t);
	}
	if (c->produced_at) {
		char t[21];
		ci_time_format(c->produced_at, t);
		fprintf(f, "  %-20s %s\n", "produced_at", t);
	}
	for (size_t i = 0; i < c->detail_count; i++)
		fprintf(f, "  %-20s %s\n", c->details[i].name, c->details[i].value);
}

void
cli_print_decision(FILE *f, const struct cinfer_decision *d)
{
	for (size_t i = 0; i < d->reason_count; i++)
		fprintf(f, "  %s %-26s %s\n", d->reasons[i].ok ? "ok  " : "FAIL", d->reasons[i].code,
		    d->reasons[i].text);
}

static json_t *
hexval(const uint8_t *v, size_t size)
{
	char *h = ci_hex_new(v, size);
	json_t *s = json_string(h ? h : "");

	ci_free(h);
	return s;
}

void *
cli_claims_json(const struct cinfer_claims *c)
{
	json_t *o = json_object(), *m = json_object(), *t = json_object(), *d = json_object();
	const char *pn = cinfer_platform_name(c->platform);

	json_object_set_new(o, "platform", json_string(pn ? pn : "unknown"));
	json_object_set_new(o, "simulated", json_boolean(c->simulated));
	json_object_set_new(o, "measurement", hexval(c->measurement, c->measurement_size));
	json_object_set_new(o, "report_data", hexval(c->report_data, c->report_data_size));
	json_object_set_new(o, "host_data", hexval(c->host_data, c->host_data_size));
	json_object_set_new(o, "chip_id", hexval(c->chip_id, c->chip_id_size));
	json_object_set_new(o, "debug", json_boolean(c->debug));
	json_object_set_new(o, "signer", json_string(c->signer));
	for (size_t i = 0; i < c->extra_count; i++)
		json_object_set_new(m, c->extra[i].name, hexval(c->extra[i].value, c->extra[i].size));
	json_object_set_new(o, "measurements", m);
	for (size_t i = 0; i < c->tcb_count; i++)
		json_object_set_new(t, c->tcb[i].name, json_integer((json_int_t)c->tcb[i].value));
	json_object_set_new(o, "tcb", t);
	if (c->tcb_status[0])
		json_object_set_new(o, "tcb_status", json_string(c->tcb_status));
	if (c->tcb_date) {
		char ts[21];
		ci_time_format(c->tcb_date, ts);
		json_object_set_new(o, "tcb_date", json_string(ts));
	}
	if (c->produced_at) {
		char ts[21];
		ci_time_format(c->produced_at, ts);
		json_object_set_new(o, "produced_at", json_string(ts));
	}
	for (size_t i = 0; i < c->detail_count; i++)
		json_object_set_new(d, c->details[i].name, json_string(c->details[i].value));
	json_object_set_new(o, "details", d);
	return o;
}
