/* mcs-lb-status's facts: gathered from the read-only stats socket (show info, show stat, show
 * servers state mcs) and controller.json, judged and rendered as text or JSON. */
#include "status.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mono.h"

#include "hap_conn.h"
#include "hap_csv.h"
#include "hap_info.h"
#include "hap_servers.h"
#include "names.h"

static void st_set_err(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void st_set_err(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

const char *st_state_name(enum st_node_state s)
{
	static const char *const names[] = {"up", "warming", "draining", "maintenance", "down"};
	return names[s];
}

/* ---- HAProxy ---- */

static int st_info(struct hap_conn *c, struct st_facts *f)
{
	char *reply = NULL, why[128];
	struct hap_info hi;
	if (hap_conn_cmd(c, "show info", &reply) == -1) {
		st_set_err(f->hap_error, sizeof(f->hap_error), "%s", hap_conn_errstr(c));
		free(reply);
		return -1;
	}
	/* A reply without them still shows the rest: 0 means unknown. */
	int known = hap_info_parse(reply, &hi, why, sizeof(why)) == 0;
	f->hap_pid = known ? hi.pid : 0;
	f->uptime_s = known ? hi.uptime_s : 0;
	free(reply);
	return 0;
}

/* One line of `show proc`: 0 with the counts when it is the master's. */
static int st_proc_line(const char *line, long *reloads, long *failed)
{
	long pid, r, fl = 0;
	int n = 0;
	if (sscanf(line, "%ld master %ld%n", &pid, &r, &n) != 2 || n == 0 || r < 0)
		return -1;
	if (sscanf(line + n, " [failed: %ld]", &fl) != 1 || fl < 0)
		fl = 0;
	*reloads = r;
	*failed = fl;
	return 0;
}

int st_parse_proc(const char *text, long *reloads, long *failed)
{
	for (const char *line = text; line != NULL && *line != '\0';) {
		if (st_proc_line(line, reloads, failed) == 0)
			return 0;
		line = strchr(line, '\n');
		line = line != NULL ? line + 1 : NULL;
	}
	return -1;
}

/* One `show proc` on the master CLI socket. Returns the reply
 * (malloc'd) or NULL with the reason in err. */
static char *st_master_cmd(const char *path, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *buf = NULL;
	size_t len = 0, cap = 0;
	uint64_t end = mono_now_ms() + (uint64_t)timeout_ms;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (strlen(path) >= sizeof(sa.sun_path) || fd == -1) {
		snprintf(err, errlen, "%s: not a usable socket path", path);
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* Our side shut after the command: the master answers, then closes. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || write(fd, "show proc\n", 10) != 10 ||
	    shutdown(fd, SHUT_WR) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		uint64_t now = mono_now_ms();
		if (now >= end || poll(&p, 1, (int)(end - now)) != 1) {
			snprintf(err, errlen, "%s: no complete answer within %d ms", path, timeout_ms);
			goto fail;
		}
		if (cap - len < 4096) {
			char *b = cap < 65536 ? realloc(buf, cap + 8192) : NULL;
			if (b == NULL) {
				snprintf(err, errlen, "%s: answer too long", path);
				goto fail;
			}
			buf = b;
			cap += 8192;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

/* The master's reload counts from <run_dir>/master.sock (mode 0600: whoever may use admin.sock). */
static void st_reloads(const char *run_dir, int timeout_ms, struct st_facts *f)
{
	char path[4096];
	f->reloads = f->reloads_failed = -1;
	snprintf(path, sizeof(path), "%s/master.sock", run_dir);
	char *reply = st_master_cmd(path, timeout_ms, f->reloads_error, sizeof(f->reloads_error));
	if (reply != NULL && st_parse_proc(reply, &f->reloads, &f->reloads_failed) == -1)
		st_set_err(f->reloads_error, sizeof(f->reloads_error), "%s: no master line in `show proc`", path);
	free(reply);
}

static enum st_node_state st_judge(const char *status, const struct hap_server_state *ss, unsigned weight)
{
	if (strncmp(status, "MAINT", 5) == 0 || (ss != NULL && (ss->admin_state & HAP_ADMF_MAINT)))
		return ST_MAINT;
	if (strncmp(status, "DRAIN", 5) == 0 || (ss != NULL && (ss->admin_state & HAP_ADMF_DRAIN)))
		return ST_DRAINING;
	if (strncmp(status, "DOWN", 4) == 0 || (ss != NULL && ss->op_state == HAP_SRV_ST_STOPPED))
		return ST_DOWN;
	if (ss != NULL && ss->iweight > 0 && weight < ss->iweight)
		return ST_WARMING;
	return ST_UP;
}

static const struct hap_server_state *st_find_state(const struct hap_server_state *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* One node from row i of show stat. */
static void st_node_from(const struct hap_csv *t, size_t i, const struct hap_server_state *ss, size_t nss,
			 struct st_node *n)
{
	const int c_name = hap_csv_col(t, "svname"), c_cur = hap_csv_col(t, "scur"), c_w = hap_csv_col(t, "weight"),
		  c_st = hap_csv_col(t, "status"), c_ck = hap_csv_col(t, "check_status"),
		  c_ms = hap_csv_col(t, "check_duration"), c_fail = hap_csv_col(t, "chkfail");
	unsigned long long w = 0;
	const char *status = hap_csv_get(t, i, c_st), *check = hap_csv_get(t, i, c_ck);
	snprintf(n->name, sizeof(n->name), "%s", hap_csv_get(t, i, c_name));
	if (hap_csv_get_u64(t, i, c_cur, &n->sessions) == -1 || hap_csv_get_u64(t, i, c_w, &w) == -1 ||
	    hap_csv_get_u64(t, i, c_ms, &n->check_ms) == -1 || hap_csv_get_u64(t, i, c_fail, &n->failures) == -1)
		w = 0; /* a counter HAProxy left odd: shown as 0, the state still judged */
	n->weight = w > 0xffffffffu ? 0xffffffffu : (unsigned)w;
	/* "* L4OK" while a check runs: the status of the last one is what matters. */
	if (check != NULL && strncmp(check, "* ", 2) == 0)
		check += 2;
	snprintf(n->check, sizeof(n->check), "%s", check ? check : "");
	const struct hap_server_state *s = st_find_state(ss, nss, n->name);
	n->iweight = s ? s->iweight : 0;
	n->state = st_judge(status ? status : "", s, n->weight);
}

static int st_stats(struct hap_conn *c, struct st_facts *f)
{
	char *stat = NULL, *state = NULL, err[160];
	struct hap_server_state *ss = NULL;
	size_t nss = 0;
	struct hap_csv *t = NULL;
	int rc = -1;
	if (hap_conn_cmd(c, "show stat", &stat) == -1 ||
	    hap_conn_cmd(c, "show servers state " MCS_BACKEND, &state) == -1) {
		st_set_err(f->hap_error, sizeof(f->hap_error), "%s", hap_conn_errstr(c));
		goto out;
	}
	if ((t = hap_csv_parse(stat, err, sizeof(err))) == NULL ||
	    hap_servers_state_parse(state, &ss, &nss, err, sizeof(err)) == -1) {
		st_set_err(f->hap_error, sizeof(f->hap_error), "stats socket reply: %s", err);
		goto out;
	}
	const int c_px = hap_csv_col(t, "pxname"), c_sv = hap_csv_col(t, "svname");
	size_t rows = hap_csv_rows(t);
	if ((f->nodes = calloc(rows ? rows : 1, sizeof(*f->nodes))) == NULL)
		goto out;
	for (size_t i = 0; i < rows && f->n_nodes < ST_MAX_NODES; i++) {
		const char *px = hap_csv_get(t, i, c_px), *sv = hap_csv_get(t, i, c_sv);
		if (px == NULL || sv == NULL)
			continue;
		if (strcmp(px, MCS_FRONTEND) == 0 && strcmp(sv, "FRONTEND") == 0) {
			if (hap_csv_get_u64(t, i, hap_csv_col(t, "scur"), &f->clients) == -1 ||
			    hap_csv_get_u64(t, i, hap_csv_col(t, "slim"), &f->client_limit) == -1)
				f->clients = f->client_limit = 0;
		} else if (strcmp(px, MCS_BACKEND) == 0 && strcmp(sv, "BACKEND") != 0) {
			st_node_from(t, i, ss, nss, &f->nodes[f->n_nodes++]);
		}
	}
	rc = 0;
out:
	hap_csv_free(t);
	free(ss);
	free(stat);
	free(state);
	return rc;
}

/* ---- controller.json ---- */

void st_parse_controller(const char *path, const char *text, size_t len, struct st_facts *f)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *bad = NULL;
	f->ctl = ST_CTL_BAD;
	if (!json_is_object(root))
		st_set_err(f->ctl_error, sizeof(f->ctl_error), "%s: not a JSON object (%.80s)", path,
			   root ? "another type" : jerr.text);
	else if (ctl_file_from_json(root, &f->ctl_file, &bad) == -1)
		st_set_err(f->ctl_error, sizeof(f->ctl_error), "%s: \"%s\" missing or not valid", path, bad);
	else
		f->ctl = ST_CTL_OK;
	json_decref(root);
}

/* The controller's pid as shown: 0 when controller.json has none, or one no process has. */
static long st_ctl_pid(const struct st_facts *f) { return f->ctl_file.pid > 0x7fffffff ? 0 : (long)f->ctl_file.pid; }

static void st_controller(const char *run_dir, struct st_facts *f)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/" MCS_STATUS_FILE, run_dir);
	FILE *fp = fopen(path, "r");
	struct stat sb;
	f->ctl = ST_CTL_MISSING;
	if (fp == NULL || fstat(fileno(fp), &sb) == -1) {
		st_set_err(f->ctl_error, sizeof(f->ctl_error), "%s: cannot be read", path);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > ST_CTL_MAX_BYTES) {
		f->ctl = ST_CTL_BAD;
		st_set_err(f->ctl_error, sizeof(f->ctl_error), "%s: not a regular file under 1 MB", path);
		goto out;
	}
	char *text = malloc((size_t)sb.st_size + 1);
	size_t len = text ? fread(text, 1, (size_t)sb.st_size, fp) : 0;
	if (text != NULL)
		st_parse_controller(path, text, len, f);
	free(text);
out:
	if (fp != NULL)
		fclose(fp);
}

void st_gather(const char *run_dir, int timeout_ms, struct st_facts *f)
{
	char sock[4096];
	memset(f, 0, sizeof(*f));
	f->now = time(NULL);
	snprintf(sock, sizeof(sock), "%s/" MCS_STATS_SOCK, run_dir);
	struct hap_conn *c = hap_conn_new(sock, timeout_ms);
	if (c == NULL)
		st_set_err(f->hap_error, sizeof(f->hap_error), "%s: not a usable socket path", sock);
	else
		f->hap_up = st_info(c, f) == 0 && st_stats(c, f) == 0;
	if (!f->hap_up && strstr(f->hap_error, sock) == NULL) {
		char e[sizeof(f->hap_error)];
		snprintf(e, sizeof(e), "%s", f->hap_error);
		st_set_err(f->hap_error, sizeof(f->hap_error), "%s: %s", sock, e);
	}
	hap_conn_free(c);
	st_reloads(run_dir, timeout_ms, f);
	st_controller(run_dir, f);
}

void st_facts_free(struct st_facts *f)
{
	free(f->nodes);
	f->nodes = NULL;
	f->n_nodes = 0;
}

/* ---- judging ---- */

int st_ctl_synced(const struct st_facts *f)
{
	return f->ctl == ST_CTL_OK && f->ctl_file.last_sync > 0 &&
	       (long long)f->now - f->ctl_file.last_sync <= ST_CTL_STALE_S;
}

static size_t st_healthy(const struct st_facts *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_nodes; i++)
		n += f->nodes[i].state == ST_UP || f->nodes[i].state == ST_WARMING;
	return n;
}

int st_exit_code(const struct st_facts *f)
{
	if (f->hap_up)
		return st_healthy(f) > 0 ? 0 : 1;
	return st_ctl_synced(f) ? 1 : 2;
}

/* ---- text ---- */

/* One line, cut at width columns (the text is ASCII). */
static void st_line(FILE *out, unsigned width, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void st_line(FILE *out, unsigned width, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (width > 0 && strlen(buf) > width)
		buf[width] = '\0';
	fprintf(out, "%s\n", buf);
}

static void st_duration(char *buf, size_t len, unsigned long long s)
{
	if (s >= 86400)
		snprintf(buf, len, "%llud%02lluh%02llum", s / 86400, s / 3600 % 24, s / 60 % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lluh%02llum%02llus", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%llum%02llus", s / 60, s % 60);
}

static void st_render_controller(FILE *out, const struct st_facts *f, unsigned width)
{
	long long age = (long long)f->now - f->ctl_file.last_sync;
	if (f->ctl != ST_CTL_OK)
		st_line(out, width, "controller  unknown: %s", f->ctl_error);
	else if (f->ctl_file.last_sync == 0)
		st_line(out, width, "controller  NOT SYNCED yet (pid %ld)", st_ctl_pid(f));
	else
		st_line(out, width, "controller  %s, last sync %llds ago (pid %ld)%s",
			st_ctl_synced(f) ? "synced" : "NOT SYNCING", age < 0 ? 0 : age, st_ctl_pid(f),
			f->ctl_file.haproxy_ok ? "" : ", cannot reach HAProxy");
	if (f->ctl != ST_CTL_OK)
		st_line(out, width, "redis       unknown (from controller.json)");
	else
		st_line(out, width, "redis       %s%s%s", f->ctl_file.redis_ok ? "reachable" : "UNREACHABLE",
			f->ctl_file.redis_ok ? "" : ": ", f->ctl_file.redis_ok ? "" : f->ctl_file.redis_error);
}

void st_render_text(FILE *out, const struct st_facts *f, const char *run_dir, unsigned width)
{
	char up[32], when[32];
	struct tm tm;
	gmtime_r(&f->now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	static const char *const verdict[] = {"serving", "NOT SERVING", "NOTHING RUNS"};
	int code = st_exit_code(f);
	st_line(out, width, "mcs-lb %s  %s  %s", run_dir, when, verdict[code]);
	if (f->hap_up) {
		st_duration(up, sizeof(up), f->uptime_s);
		st_line(out, width, "haproxy     up, worker pid %ld, up %s (since its last start or reload)",
			f->hap_pid, up);
		if (f->reloads >= 0)
			st_line(out, width, "reloads     %ld since HAProxy started, %ld failed", f->reloads,
				f->reloads_failed);
		else
			st_line(out, width, "reloads     unknown: %s", f->reloads_error);
	} else {
		st_line(out, width, "haproxy     DOWN: %s", f->hap_error);
	}
	st_render_controller(out, f, width);
	if (!f->hap_up)
		return;
	st_line(out, width, "clients     %llu / %llu", f->clients, f->client_limit);
	st_line(out, width, "nodes       %zu, %zu healthy", f->n_nodes, st_healthy(f));
	if (f->n_nodes > 0)
		st_line(out, width, "%-40s %-11s %8s %7s %-10s %8s", "NODE", "STATE", "SESSIONS", "WEIGHT", "CHECK",
			"FAILURES");
	for (size_t i = 0; i < f->n_nodes; i++) {
		const struct st_node *n = &f->nodes[i];
		char check[48];
		snprintf(check, sizeof(check), "%s %llums", n->check[0] ? n->check : "-", n->check_ms);
		st_line(out, width, "%-40s %-11s %8llu %7u %-10s %8llu", n->name, st_state_name(n->state), n->sessions,
			n->weight, check, n->failures);
	}
}

/* ---- JSON ---- */

static json_t *st_json_nodes(const struct st_facts *f)
{
	json_t *a = json_array();
	for (size_t i = 0; a != NULL && i < f->n_nodes; i++) {
		const struct st_node *n = &f->nodes[i];
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:I}", "name", n->name,
						       "state", st_state_name(n->state), "sessions",
						       (json_int_t)n->sessions, "weight", (json_int_t)n->weight,
						       "initial_weight", (json_int_t)n->iweight, "check", n->check,
						       "check_ms", (json_int_t)n->check_ms, "failures",
						       (json_int_t)n->failures)) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int st_render_json(FILE *out, const struct st_facts *f, const char *run_dir)
{
	int code = st_exit_code(f);
	json_t *hap = f->hap_up ? json_pack("{s:b, s:I, s:I}", "up", 1, "pid", (json_int_t)f->hap_pid, "uptime_s",
					    (json_int_t)f->uptime_s)
				: json_pack("{s:b, s:s}", "up", 0, "error", f->hap_error);
	json_t *ctl = f->ctl == ST_CTL_OK
			      ? json_pack("{s:b, s:I, s:I, s:I, s:b}", "synced", st_ctl_synced(f), "pid",
					  (json_int_t)st_ctl_pid(f), "last_sync", (json_int_t)f->ctl_file.last_sync,
					  "last_sync_age_s", (json_int_t)(f->now - f->ctl_file.last_sync), "haproxy_ok",
					  f->ctl_file.haproxy_ok)
			      : json_pack("{s:b, s:s}", "synced", 0, "error", f->ctl_error);
	json_t *redis = f->ctl == ST_CTL_OK ? json_pack("{s:b, s:s}", "reachable", f->ctl_file.redis_ok, "error",
							f->ctl_file.redis_error)
					    : json_pack("{s:n}", "reachable");
	json_t *root = json_pack("{s:s, s:I, s:i, s:b, s:I, s:o*, s:o*, s:o*}", "run_dir", run_dir, "time",
				 (json_int_t)f->now, "exit", code, "serving", code == 0, "healthy_nodes",
				 (json_int_t)st_healthy(f), "haproxy", hap, "controller", ctl, "redis", redis);
	if (hap != NULL && f->hap_up)
		json_object_set_new(hap, "reloads",
				    f->reloads >= 0 ? json_pack("{s:I, s:I}", "count", (json_int_t)f->reloads, "failed",
								(json_int_t)f->reloads_failed)
						    : json_pack("{s:n, s:s}", "count", "error", f->reloads_error));
	if (root != NULL && f->hap_up) {
		json_object_set_new(root, "clients",
				    json_pack("{s:I, s:I}", "now", (json_int_t)f->clients, "limit",
					      (json_int_t)f->client_limit));
		json_object_set_new(root, "nodes", st_json_nodes(f));
	}
	char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (text == NULL)
		return -1;
	fprintf(out, "%s\n", text);
	free(text);
	return 0;
}
