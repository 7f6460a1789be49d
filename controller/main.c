/* mcs-lb-controller: keeps HAProxy's backend `mcs` equal to the live chat nodes in Redis. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "hap_conn.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "redis_url.h"

static volatile int ctl_stop;

static void ctl_on_signal(int sig) { ctl_stop = sig; }

/* The jobs of the loop, each registered by its _new and holding its own state. */
struct ctl_jobs {
	struct ctl_stepper *stepper;
	struct ctl_agent *agent; /* NULL with MCS_AGENT=off */
	struct ctl_watch *watch; /* NULL with MCS_REDIS_NOTIFY=off */
	struct ctl_cert *cert;   /* NULL with MCS_CERT_RELOAD=off */
	struct ctl_refused *refused;
	struct ctl_sentinel *sentinel; /* NULL without MCS_REDIS_SENTINELS */
};

static int ctl_init(struct ctl *ctl)
{
	char err[256], sock[512];
	struct redis_url url;
	if (redis_url_parse(conf.redis_url, &url, err, sizeof(err)) == -1) {
		log_err("REDIS_URL: %s", err);
		return -1;
	}
	if (!url.tls && (conf.redis_ca_file[0] || conf.redis_cert_file[0] || conf.redis_server_name[0]))
		log_warn("REDIS_URL is redis:// (plain text): the MCS_REDIS_* TLS settings are not used");
	if (conf.redis_key_file[0] && !conf.redis_cert_file[0]) {
		log_err("MCS_REDIS_KEY_FILE is set without MCS_REDIS_CERT_FILE");
		redis_url_clear(&url);
		return -1;
	}
	struct redis_conn_opts opts;
	struct redis_sentinel *sentinel;
	if (ctl_redis_data(&url, &opts, &sentinel) == 0)
		ctl->redis = redis_src_new(&opts, conf.node_key, sentinel); /* NULL: refused below */
	redis_url_clear(&url);
	snprintf(sock, sizeof(sock), "%s/" MCS_ADMIN_SOCK, conf.run_dir);
	ctl->hap = hap_conn_new(sock, (int)conf.io_timeout_ms);
	ctl->loop = loop_new();
	if (ctl->redis == NULL || ctl->hap == NULL || ctl->loop == NULL) {
		log_err("out of memory at start-up");
		return -1;
	}
	ctl->opts.check = (struct hap_check_opts){(unsigned)conf.check_inter_ms, (unsigned)conf.check_fall,
						  (unsigned)conf.check_rise, (unsigned)conf.weight,
						  conf.send_proxy == CTL_SEND_PROXY_V2};
	ctl_status_restore_drains(ctl);
	return 0;
}

/* Registers the jobs; the step first, so it runs before the others at the first turn. */
static int ctl_jobs_start(struct ctl *ctl, struct ctl_jobs *jobs)
{
	if ((jobs->stepper = ctl_stepper_new(ctl)) == NULL || (jobs->refused = ctl_refused_new(ctl)) == NULL) {
		log_err("out of memory at start-up");
		return -1;
	}
	if (conf.agent && (jobs->agent = ctl_agent_new(ctl)) == NULL)
		return -1;
	if (conf.notify && (jobs->watch = ctl_watch_new(ctl, jobs->stepper)) == NULL)
		return -1;
	if (conf.cert_reload && (jobs->cert = ctl_cert_new(ctl)) == NULL)
		return -1;
	if (conf.redis_sentinels[0] != '\0' &&
	    (jobs->sentinel = ctl_sentinel_new(ctl, jobs->stepper, jobs->watch)) == NULL) {
		log_err("out of memory at start-up");
		return -1;
	}
	return 0;
}

static void ctl_jobs_stop(struct ctl_jobs *jobs)
{
	ctl_sentinel_free(jobs->sentinel);
	ctl_cert_free(jobs->cert);
	ctl_watch_free(jobs->watch);
	ctl_agent_free(jobs->agent);
	ctl_refused_free(jobs->refused);
	ctl_stepper_free(jobs->stepper);
}

static void ctl_free(struct ctl *ctl)
{
	ctl_nodes_free(&ctl->nodes);
	redis_src_free(ctl->redis);
	hap_conn_free(ctl->hap);
	loop_free(ctl->loop);
	rec_memory_clear(&ctl->leaving);
	node_list_clear(&ctl->live);
	free(ctl->prev_rejects);
	ctl_servers_file_forget(ctl);
}

int main(int argc, char **argv)
{
	int rc = cfg_daemon_start(argc, argv, "mcs-lb-controller",
				  "Keeps HAProxy's backend `" MCS_BACKEND
				  "` equal to the live chat nodes of a Redis sorted set.",
				  ctl_vars, ctl_nvars, &conf.log_level, &conf.log_format);
	if (rc != CFG_RUN)
		return rc;
	struct sigaction sa = {.sa_handler = ctl_on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct ctl ctl = {0};
	struct ctl_jobs jobs = {0};
	int status = 1;
	if (ctl_init(&ctl) == 0 && ctl_jobs_start(&ctl, &jobs) == 0) {
		char shown[512];
		redis_url_redact(conf.redis_url, shown, sizeof(shown));
		char via[300] = "";
		if (conf.redis_sentinels[0] != '\0')
			snprintf(via, sizeof(via), " (master \"%s\" of the sentinels %s)", conf.redis_sentinel_master,
				 conf.redis_sentinels);
		log_info("started: redis %s%s key %s ttl %lu ms poll %lu ms, haproxy %s/" MCS_ADMIN_SOCK, shown, via,
			 conf.node_key, conf.ttl_ms, conf.poll_ms, conf.run_dir);
		loop_run(ctl.loop, &ctl_stop);
		log_info("stopping on signal %d; HAProxy keeps its servers", ctl_stop);
		status = 0;
	}
	ctl_jobs_stop(&jobs);
	ctl_free(&ctl);
	cfg_free(ctl_vars, ctl_nvars);
	return status;
}
