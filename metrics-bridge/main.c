/* mcs-lb-metrics: serves the gateway's lb_* Prometheus metrics from HAProxy's read-only stats
 * socket and the controller's status file. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "bridge_http.h"
#include "bridge_scrape.h"
#include "cfg.h"
#include "log.h"
#include "names.h"

#define BRIDGE_REQUEST_MAX 16384u /* request line + headers; /metrics needs a few hundred bytes */
#define BRIDGE_MAX_CONNECTIONS 64u

struct bridge_config {
	char *bind_addr, *run_dir, *tls_dir;
	unsigned long port, scrape_timeout_ms, http_timeout_s, stale_s, forget_s;
	int log_level, log_format; /* enum log_level, enum log_format */
};

static struct bridge_config conf;

static int bridge_check_addr(const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0' || addr_is_literal(value))
		return 0;
	snprintf(err, errlen, "\"%.64s\" is not an IPv4 or IPv6 address (empty: all IPv4 addresses)", value);
	return -1;
}

static int bridge_check_tls_dir(const char *value, char *err, size_t errlen)
{
	return value[0] == '\0' ? 0 : cfg_check_nonempty(value, err, errlen);
}

/* One variable per row, however long: the formatter leaves the table alone. */
/* clang-format off */
static const struct cfg_var bridge_vars[] = {
	{"PROMETHEUS_PORT", CFG_UINT, "9000", 0, 65535, "port", "port of GET /metrics (0: any free port, logged)", &conf.port, NULL, NULL, NULL},
	{"MCS_METRICS_BIND_ADDR", CFG_STR, "", 0, 0, NULL, "address /metrics listens on, e.g. 127.0.0.1 or ::1 (empty: all IPv4 addresses)", &conf.bind_addr, bridge_check_addr, NULL, NULL},
	{"MCS_RUN_DIR", CFG_STR, "run", 0, 0, NULL, "directory of HAProxy's stats.sock and the controller's controller.json", &conf.run_dir, cfg_check_nonempty, NULL, NULL},
	{"MCS_TLS_DIR", CFG_STR, "tls", 0, 0, NULL, "directory of server.cert, whose leaf's expiry is exported (empty: not exported)", &conf.tls_dir, bridge_check_tls_dir, NULL, NULL},
	{"MCS_METRICS_SCRAPE_TIMEOUT_MS", CFG_UINT, "2000", 100, 60000, "milliseconds", "each of a scrape's five commands to HAProxy waits this long, then the page says lb_haproxy_up 0", &conf.scrape_timeout_ms, NULL, NULL, NULL},
	{"MCS_METRICS_HTTP_TIMEOUT_S", CFG_UINT, "10", 1, 3600, "seconds", "an idle or slow HTTP connection is closed after this", &conf.http_timeout_s, NULL, NULL, NULL},
	{"MCS_METRICS_CONTROLLER_STALE_S", CFG_UINT, "30", 1, 86400, "seconds", "an older controller.json means lb_controller_up 0", &conf.stale_s, NULL, NULL, NULL},
	{"MCS_METRICS_FORGET_S", CFG_UINT, "3600", 0, 31536000, "seconds", "counter offsets of a node gone from HAProxy this long are dropped", &conf.forget_s, NULL, NULL, NULL},
	CFG_LOG_ROWS(&conf.log_level, &conf.log_format),
};
/* clang-format on */
#define BRIDGE_NVARS (sizeof(bridge_vars) / sizeof(bridge_vars[0]))

/* Serves until SIGTERM or SIGINT (blocked in every thread, taken by sigwait here). Returns the
 * exit status. */
static int bridge_run(const sigset_t *stop_signals)
{
	char stats[512], status[512], cert[512], err[256];
	snprintf(stats, sizeof(stats), "%s/" MCS_STATS_SOCK, conf.run_dir);
	snprintf(status, sizeof(status), "%s/" MCS_STATUS_FILE, conf.run_dir);
	snprintf(cert, sizeof(cert), "%s/" MCS_TLS_CERT, conf.tls_dir);
	struct bridge_scrape_opts so = {stats,
					status,
					MCS_FRONTEND,
					MCS_BACKEND,
					(unsigned)conf.scrape_timeout_ms,
					conf.stale_s,
					conf.forget_s,
					conf.tls_dir[0] != '\0' ? cert : NULL,
					MCS_VERSION,
					OpenSSL_version(OPENSSL_VERSION_STRING)};
	struct bridge_scrape *scrape = bridge_scrape_new(&so);
	if (scrape == NULL) {
		log_err("out of memory at start-up");
		return 1;
	}
	struct bridge_http_opts ho = {conf.bind_addr, (unsigned)conf.port, (unsigned)conf.http_timeout_s,
				      BRIDGE_REQUEST_MAX, BRIDGE_MAX_CONNECTIONS};
	struct bridge_http *http = bridge_http_start(&ho, bridge_scrape_page, scrape, err, sizeof(err));
	if (http == NULL) {
		log_err("PROMETHEUS_PORT: %s", err);
		bridge_scrape_free(scrape);
		return 1;
	}
	log_info("started: http://%s%s%s:%u/metrics from %s and %s", strchr(conf.bind_addr, ':') ? "[" : "",
		 conf.bind_addr[0] ? conf.bind_addr : "0.0.0.0", strchr(conf.bind_addr, ':') ? "]" : "",
		 bridge_http_port(http), stats, status);
	int sig = 0;
	while (sigwait(stop_signals, &sig) != 0)
		;
	log_info("stopping on signal %d", sig);
	bridge_http_stop(http);
	bridge_scrape_free(scrape);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = cfg_daemon_start(
		argc, argv, "mcs-lb-metrics",
		"Serves the gateway's lb_* Prometheus metrics (GET /metrics) from HAProxy's read-only stats socket.",
		bridge_vars, BRIDGE_NVARS, &conf.log_level, &conf.log_format);
	if (rc != CFG_RUN)
		return rc;
	/* Blocked before any thread starts, so only sigwait sees them. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	int status = bridge_run(&stop_signals);
	cfg_free(bridge_vars, BRIDGE_NVARS);
	return status;
}
