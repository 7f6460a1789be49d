/* The metrics bridge against the real thing: redis-server, haproxy, the controller, demo chat
 * nodes, TLS clients, mcs-lb-metrics, promtool and a real prometheus server, all on 127.0.0.1.
 * Every value is read through /metrics, the interface operators use, and compared with what
 * the clients did and with HAProxy's own stats. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#ifndef BRIDGE_BIN
#error "meson defines BRIDGE_BIN and BRIDGE_ALERTS"
#endif

#define N_NODES 3
#define N_HELD 7
#define CHECK_FALL 3 /* the harness's MCS_CHECK_FALL */

static int bridge_port;
static struct h_proc *bridge;

/* ---------------------------------------------------------------- HTTP */

struct body {
	char *text;
	size_t len;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	char *text = realloc(b->text, b->len + size * n + 1);
	if (text == NULL)
		return 0;
	memcpy(text + b->len, data, size * n);
	b->len += size * n;
	text[b->len] = '\0';
	b->text = text;
	return size * n;
}

/* Sends one request to the bridge. Returns the HTTP status (0: no answer) with the body in
 * *out (malloc'd, caller frees; may be NULL). */
static long http(const char *method, const char *path, const char *header, char **out, char *ctype, size_t ctlen)
{
	char url[256];
	struct body b = {NULL, 0};
	long status = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", bridge_port, path);
	CURL *c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	struct curl_slist *headers = header ? curl_slist_append(NULL, header) : NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send "/../metrics" as it is */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "a=b");
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		char *ct = NULL;
		if (ctype != NULL && curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK)
			snprintf(ctype, ctlen, "%s", ct ? ct : "");
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	if (out != NULL)
		*out = b.text;
	else
		free(b.text);
	return status;
}

/* GET /metrics; fails the test unless it answers 200. Caller frees. */
static char *scrape(void)
{
	char *text = NULL;
	long status = http("GET", "/metrics", NULL, &text, NULL, 0);
	ck_assert_msg(status == 200, "GET /metrics answered %ld", status);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* The value of the sample "series" (name plus labels, as printed) in text, or NAN. */
static double sample(const char *text, const char *series)
{
	size_t len = strlen(series);
	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, len) == 0 && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	return NAN;
}

/* One scrape, one value. */
static double metric(const char *series)
{
	char *text = scrape();
	double v = sample(text, series);
	free(text);
	return v;
}

/* ---------------------------------------------------------------- the gateway + bridge */

/* The port in the last "started: http://127.0.0.1:<port>/metrics" line of log (each test
 * case's bridge appends to it), and in *count how many such lines there are. */
static int logged_port(const char *log, int *count)
{
	static const char mark[] = "started: http://127.0.0.1:";
	char *text = h_read_file(log, NULL);
	const char *p = NULL;
	*count = 0;
	for (const char *q = text; q != NULL && (q = strstr(q, mark)) != NULL && strchr(q, '\n') != NULL; q++)
		p = q, ++*count;
	int port = p != NULL ? atoi(p + strlen(mark)) : 0;
	free(text);
	return port;
}

/* Starts mcs-lb-metrics with PROMETHEUS_PORT=0: it binds a free port itself and logs it, so no
 * other process can take the port between choosing and binding it. */
static void bridge_start(void)
{
	char run[H_PATH_MAX + 16], log[H_PATH_MAX + 16];
	int before = 0, now = 0;
	snprintf(run, sizeof(run), "MCS_RUN_DIR=%s", H.run_dir);
	snprintf(log, sizeof(log), "%s/bridge.log", H.dir);
	logged_port(log, &before);
	const char *env[] = {"PROMETHEUS_PORT=0",
			     run,
			     "MCS_METRICS_BIND_ADDR=127.0.0.1",
			     "MCS_METRICS_HTTP_TIMEOUT_S=2",
			     "MCS_METRICS_CONTROLLER_STALE_S=3",
			     "MCS_LOG_LEVEL=debug",
			     NULL};
	const char *argv[] = {BRIDGE_BIN, NULL};
	bridge = h_spawn("bridge", argv, env);
	ck_assert_msg(bridge != NULL, "%s", h_error());
	ck_assert_msg(H_WAIT(10000, (bridge_port = logged_port(log, &now), now > before) || !h_proc_running(bridge)) &&
			      now > before,
		      "the bridge did not log its port (see %s)", bridge->log);
	/* Ready by protocol: /metrics answers. */
	ck_assert_msg(H_WAIT(10000, http("GET", "/metrics", NULL, NULL, NULL, 0) == 200),
		      "the bridge does not answer on port %d (see %s)", bridge_port, bridge->log);
}

static void setup(void)
{
	h_gateway_start(&(struct h_opts){.poll_ms = 250});
	bridge_start();
}

static void teardown(void) { h_gateway_stop(); }

/* Opens a TLS client that lands on one of nodes; returns the node's index. */
static int open_on(const struct h_node *nodes, int n, struct h_client **out)
{
	char err[512];
	*out = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(*out != NULL, "TLS client: %s", err);
	int i = h_node_index(nodes, n, (*out)->node);
	ck_assert_msg(i >= 0, "client landed on unknown node %s", (*out)->node);
	return i;
}

/* ---------------------------------------------------------------- values */

START_TEST(test_four_metrics_exact)
{
	struct h_node nodes[N_NODES];
	struct h_client *held[N_HELD];
	int count[N_NODES] = {0};
	ck_assert_msg(h_nodes_up(nodes, N_NODES, 10000) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, metric("lb_backends_healthy") == N_NODES), "lb_backends_healthy never reached %d",
		      N_NODES);
	double total0 = metric("lb_total_connections");
	ck_assert(!isnan(total0));
	for (int i = 0; i < N_HELD; i++)
		count[open_on(nodes, N_NODES, &held[i])]++;
	printf("%d held connections: %d/%d/%d\n", N_HELD, count[0], count[1], count[2]);

	ck_assert_msg(H_WAIT(5000, metric("lb_active_connections") == N_HELD), "lb_active_connections is %g, want %d",
		      metric("lb_active_connections"), N_HELD);
	char *text = scrape();
	ck_assert_double_eq(sample(text, "lb_active_connections"), N_HELD);
	ck_assert_double_eq(sample(text, "lb_total_connections"), total0 + N_HELD);
	ck_assert_double_eq(sample(text, "lb_backends"), N_NODES);
	for (int n = 0; n < N_NODES; n++) {
		char s[160];
		snprintf(s, sizeof(s), "lb_backend_active_connections{backend=\"%s\"}", nodes[n].name);
		ck_assert_msg(sample(text, s) == count[n], "%s = %g, want %d", s, sample(text, s), count[n]);
		ck_assert_double_eq(sample(text, s), h_stat_num("mcs", nodes[n].name, "scur"));
		snprintf(s, sizeof(s), "lb_backend_health_check_failures{backend=\"%s\"}", nodes[n].name);
		ck_assert_double_eq(sample(text, s), 0);
		snprintf(s, sizeof(s), "lb_backend_up{backend=\"%s\"}", nodes[n].name);
		ck_assert_double_eq(sample(text, s), 1);
		snprintf(s, sizeof(s), "lb_backend_sessions_total{backend=\"%s\"}", nodes[n].name);
		ck_assert_double_eq(sample(text, s), count[n]);
	}
	free(text);

	/* Closing: the gauges fall back to 0, the counter stays. */
	for (int i = 0; i < N_HELD; i++)
		h_client_close(held[i]);
	ck_assert_msg(H_WAIT(5000, metric("lb_active_connections") == 0), "lb_active_connections stays at %g",
		      metric("lb_active_connections"));
	text = scrape();
	ck_assert_double_eq(sample(text, "lb_total_connections"), total0 + N_HELD);
	for (int n = 0; n < N_NODES; n++) {
		char s[160];
		snprintf(s, sizeof(s), "lb_backend_active_connections{backend=\"%s\"}", nodes[n].name);
		ck_assert_double_eq(sample(text, s), 0);
	}
	free(text);
}
END_TEST

START_TEST(test_controller_metrics)
{
	struct h_node node;
	ck_assert_msg(h_nodes_up(&node, 1, 10000) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, metric("lb_controller_up") == 1), "lb_controller_up stays %g",
		      metric("lb_controller_up"));
	char *text = scrape();
	double last_sync = sample(text, "lb_controller_last_sync_timestamp_seconds");
	double now = (double)time(NULL);
	ck_assert_msg(last_sync >= now - 5 && last_sync <= now + 1, "last sync %g, now %g", last_sync, now);
	ck_assert_double_eq(sample(text, "lb_controller_redis_up"), 1);
	ck_assert_double_ge(sample(text, "lb_controller_live_nodes"), 1);
	double rejected = sample(text, "lb_controller_rejected_members_total");
	ck_assert(!isnan(rejected));
	free(text);
	/* A member that must never reach HAProxy: counted as rejected. */
	const char *bad = "1.2.3.4:80; shutdown sessions server mcs/x";
	ck_assert_int_eq(h_zadd(bad, strlen(bad), 0), 0);
	ck_assert_msg(H_WAIT(5000, metric("lb_controller_rejected_members_total") > rejected),
		      "lb_controller_rejected_members_total stays at %g", rejected);
	redisReply *r = h_redis_cmd("ZREM mcs:node %s", bad);
	if (r != NULL)
		freeReplyObject(r);
}
END_TEST

/* ---------------------------------------------------------------- a node dies, HAProxy reloads */

START_TEST(test_dead_node_and_reload)
{
	struct h_node nodes[2];
	char up0[160], fail0[160], down0[160], up1[160];
	ck_assert_msg(h_nodes_up(nodes, 2, 10000) == 0, "%s", h_error());
	snprintf(up0, sizeof(up0), "lb_backend_up{backend=\"%s\"}", nodes[0].name);
	snprintf(fail0, sizeof(fail0), "lb_backend_health_check_failures{backend=\"%s\"}", nodes[0].name);
	snprintf(down0, sizeof(down0), "lb_backend_down_transitions_total{backend=\"%s\"}", nodes[0].name);
	snprintf(up1, sizeof(up1), "lb_backend_up{backend=\"%s\"}", nodes[1].name);
	ck_assert_msg(H_WAIT(5000, metric(up0) == 1 && metric(up1) == 1), "nodes not up in /metrics");
	ck_assert_double_eq(metric(fail0), 0);

	/* Kill node 0 at once, however few of its checks have passed (the controller starts them
	 * from health up: CHECK_FALL failures take it down, each counted); it keeps heartbeating
	 * (its job is alive, the process is not). */
	h_proc_stop(nodes[0].proc, 5000);
	ck_assert_msg(H_WAIT(10000, metric(up0) == 0), "%s stays %g", up0, metric(up0));
	char *text = scrape();
	double fails = sample(text, fail0);
	printf("after the kill: %s %g, %s %g\n", fail0, fails, down0, sample(text, down0));
	ck_assert_double_eq(fails, CHECK_FALL); /* counted while going down, then no more */
	ck_assert_double_eq(fails, h_stat_num("mcs", nodes[0].name, "chkfail"));
	ck_assert_double_eq(sample(text, down0), 1);
	ck_assert_double_eq(sample(text, up1), 1);
	ck_assert_double_eq(sample(text, "lb_backends_healthy"), 1);
	free(text);

	/* Reload HAProxy: dynamic servers are dropped, the controller adds them again, their
	 * counters restart at 0 in HAProxy. The exported counters must not go down. */
	double total = metric("lb_total_connections");
	double uptime = metric("lb_haproxy_uptime_seconds");
	/* A new worker must look new by its start time too: from now the old one's uptime is past it. */
	ck_assert_msg(H_WAIT(5000, metric("lb_haproxy_uptime_seconds") >= uptime + 1), "uptime stays below %g",
		      uptime + 1);
	ck_assert_int_eq(kill(H.haproxy->pid, SIGUSR2), 0);
	ck_assert_msg(H_WAIT(15000, metric("lb_haproxy_uptime_seconds") < uptime + 1 && metric(up1) == 1),
		      "no new worker with node 1 up in /metrics");
	ck_assert_msg(H_WAIT(10000, !isnan(metric(fail0))), "node 0 not back after the reload");
	for (int i = 0; i < 20; i++) {
		text = scrape();
		double f = sample(text, fail0), t = sample(text, "lb_total_connections");
		ck_assert_msg(isnan(f) || f >= fails, "%s went down: %g after %g", fail0, f, fails);
		ck_assert_msg(t >= total, "lb_total_connections went down: %g after %g", t, total);
		free(text);
		h_sleep_ms(100);
	}
	long raw = h_stat_num("mcs", nodes[0].name, "chkfail");
	printf("after the reload: HAProxy's chkfail %ld, exported %g\n", raw, metric(fail0));
	ck_assert_msg(raw < fails, "HAProxy's chkfail did not restart (%ld): the reload was not seen", raw);
	ck_assert_double_ge(metric(fail0), fails);
}
END_TEST

START_TEST(test_haproxy_restart)
{
	/* HAProxy stopped and started anew between two scrapes: the bridge's connection is dead,
	 * the first scrape after reconnects by itself, and the counters keep their values. */
	struct h_node node;
	struct h_client *c[2];
	ck_assert_msg(h_nodes_up(&node, 1, 10000) == 0, "%s", h_error());
	for (int i = 0; i < 2; i++)
		open_on(&node, 1, &c[i]);
	ck_assert_msg(H_WAIT(5000, metric("lb_total_connections") >= 2), "connections not counted");
	double total = metric("lb_total_connections");
	for (int i = 0; i < 2; i++)
		h_client_close(c[i]);
	h_proc_stop(H.haproxy, 5000);
	H.haproxy = h_haproxy_start("haproxy-again", H.run_dir, H.mcs_port);
	ck_assert_msg(H.haproxy != NULL, "%s", h_error());
	char *text = scrape();
	ck_assert_msg(sample(text, "lb_haproxy_up") == 1, "first scrape after the restart: lb_haproxy_up %g",
		      sample(text, "lb_haproxy_up"));
	ck_assert_double_eq(sample(text, "lb_total_connections"), total); /* HAProxy's own stot is 0 */
	free(text);
	ck_assert_int_eq(h_stat_num("mcs_tls", "FRONTEND", "stot"), 0);
	/* One more client: counted on top. */
	char series[160];
	snprintf(series, sizeof(series), "lb_backend_up{backend=\"%s\"}", node.name);
	ck_assert_msg(H_WAIT(10000, metric(series) == 1), "node not back after the restart");
	open_on(&node, 1, &c[0]);
	ck_assert_msg(H_WAIT(5000, metric("lb_total_connections") == total + 1), "lb_total_connections %g, want %g",
		      metric("lb_total_connections"), total + 1);
	h_client_close(c[0]);
}
END_TEST

/* ---------------------------------------------------------------- HTTP side */

START_TEST(test_http_answers)
{
	char *text = NULL, ctype[128] = "";
	ck_assert_int_eq(http("GET", "/metrics", NULL, &text, ctype, sizeof(ctype)), 200);
	ck_assert_str_eq(ctype, "text/plain; version=0.0.4; charset=utf-8");
	free(text);
	ck_assert_int_eq(http("GET", "/metrics?x=1", NULL, NULL, NULL, 0), 200);
	ck_assert_int_eq(http("HEAD", "/metrics", NULL, NULL, NULL, 0), 200);
	ck_assert_int_eq(http("GET", "/", NULL, NULL, NULL, 0), 404);
	ck_assert_int_eq(http("GET", "/metricsx", NULL, NULL, NULL, 0), 404);
	ck_assert_int_eq(http("GET", "/../metrics", NULL, NULL, NULL, 0), 404);
	ck_assert_int_eq(http("POST", "/metrics", NULL, NULL, NULL, 0), 405);
	ck_assert_int_eq(http("DELETE", "/metrics", NULL, NULL, NULL, 0), 405);
	ck_assert_int_eq(http("PUT", "/other", NULL, NULL, NULL, 0), 405);
	/* 20 KB of headers: refused (431) or cut, never served. */
	char *big = malloc(20010);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', 20000);
	big[20007] = '\0';
	long status = http("GET", "/metrics", big, NULL, NULL, 0);
	free(big);
	ck_assert_msg(status == 431 || status == 413 || status == 0, "an oversized request got %ld", status);
	ck_assert_int_eq(http("GET", "/metrics", NULL, NULL, NULL, 0), 200);
}
END_TEST

/* Connects to the bridge over plain TCP. */
static int tcp_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)bridge_port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

START_TEST(test_slow_request_cut)
{
	/* Half a request, then silence: closed after MCS_METRICS_HTTP_TIMEOUT_S (2 s), and other
	 * scrapes are served meanwhile. */
	int fd = tcp_connect();
	const char *part = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	ck_assert_int_eq(write(fd, part, strlen(part)), (ssize_t)strlen(part));
	uint64_t start = h_now_ms();
	ck_assert_int_eq(http("GET", "/metrics", NULL, NULL, NULL, 0), 200);
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[256];
	ssize_t got = read(fd, buf, sizeof(buf));
	uint64_t took = h_now_ms() - start;
	printf("slow request: closed after %llu ms (read %zd)\n", (unsigned long long)took, got);
	ck_assert_int_le(got, 0);
	ck_assert_uint_ge(took, 1500);
	ck_assert_uint_le(took, 6000);
	close(fd);
}
END_TEST

START_TEST(test_promtool_accepts)
{
	struct h_node node;
	ck_assert_msg(h_nodes_up(&node, 1, 10000) == 0, "%s", h_error());
	char *text = scrape();
	char path[H_PATH_MAX + 32], cmd[H_PATH_MAX * 2], out[4096];
	snprintf(path, sizeof(path), "%s/metrics.txt", H.dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(text);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' 2>&1", path);
	const char *argv[] = {"sh", "-c", cmd, NULL};
	int rc = h_run(argv, out, sizeof(out), 20000);
	printf("promtool check metrics (exit %d):\n%s", rc, out);
	/* The seed's two counter names lack "_total": promtool's lint says so (exit 3). Nothing
	 * else may be reported. */
	ck_assert_msg(rc == 0 || rc == 3, "promtool check metrics failed (%d): %s", rc, out);
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		int ok =
			strcmp(line,
			       "lb_backend_health_check_failures counter metrics should have \"_total\" suffix") == 0 ||
			strcmp(line, "lb_total_connections counter metrics should have \"_total\" suffix") == 0;
		ck_assert_msg(ok, "promtool: %s", line);
	}
}
END_TEST

/* ---------------------------------------------------------------- a real Prometheus */

START_TEST(test_prometheus_scrapes)
{
	struct h_node node;
	ck_assert_msg(h_nodes_up(&node, 1, 10000) == 0, "%s", h_error());
	char cfg[H_PATH_MAX + 32], data[H_PATH_MAX + 32], listen[64], flag_cfg[H_PATH_MAX + 48],
		flag_data[H_PATH_MAX + 48];
	int port = h_free_port();
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", H.dir);
	snprintf(data, sizeof(data), "%s/prometheus-data", H.dir);
	FILE *f = fopen(cfg, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
		"rule_files:\n  - '%s'\n"
		"scrape_configs:\n  - job_name: mcs-lb\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
		BRIDGE_ALERTS, bridge_port);
	fclose(f);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	snprintf(flag_cfg, sizeof(flag_cfg), "--config.file=%s", cfg);
	snprintf(flag_data, sizeof(flag_data), "--storage.tsdb.path=%s", data);
	const char *argv[] = {"prometheus", flag_cfg, flag_data, listen, NULL};
	struct h_proc *prom = h_spawn("prometheus", argv, NULL);
	ck_assert_msg(prom != NULL, "%s", h_error());

	/* Prometheus's HTTP API, through the same helper (another port). */
	int saved = bridge_port;
	bridge_port = port;
	ck_assert_msg(H_WAIT(30000, http("GET", "/-/ready", NULL, NULL, NULL, 0) == 200), "prometheus not ready (%s)",
		      prom->log);
	char query[256], *text = NULL;
	snprintf(query, sizeof(query), "/api/v1/query?query=lb_backend_up%%7Bbackend%%3D%%22%s%%22%%7D", node.name);
	int found = H_WAIT(30000, (free(text), text = NULL, http("GET", query, NULL, &text, NULL, 0) == 200) &&
					  strstr(text, "\"result\":[{") != NULL);
	printf("prometheus query: %s\n", text ? text : "(none)");
	ck_assert_msg(found, "prometheus never returned lb_backend_up of %s", node.name);
	ck_assert_ptr_nonnull(strstr(text, "\"job\":\"mcs-lb\""));
	ck_assert_ptr_nonnull(strstr(text, "\"1\"]"));
	free(text);
	text = NULL;
	ck_assert_int_eq(http("GET", "/api/v1/query?query=lb_active_connections", NULL, &text, NULL, 0), 200);
	ck_assert_ptr_nonnull(strstr(text, "\"__name__\":\"lb_active_connections\""));
	free(text);
	text = NULL;
	/* The shipped rules load in a real Prometheus. */
	ck_assert_int_eq(http("GET", "/api/v1/rules", NULL, &text, NULL, 0), 200);
	ck_assert_ptr_nonnull(strstr(text, "\"name\":\"LbBackendDown\""));
	ck_assert_ptr_nonnull(strstr(text, "\"name\":\"LbControllerNotSyncing\""));
	free(text);
	bridge_port = saved;
	h_proc_stop(prom, 10000);
}
END_TEST

/* ---------------------------------------------------------------- outages */

START_TEST(test_controller_and_haproxy_down)
{
	struct h_node node;
	char series[160];
	ck_assert_msg(h_nodes_up(&node, 1, 10000) == 0, "%s", h_error());
	snprintf(series, sizeof(series), "lb_backend_up{backend=\"%s\"}", node.name);
	ck_assert_msg(H_WAIT(5000, metric("lb_controller_up") == 1 && metric(series) == 1), "not up at start");

	/* Controller stopped: its status file goes stale (3 s here). */
	h_proc_stop(H.controller, 5000);
	ck_assert_msg(H_WAIT(8000, metric("lb_controller_up") == 0), "lb_controller_up stays 1");
	char *text = scrape();
	ck_assert(isnan(sample(text, "lb_controller_last_sync_timestamp_seconds")));
	ck_assert_double_eq(sample(text, series), 1); /* HAProxy keeps serving */
	free(text);

	/* A garbled status file: still answered, still not up. */
	char path[H_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/controller.json", H.run_dir);
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs("{\"time\": \"garbage", f);
	fclose(f);
	ck_assert_double_eq(metric("lb_controller_up"), 0);

	/* HAProxy stopped: lb_haproxy_up 0 and no stale per-node or frontend series. */
	h_proc_stop(H.haproxy, 5000);
	ck_assert_msg(H_WAIT(8000, metric("lb_haproxy_up") == 0), "lb_haproxy_up stays 1");
	text = scrape();
	ck_assert_ptr_null(strstr(text, "lb_backend_"));
	ck_assert_ptr_null(strstr(text, "lb_active_connections"));
	ck_assert_ptr_null(strstr(text, "lb_total_connections"));
	ck_assert_double_eq(sample(text, "lb_controller_up"), 0);
	free(text);
	ck_assert_msg(h_proc_running(bridge), "the bridge died");
}
END_TEST

int main(void)
{
	static const char *const tools[] = {"promtool", "prometheus"};
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tools[i]);
		if (system(cmd) != 0) {
			const char *ci = getenv("CI");
			int in_ci = ci != NULL && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
			fprintf(stderr, "%s is not installed (apt-get install prometheus): %s\n", tools[i],
				in_ci ? "failing (CI=true)" : "skipping");
			return in_ci ? 1 : 77;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("metrics");
	/* One gateway per test case: a case's outage or reload cannot leak into another. */
	TCase *values = tcase_create("values"), *dead = tcase_create("dead_node"), *web = tcase_create("http"),
	      *prom = tcase_create("prometheus"), *outage = tcase_create("outage");
	tcase_add_test(values, test_four_metrics_exact);
	tcase_add_test(values, test_controller_metrics);
	tcase_add_test(dead, test_dead_node_and_reload);
	tcase_add_test(dead, test_haproxy_restart);
	tcase_add_test(web, test_http_answers);
	tcase_add_test(web, test_slow_request_cut);
	tcase_add_test(web, test_promtool_accepts);
	tcase_add_test(prom, test_prometheus_scrapes);
	tcase_add_test(outage, test_controller_and_haproxy_down);
	TCase *all[] = {values, dead, web, prom, outage};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		tcase_add_unchecked_fixture(all[i], setup, teardown);
		tcase_set_timeout(all[i], 120);
		suite_add_tcase(s, all[i]);
	}
	int rc = h_main(s);
	curl_global_cleanup();
	return rc;
}
