/* Integration-test harness, the gateway: mcs-lb-controller with the test settings, and the
 * whole of Redis, a dev certificate, haproxy and the controller started for a suite. */
#include "harness_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct h_proc *h_controller_start(const struct h_opts *o)
{
	char url[64], run[H_PATH_MAX + 16], tls[H_PATH_MAX + 16], ttl[48], poll_ms[48], inter[48];
	snprintf(tls, sizeof(tls), "MCS_TLS_DIR=%s", H.tls_dir);
	snprintf(url, sizeof(url), "REDIS_URL=redis://127.0.0.1:%d", H.redis_port);
	snprintf(run, sizeof(run), "MCS_RUN_DIR=%s", H.run_dir);
	snprintf(ttl, sizeof(ttl), "MCS_NODE_TTL_MS=%u", o->ttl_ms ? o->ttl_ms : 5000);
	snprintf(poll_ms, sizeof(poll_ms), "MCS_POLL_MS=%u", o->poll_ms ? o->poll_ms : 1000);
	snprintf(inter, sizeof(inter), "MCS_CHECK_INTER_MS=%u", o->check_inter_ms ? o->check_inter_ms : 500);
	const char *env[32] = {url, run, "MCS_NODE_KEY=" H_NODE_KEY, ttl, poll_ms, inter, "MCS_CHECK_FALL=3",
			       "MCS_CHECK_RISE=2", "MCS_DRAIN_TIMEOUT_S=300", "MCS_LOG_LEVEL=debug", tls,
			       /* Equal weights from the start: the suites count clients per node. The
				* warm-up ramp has its own suite (live). */
			       "MCS_WARMUP_S=0"};
	size_t n_env = 12;
	/* A suite's own settings come last: the environment's later entry of a name wins. */
	for (size_t i = 0; o->controller_env != NULL && o->controller_env[i] != NULL && n_env + 1 < 32; i++)
		env[n_env++] = o->controller_env[i];
	const char *argv[] = {H_CONTROLLER_BIN, NULL};
	struct h_proc *p = h_spawn("controller", argv, env);
	/* No protocol to ask: tests wait for its effects in HAProxy. Catch an immediate exit. */
	if (p != NULL && H_WAIT(300, !h_proc_running(p))) {
		h_fail("controller exited at start-up (status %d, see %s)", p->status, p->log);
		return NULL;
	}
	return p;
}

void h_gateway_start(const struct h_opts *opts)
{
	char cert[H_PATH_MAX + 16], key[H_PATH_MAX + 16], pem[H_PATH_MAX + 16], msg[1024];
	H.opts = *opts;
	snprintf(cert, sizeof(cert), "%s/server.cert", H.tls_dir);
	snprintf(key, sizeof(key), "%s/server.key", H.tls_dir);
	snprintf(pem, sizeof(pem), "%s/server.pem", H.run_dir);
	if (h_redis_start() == -1)
		ck_abort_msg("%s", h_error());
	if (h_make_cert(cert, key, H_KEY_EC_PKCS8) == -1)
		ck_abort_msg("%s", h_error());
	int rc = h_tls_check(cert, key, pem, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "mcs-lb-tls-check refused the dev certificate (%d): %s%s", rc, msg,
		      rc == -1 ? h_error() : "");
	H.mcs_port = h_free_port();
	/* A new gateway: no servers file or drain list left by the previous test's controller. */
	static const char *const leftovers[] = {"servers.cfg", "controller.json"};
	for (size_t i = 0; i < sizeof(leftovers) / sizeof(leftovers[0]); i++) {
		char path[H_PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/%s", H.run_dir, leftovers[i]);
		if (unlink(path) == -1 && errno != ENOENT)
			ck_abort_msg("unlink %s: %s", path, strerror(errno));
	}
	if ((H.haproxy = h_haproxy_start("haproxy", H.run_dir, H.mcs_port)) == NULL)
		ck_abort_msg("%s", h_error());
	if (!opts->without_controller && (H.controller = h_controller_start(opts)) == NULL)
		ck_abort_msg("%s", h_error());
}

void h_gateway_stop(void)
{
	h_proc_stop(H.controller, H_STOP_TIMEOUT_MS);
	h_stop_owned();
}
