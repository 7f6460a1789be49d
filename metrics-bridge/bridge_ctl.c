/* controller.json -> struct bridge_ctl_status, each field type-checked (jansson). */
#include "bridge_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Field name -> where it goes; unsigned counters and gauges. */
struct bc_uint_field {
	const char *name;
	size_t offset;
};

#define BC_U(name, field) {name, offsetof(struct bridge_ctl_status, field)}
static const struct bc_uint_field bc_uints[] = {
	BC_U("live_nodes", live_nodes),
	BC_U("servers", servers),
	BC_U("leaving", leaving),
	BC_U("held_by_operator", held),
	BC_U("rejected_members_total", rejected_total),
	BC_U("redis_errors_total", redis_errors_total),
	BC_U("haproxy_errors_total", haproxy_errors_total),
	BC_U("actions_total", actions_total),
	BC_U("action_errors_total", action_errors_total),
};

/* Fields a newer controller adds: absent means 0, present must be valid. */
static const struct bc_uint_field bc_opt_uints[] = {
	BC_U("removal_held", removal_held),
	BC_U("notified_steps_total", notified_steps_total),
	BC_U("cert_swaps_total", cert_swaps_total),
	BC_U("refused_rate_total", refused_rate_total),
	BC_U("refused_concurrency_total", refused_concurrency_total),
};
#undef BC_U

static int bc_fail(struct bridge_ctl_status *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears out, says why the controller counts as down, returns -1. */
static int bc_fail(struct bridge_ctl_status *out, const char *fmt, ...)
{
	va_list ap;
	memset(out, 0, sizeof(*out));
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int bc_get_bool(json_t *root, const char *name, int *out)
{
	json_t *v = json_object_get(root, name);
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

static int bc_get_int(json_t *root, const char *name, long long *out)
{
	json_t *v = json_object_get(root, name);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (long long)json_integer_value(v);
	return 0;
}

/* Reads every field of root into out. Returns 0, or -1 with the name of the bad field. */
static int bc_fields(json_t *root, struct bridge_ctl_status *out, const char **bad)
{
	static const char *const bools[] = {"redis_ok", "haproxy_ok", "kept_on_empty"};
	int *bool_dest[] = {&out->redis_ok, &out->haproxy_ok, &out->kept_on_empty};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (bc_get_bool(root, (*bad = bools[i]), bool_dest[i]) == -1)
			return -1;
	if (bc_get_int(root, (*bad = "time"), &out->time) == -1 ||
	    bc_get_int(root, (*bad = "last_sync"), &out->last_sync) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(bc_uints) / sizeof(bc_uints[0]); i++) {
		long long v;
		if (bc_get_int(root, (*bad = bc_uints[i].name), &v) == -1)
			return -1;
		*(unsigned long long *)((char *)out + bc_uints[i].offset) = (unsigned long long)v;
	}
	for (size_t i = 0; i < sizeof(bc_opt_uints) / sizeof(bc_opt_uints[0]); i++) {
		long long v = 0;
		if (json_object_get(root, bc_opt_uints[i].name) != NULL &&
		    bc_get_int(root, (*bad = bc_opt_uints[i].name), &v) == -1)
			return -1;
		*(unsigned long long *)((char *)out + bc_opt_uints[i].offset) = (unsigned long long)v;
	}
	out->has_refused = json_object_get(root, "refused_rate_total") != NULL &&
			   json_object_get(root, "refused_concurrency_total") != NULL;
	return 0;
}

int bridge_ctl_parse(const char *text, size_t len, long long now, unsigned long stale_s,
		     struct bridge_ctl_status *out)
{
	json_error_t jerr;
	const char *bad = "";
	memset(out, 0, sizeof(*out));
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return bc_fail(out, "not JSON: %.100s (line %d)", jerr.text, jerr.line);
	int rc = json_is_object(root) ? bc_fields(root, out, &bad) : (bad = "(top level)", -1);
	json_decref(root);
	if (rc == -1)
		return bc_fail(out, "field %s missing, of the wrong type or negative", bad);
	if (out->time < now - (long long)stale_s)
		return bc_fail(out, "stale: written %lld s ago", now - out->time);
	if (out->time > now + (long long)stale_s)
		return bc_fail(out, "dated %lld s in the future", out->time - now);
	out->up = 1;
	return 0;
}

int bridge_ctl_read(const char *path, long long now, unsigned long stale_s, struct bridge_ctl_status *out)
{
	char *buf = malloc(BRIDGE_CTL_MAX_BYTES + 1);
	if (buf == NULL)
		return bc_fail(out, "out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		int e = errno;
		free(buf);
		return bc_fail(out, "%.120s", strerror(e));
	}
	size_t len = 0;
	ssize_t got;
	while (len <= BRIDGE_CTL_MAX_BYTES && (got = read(fd, buf + len, BRIDGE_CTL_MAX_BYTES + 1 - len)) > 0)
		len += (size_t)got;
	close(fd);
	int rc = len > BRIDGE_CTL_MAX_BYTES ? bc_fail(out, "larger than %u bytes", BRIDGE_CTL_MAX_BYTES)
					    : bridge_ctl_parse(buf, len, now, stale_s, out);
	free(buf);
	return rc;
}
