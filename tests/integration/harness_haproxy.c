/* Integration-test harness, haproxy: the project's haproxy.cfg run as docker/entry/haproxy.sh
 * runs it, ready once `show info` answers and its master catches SIGTERM. */
#include "harness_private.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int h_hap_ready(const char *admin_sock)
{
	char *r = h_hap_cmd(admin_sock, "show info");
	int ok = r != NULL && strstr(r, "Pid: ") != NULL;
	free(r);
	return ok;
}

/* 1 once process pid has a handler for sig (SigCgt in /proc): the master of `haproxy -W` takes
 * a moment after its worker answers before SIGTERM stops it cleanly rather than killing it. */
static int h_catches(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "SigCgt: %llx", &mask) == 1)
			break;
	fclose(f);
	return (mask >> (sig - 1)) & 1;
}

/* Writes text to path (replacing it). 0, or -1 (h_error). */
static int h_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int bad = f == NULL || fputs(text, f) == EOF;
	if ((f != NULL && fclose(f) != 0) || bad) {
		h_fail("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

const char *h_haproxy_cfg(void) { return H_HAPROXY_CFG; }

struct h_proc *h_haproxy_start(const char *name, const char *run_dir, int port)
{
	char e_run[H_PATH_MAX + 16], e_port[32], sock[H_PATH_MAX + 16], servers[H_PATH_MAX + 16];
	char e_servers[H_PATH_MAX + 40], state[H_PATH_MAX + 16], e_dir[H_PATH_MAX + 16], e_bind[H_NAME_MAX + 16];
	snprintf(e_run, sizeof(e_run), "MCS_RUN_DIR=%s", run_dir);
	/* haproxy/bwlim.lua beside haproxy.cfg, as docker/entry/haproxy.sh exports it. */
	snprintf(e_dir, sizeof(e_dir), "MCS_HAPROXY_DIR=%.*s", (int)(strrchr(H_HAPROXY_CFG, '/') - H_HAPROXY_CFG),
		 H_HAPROXY_CFG);
	snprintf(e_bind, sizeof(e_bind), "MCS_BIND_ADDR=%s", H.opts.bind_addr ? H.opts.bind_addr : "127.0.0.1");
	snprintf(e_port, sizeof(e_port), "MCS_PORT=%d", port);
	snprintf(sock, sizeof(sock), "%s/admin.sock", run_dir);
	/* As docker/entry/haproxy.sh does: the controller's servers file as a second -f. */
	snprintf(servers, sizeof(servers), "%s/servers.cfg", run_dir);
	snprintf(e_servers, sizeof(e_servers), "MCS_SERVERS_FILE=%s", servers);
	snprintf(state, sizeof(state), "%s/servers.state", run_dir);
	if ((access(servers, F_OK) == -1 && h_write_file(servers, "backend mcs\n") == -1) ||
	    h_write_file(state, "1\n") == -1) /* a cold start: no server state carried over */
		return NULL;
	const char *env[24] = {e_run,
			       e_port,
			       e_servers,
			       e_dir,
			       e_bind,
			       "MCS_MAXCONN=8000",
			       "MCS_CHECK_TIMEOUT_MS=500",
			       "MCS_IDLE_TIMEOUT_S=21600",
			       NULL};
	/* The suite's own settings after the defaults (later wins), as many as fit. */
	for (size_t i = 8, j = 0; H.opts.haproxy_env != NULL && H.opts.haproxy_env[j] != NULL && i + 1 < 24; i++, j++)
		env[i] = H.opts.haproxy_env[j];
	/* The master CLI as docker/entry/haproxy.sh opens it (mcs-lb-status reads the reload count). */
	char master[H_PATH_MAX + 32];
	snprintf(master, sizeof(master), "%s/master.sock,mode,600", run_dir);
	const char *argv[] = {"haproxy", "-W", "-db", "-S", master, "-f", H_HAPROXY_CFG, "-f", servers, NULL};
	struct h_proc *p = h_spawn(name, argv, env);
	if (p == NULL)
		return NULL;
	if (!H_WAIT(H_READY_TIMEOUT_MS, (h_hap_ready(sock) && h_catches(p->pid, SIGTERM)) || !h_proc_running(p)) ||
	    !h_proc_running(p)) {
		h_fail("haproxy did not answer `show info` on %s (see %s)", sock, p->log);
		h_proc_stop(p, H_STOP_TIMEOUT_MS);
		return NULL;
	}
	return p;
}
