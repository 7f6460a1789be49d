/* controller.json -> struct bridge_ctl_status: each key type-checked by ctl_file.h's table. */
#include "bridge_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int bridge_ctl_parse(const char *text, size_t len, long long now, unsigned long stale_s, struct bridge_ctl_status *out)
{
	json_error_t jerr;
	const char *bad = "";
	memset(out, 0, sizeof(*out));
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return bc_fail(out, "not JSON: %.100s (line %d)", jerr.text, jerr.line);
	int rc = json_is_object(root) ? ctl_file_from_json(root, &out->v, &bad) : (bad = "(top level)", -1);
	json_decref(root);
	if (rc == -1)
		return bc_fail(out, "field %s missing, of the wrong type or negative", bad);
	if (out->v.time < now - (long long)stale_s)
		return bc_fail(out, "stale: written %lld s ago", now - out->v.time);
	if (out->v.time > now + (long long)stale_s)
		return bc_fail(out, "dated %lld s in the future", out->v.time - now);
	out->has_refused = out->v.refused_rate_total >= 0 && out->v.refused_concurrency_total >= 0;
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
