/* mcs-lb-controller: keeps HAProxy's backend `mcs` equal to the live chat nodes in Redis. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert_watch.h"
#include "ctl.h"
#include "hap_conn.h"
#include "log.h"
#include "redis_url.h"

#define CTL_BACKOFF_MAX_MS 5000u

static volatile int ctl_stop;

static void ctl_on_signal(int sig) { ctl_stop = sig; }

static void ctl_run(struct ctl *ctl)
{
	unsigned backoff_ms = 0;
	while (!ctl_stop) {
		uint64_t started = ctl_now_ms();
		if (ctl_step(ctl) == 0) {
			backoff_ms = 0;
		} else {
			backoff_ms = backoff_ms ? backoff_ms * 2 : (unsigned)conf.poll_ms;
			if (backoff_ms > CTL_BACKOFF_MAX_MS)
				backoff_ms = CTL_BACKOFF_MAX_MS > conf.poll_ms ? CTL_BACKOFF_MAX_MS : (unsigned)conf.poll_ms;
		}
		ctl_write_status(ctl);
		uint64_t deadline = started + (backoff_ms ? backoff_ms : conf.poll_ms);
		/* A node that stops heartbeating is seen when its last heartbeat turns stale, not up to
		 * one poll later. */
		if (backoff_ms == 0 && ctl->expiry_at_ms != 0 && ctl->expiry_at_ms < deadline)
			deadline = ctl->expiry_at_ms;
		/* A notification may call the next step early; a backoff is waited out in full. */
		while (ctl_wait(ctl, deadline, &ctl_stop) == 1 && backoff_ms != 0 && !ctl_stop)
			continue;
	}
}

static int ctl_init(struct ctl *ctl)
{
	char err[256], sock[512];
	struct redis_url url;
	if (redis_url_parse(conf.redis_url, &url, err, sizeof(err)) == -1) {
		log_err("REDIS_URL: %s", err);
		return -1;
	}
	ctl->redis = redis_src_new(&url, conf.node_key, (unsigned)conf.io_timeout_ms);
	redis_url_clear(&url);
	snprintf(sock, sizeof(sock), "%s/admin.sock", conf.run_dir);
	ctl->hap = hap_conn_new(sock, (int)conf.io_timeout_ms);
	if (ctl->redis == NULL || ctl->hap == NULL) {
		log_err("out of memory at start-up");
		return -1;
	}
	ctl->opts.check = (struct hap_check_opts){(unsigned)conf.check_inter_ms, (unsigned)conf.check_fall,
						  (unsigned)conf.check_rise, (unsigned)conf.weight};
	if (strcmp(conf.cert_reload, "on") == 0) {
		char cert[512], key[512], pem[512];
		snprintf(cert, sizeof(cert), "%s/server.cert", conf.tls_dir);
		snprintf(key, sizeof(key), "%s/server.key", conf.tls_dir);
		/* The name HAProxy knows the certificate by: its bind line's crt, expanded. */
		snprintf(pem, sizeof(pem), "%s/server.pem", conf.run_dir);
		if ((ctl->cert = cert_watch_new(cert, key, pem, pem)) == NULL) {
			log_err("MCS_TLS_DIR/MCS_RUN_DIR: cannot watch %s and %s for %s", cert, key, pem);
			return -1;
		}
	}
	ctl_restore_drains(ctl);
	return ctl_events_init(ctl);
}

static void ctl_free(struct ctl *ctl)
{
	ctl_events_free(ctl);
	cert_watch_free(ctl->cert);
	ctl_nodes_free(&ctl->nodes);
	redis_src_free(ctl->redis);
	hap_conn_free(ctl->hap);
	rec_memory_clear(&ctl->leaving);
	node_list_clear(&ctl->live);
	free(ctl->prev_rejects);
	free(ctl->servers_file_text);
}

int main(int argc, char **argv)
{
	log_set_program("mcs-lb-controller");
	int rc = cfg_main(argc, argv,
			  "Keeps HAProxy's backend `" CTL_BACKEND "` equal to the live chat nodes of a Redis sorted set.",
			  ctl_vars, ctl_nvars);
	if (rc != 0) {
		cfg_free(ctl_vars, ctl_nvars);
		return rc == 1 ? 0 : 2;
	}
	enum log_level level = LOG_LVL_INFO;
	if (log_level_parse(conf.log_level, &level) == 0)
		log_set_level(level);
	struct sigaction sa = {.sa_handler = ctl_on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct ctl ctl = {.refused_rate = -1, .refused_concurrency = -1};
	int status = 1;
	if (ctl_init(&ctl) == 0) {
		char shown[512];
		redis_url_redact(conf.redis_url, shown, sizeof(shown));
		log_info("started: redis %s key %s ttl %lu ms poll %lu ms, haproxy %s/admin.sock", shown, conf.node_key,
			 conf.ttl_ms, conf.poll_ms, conf.run_dir);
		ctl_run(&ctl);
		log_info("stopping on signal %d; HAProxy keeps its servers", ctl_stop);
		status = 0;
	}
	ctl_free(&ctl);
	cfg_free(ctl_vars, ctl_nvars);
	return status;
}
