/* Scrape I/O: one persistent prompt-mode connection to the stats socket, guarded by a mutex;
 * `show info`, `show servers state <backend>`, `show stat`, `show table`, `show mcs bwlim`, then
 * controller.json and the served certificate file. */
#include "bridge_scrape.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge_cert.h"
#include "bridge_counters.h"
#include "bridge_ctl.h"
#include "bridge_render.h"
#include "bridge_stats.h"
#include "expo.h"
#include "hap_bwlim.h"
#include "hap_cmd.h"
#include "hap_conn.h"
#include "hap_servers.h"
#include "hap_worker.h"
#include "log.h"
#include "mono.h"

struct bridge_scrape {
	pthread_mutex_t lock;
	struct hap_conn *hap;
	struct bridge_counters *counters_fe, *counters_be;
	char *ctl_path, *frontend, *backend;
	char *cert_path; /* the served certificate, NULL: no expiry series */
	char *version, *openssl_version;
	char hap_version[64]; /* last Version of show info, "" before the first */
	unsigned long stale_s, forget_s;
	unsigned long long worker; /* identity of the HAProxy worker last read */
	char hap_error[256];       /* last HAProxy problem, "" while healthy (logged on change) */
	char ctl_error[160];       /* last controller problem, "" while up */
	char cert_error[160];      /* last certificate problem, "" while readable */
	size_t n_unlabelled;       /* last count of servers without a known address */
};

struct bridge_scrape *bridge_scrape_new(const struct bridge_scrape_opts *o)
{
	struct bridge_scrape *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->hap = hap_conn_new(o->stats_socket, (int)o->timeout_ms);
	s->counters_fe = bridge_counters_new(4);
	s->counters_be = bridge_counters_new(4);
	s->ctl_path = strdup(o->controller_json);
	s->frontend = strdup(o->frontend);
	s->backend = strdup(o->backend);
	s->cert_path = o->cert_file != NULL ? strdup(o->cert_file) : NULL;
	s->version = strdup(o->version);
	s->openssl_version = strdup(o->openssl_version);
	s->stale_s = o->stale_s;
	s->forget_s = o->forget_s;
	if (s->hap == NULL || s->counters_fe == NULL || s->counters_be == NULL || s->ctl_path == NULL ||
	    s->frontend == NULL || s->backend == NULL || (o->cert_file != NULL && s->cert_path == NULL) ||
	    s->version == NULL || s->openssl_version == NULL) {
		bridge_scrape_free(s);
		return NULL;
	}
	return s;
}

void bridge_scrape_free(struct bridge_scrape *s)
{
	if (s == NULL)
		return;
	hap_conn_free(s->hap);
	bridge_counters_free(s->counters_fe);
	bridge_counters_free(s->counters_be);
	free(s->ctl_path);
	free(s->frontend);
	free(s->backend);
	free(s->cert_path);
	free(s->version);
	free(s->openssl_version);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The last command's failure as "<class>: <hap_conn's message>" into err. */
static void scrape_conn_error(struct bridge_scrape *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", hap_err_name(hap_conn_err(s->hap)), hap_conn_errstr(s->hap));
}

/* Runs cmd; *reply malloc'd (caller frees). hap_conn reconnects a connection HAProxy closed
 * while idle; one closed while the command was on its way (`stats timeout`, a restart) fails
 * with EOF or IO: these commands only read, so they are sent once more on a new connection.
 * Returns 0, or -1 with the reason in err. */
static int scrape_cmd(struct bridge_scrape *s, const char *cmd, char **reply, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		*reply = NULL;
		if (hap_conn_cmd(s->hap, cmd, reply) == 0)
			return 0;
		free(*reply);
		*reply = NULL;
		enum hap_err e = hap_conn_err(s->hap);
		scrape_conn_error(s, err, errlen);
		if (e != HAP_ERR_EOF && e != HAP_ERR_IO)
			break;
		log_debug("haproxy: %s; reconnecting once", err);
	}
	return -1;
}

/* show info of the current worker: after a reload the connection still reaches the old one
 * (hap_worker_info reconnects). */
static int scrape_read_info(struct bridge_scrape *s, struct bridge_snapshot *snap, char *err, size_t errlen)
{
	struct hap_info info;
	if (hap_worker_info(s->hap, &info, err, errlen) == -1) {
		if (hap_conn_err(s->hap) != HAP_OK)
			scrape_conn_error(s, err, errlen);
		return -1;
	}
	bridge_stats_set_info(snap, &info);
	return 0;
}

/* Server addresses from `show servers state`: the stats socket (level user) leaves the addr
 * column of `show stat` empty. A reply that does not parse costs labels, not the scrape. */
static int scrape_read_states(struct bridge_scrape *s, struct hap_server_state **states, size_t *n, char *err,
			      size_t errlen)
{
	char cmd[256], *reply, why[192];
	*states = NULL;
	*n = 0;
	if (hap_cmd_show_servers_state(cmd, sizeof(cmd), s->backend) == -1) {
		snprintf(err, errlen, "show servers state: backend name \"%.64s\" not valid", s->backend);
		return -1;
	}
	if (scrape_cmd(s, cmd, &reply, err, errlen) == -1)
		return -1;
	if (hap_servers_state_parse(reply, states, n, why, sizeof(why)) == -1)
		log_debug("haproxy: %s: %s (labels from show stat only)", cmd, why);
	free(reply);
	return 0;
}

/* Use of the frontend's stick table (the per-address limits) from `show table`: at level user
 * HAProxy lists each table's size and use and never its entries, so this stays cheap however
 * many addresses are tracked. A reply that does not parse costs the table series, not the
 * scrape. */
static int scrape_read_table(struct bridge_scrape *s, struct bridge_snapshot *snap, char *err, size_t errlen)
{
	char *reply, why[192];
	if (scrape_cmd(s, "show table", &reply, err, errlen) == -1)
		return -1;
	if (bridge_stats_parse_table(reply, s->frontend, snap, why, sizeof(why)) == -1)
		log_debug("haproxy: %s (no stick-table series)", why);
	free(reply);
	return 0;
}

/* Bytes held back by the Lua bandwidth limit (haproxy/bwlim.lua's `show mcs bwlim`, allowed at
 * level user). HAProxy refuses the command when the limit is off: no series then. A reply that
 * does not parse costs that series, not the scrape. */
static int scrape_read_bwlim(struct bridge_scrape *s, struct bridge_snapshot *snap, char *err, size_t errlen)
{
	char *reply, why[192];
	struct hap_bwlim bw;
	snap->bw_found = 0;
	if (scrape_cmd(s, "show mcs bwlim", &reply, err, errlen) == -1)
		return hap_conn_err(s->hap) == HAP_ERR_REJECTED ? 0 : -1;
	if (hap_bwlim_parse(reply, &bw, why, sizeof(why)) == -1)
		log_debug("haproxy: %s (no bandwidth-limit series)", why);
	free(reply);
	snap->bw_found = bw.found;
	snap->bw_throttled = bw.throttled;
	return 0;
}

/* Reads HAProxy into snap. Returns 0, or -1 with the reason in err. States are read before
 * the stats, so a server added in between is skipped this time rather than mislabelled. */
static int scrape_read_haproxy(struct bridge_scrape *s, struct bridge_snapshot *snap, char *err, size_t errlen)
{
	struct hap_server_state *states = NULL;
	size_t n_states = 0;
	char *csv = NULL;
	int rc = -1;
	if (scrape_read_info(s, snap, err, errlen) == -1 ||
	    scrape_read_states(s, &states, &n_states, err, errlen) == -1 ||
	    scrape_cmd(s, "show stat -1 7 -1", &csv, err, errlen) == -1)
		goto done;
	rc = bridge_stats_parse_stat(csv, s->frontend, s->backend, states, n_states, snap, err, errlen);
	if (rc == 0)
		rc = scrape_read_table(s, snap, err, errlen);
	if (rc == 0)
		rc = scrape_read_bwlim(s, snap, err, errlen);
done:
	free(states);
	free(csv);
	return rc;
}

/* Logs a problem when it starts or changes, and the recovery once. Numbers do not count as a
 * change ("stale: written 31 s ago", then 32 s). */
static void scrape_track(char *slot, size_t len, const char *what, const char *error)
{
	if (error == NULL) {
		if (slot[0] != '\0')
			log_info("%s: readable again", what);
		slot[0] = '\0';
		return;
	}
	size_t key = strcspn(error, "0123456789");
	if (strlen(slot) < key || strncmp(slot, error, key) != 0 || slot[0] == '\0')
		log_warn("%s: %s", what, error);
	snprintf(slot, len, "%s", error);
}

/* Reads HAProxy and applies the counter offsets. Returns snap, or NULL when unreadable. */
static struct bridge_snapshot *scrape_snapshot(struct bridge_scrape *s, struct bridge_snapshot *snap)
{
	char err[256];
	if (scrape_read_haproxy(s, snap, err, sizeof(err)) == -1) {
		scrape_track(s->hap_error, sizeof(s->hap_error), "haproxy", err);
		hap_conn_close(s->hap);
		return NULL;
	}
	scrape_track(s->hap_error, sizeof(s->hap_error), "haproxy", NULL);
	if (snap->n_unlabelled != s->n_unlabelled && snap->n_unlabelled > 0)
		log_warn("haproxy: %zu server(s) of %s without a known address, not exported", snap->n_unlabelled,
			 s->backend);
	s->n_unlabelled = snap->n_unlabelled;
	/* Monotonic clock: a wall-clock step must not look like a new worker. */
	long long mono = (long long)(mono_now_ms() / 1000u);
	s->worker = bridge_counters_worker_id(snap->pid, mono - (long long)snap->uptime_s, s->worker);
	if (bridge_counters_apply(s->counters_fe, s->counters_be, snap, s->worker, (time_t)mono, s->forget_s) == -1)
		log_warn("out of memory: some counters exported raw this time");
	return snap;
}

/* notAfter of the certificate file at path into *out. The file is outside input: at most
 * BRIDGE_CERT_MAX_BYTES are read. Returns 0, or -1 with the reason in err. */
static int scrape_read_cert(const char *path, long long *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open: %s (no certificate expiry series)", strerror(errno));
		return -1;
	}
	char *buf = malloc(BRIDGE_CERT_MAX_BYTES + 1);
	size_t len = buf != NULL ? fread(buf, 1, BRIDGE_CERT_MAX_BYTES + 1, f) : 0;
	fclose(f);
	char why[128];
	int rc = -1;
	if (buf == NULL)
		snprintf(err, errlen, "out of memory");
	else if ((rc = bridge_cert_not_after(buf, len, out, why, sizeof(why))) == -1)
		snprintf(err, errlen, "%s (no certificate expiry series)", why);
	free(buf);
	return rc;
}

/* The bridge's own series: versions, and the certificate's expiry when it can be read. */
static void scrape_info(struct bridge_scrape *s, const struct bridge_snapshot *got, struct bridge_info *info)
{
	char err[160];
	if (got != NULL && got->version[0] != '\0')
		snprintf(s->hap_version, sizeof(s->hap_version), "%s", got->version);
	*info = (struct bridge_info){s->version, s->hap_version, s->openssl_version, 0, 0};
	if (s->cert_path == NULL)
		return;
	if (scrape_read_cert(s->cert_path, &info->cert_not_after, err, sizeof(err)) == 0) {
		info->has_cert = 1;
		scrape_track(s->cert_error, sizeof(s->cert_error), s->cert_path, NULL);
	} else {
		scrape_track(s->cert_error, sizeof(s->cert_error), s->cert_path, err);
	}
}

int bridge_scrape_page(void *ctx, char **body, size_t *len)
{
	struct bridge_scrape *s = ctx;
	struct bridge_snapshot snap = {0};
	struct bridge_ctl_status ctl;
	struct bridge_info info;
	struct expo_buf b = EXPO_BUF_INIT;
	pthread_mutex_lock(&s->lock);
	const struct bridge_snapshot *got = scrape_snapshot(s, &snap);
	if (bridge_ctl_read(s->ctl_path, (long long)time(NULL), s->stale_s, &ctl) == -1)
		scrape_track(s->ctl_error, sizeof(s->ctl_error), s->ctl_path, ctl.why);
	else
		scrape_track(s->ctl_error, sizeof(s->ctl_error), s->ctl_path, NULL);
	scrape_info(s, got, &info);
	bridge_render(got, &ctl, &info, &b);
	pthread_mutex_unlock(&s->lock);
	bridge_snapshot_clear(&snap);
	*body = expo_buf_take(&b, len);
	return *body == NULL ? -1 : 0;
}
