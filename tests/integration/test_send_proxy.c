/* MCS_SEND_PROXY=v2: the controller adds every node with `send-proxy-v2 check-send-proxy`, so
 * demo nodes run with --proxy-v2 greet IPv4 (127.0.0.1) and IPv6 (::1, dual stack) clients with
 * their own address and source port, stay UP on health checks that carry a LOCAL header, and
 * still hear from the controller's agent (which never gets a header). A reload re-reads the
 * servers file: the servers it restores send the header too. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define N_NODES 2
#define CHECK_INTER_MS 200

static struct h_node nodes[N_NODES];

/* The gateway and the nodes serve the whole suite: processes outlive check's fork of each test. */
static void setup(void)
{
	static const char *const env[] = {"MCS_SEND_PROXY=v2", "MCS_WARMUP_S=2", NULL};
	h_gateway_start(&(struct h_opts){.bind_addr = "", .check_inter_ms = CHECK_INTER_MS, .controller_env = env});
	for (int i = 0; i < N_NODES; i++)
		ck_assert_msg(h_node_start_with(&nodes[i], "--proxy-v2") == 0, "%s", h_error());
}

/* Each test heartbeats the nodes from its own process (a heartbeat thread is a test's, not the
 * suite's: see h_hb_add) and starts once both are UP; one test's beats follow the last one's
 * well within the TTL, so the nodes stay in service from test to test. */
static void beat(void)
{
	for (int i = 0; i < N_NODES; i++)
		ck_assert_msg(h_hb_add(nodes[i].name) == 0, "%s", h_error());
	for (int i = 0; i < N_NODES; i++)
		ck_assert_msg(H_WAIT(10000, h_srv_ready(nodes[i].name)), "%s is not UP with PROXY v2 checks",
			      nodes[i].name);
}

static void teardown(void) { h_gateway_stop(); }

/* "ip:port" or "[ip]:port" of the client's own end of the connection. */
static void local_name(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
		snprintf(out, len, "[%s]:%u", inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip)),
			 ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
		snprintf(out, len, "%s:%u", inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip)), ntohs(s4->sin_port));
	}
}

/* A client from addr is greeted by a node with its own address and port, then echoed. */
static void greeted_as_itself(const char *addr)
{
	char err[512], me[H_NAME_MAX];
	struct h_client *c = h_client_connect_addr(addr, H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "TLS client on %s: %s", addr, err);
	local_name(c->fd, me, sizeof(me));
	ck_assert_msg(h_node_index(nodes, N_NODES, c->node) != -1, "greeted by \"%s\", not a node", c->node);
	ck_assert_msg(strcmp(c->seen_as, me) == 0, "client %s: the node saw \"%s\"", me, c->seen_as);
	ck_assert_msg(h_client_echo(c, "after the header\n", 3000, err, sizeof(err)) == 0, "%s", err);
	printf("client %s: \"HELLO %s for %s\"\n", me, c->node, c->seen_as);
	h_client_close(c);
}

START_TEST(test_client_addresses)
{
	greeted_as_itself("127.0.0.1");
	greeted_as_itself("::1");
}
END_TEST

static char last_check[H_NAME_MAX + 80]; /* why all_checked_up last said no */

/* 1 when every node is a ready server whose last check passed ("* L4OK": one is running now). */
static int all_checked_up(void)
{
	char st[64] = "";
	for (int i = 0; i < N_NODES; i++) {
		int ready = h_srv_ready(nodes[i].name);
		int got = ready ? h_stat("mcs", nodes[i].name, "check_status", st, sizeof(st)) : -1;
		if (got == -1 || strcmp(st + (strncmp(st, "* ", 2) == 0 ? 2 : 0), "L4OK") != 0) {
			snprintf(last_check, sizeof(last_check), "%s: ready %d, check_status \"%s\"", nodes[i].name,
				 ready, st);
			return 0;
		}
	}
	return 1;
}

/* Checks carry a LOCAL header the node accepts: they pass, and the nodes log no refusal. The
 * agent's answers (warm-up weights) reach HAProxy: the nodes end at their full weight. */
START_TEST(test_checks_and_agent)
{
	ck_assert_msg(H_WAIT(5000, all_checked_up()), "a node did not pass its first PROXY v2 health check (%s)",
		      last_check);
	ck_assert_msg(H_HOLDS(10 * CHECK_INTER_MS, all_checked_up()), "a node failed a PROXY v2 health check (%s)",
		      last_check);
	for (int i = 0; i < N_NODES; i++) {
		ck_assert_msg(h_stat_num("mcs", nodes[i].name, "chkfail") == 0, "%s: failed checks", nodes[i].name);
		ck_assert_msg(!h_log_has(nodes[i].proc, "closed", NULL, NULL), "%s refused a connection, see %s",
			      nodes[i].name, nodes[i].proc->log);
		ck_assert_msg(H_WAIT(10000, h_stat_num("mcs", nodes[i].name, "weight") == 100),
			      "%s: weight %ld, the agent's warm-up did not finish", nodes[i].name,
			      h_stat_num("mcs", nodes[i].name, "weight"));
	}
	ck_assert_msg(!h_log_has(H.controller, "agent", "refus", NULL), "the agent refused a request: %s",
		      H.controller->log);
	/* The weight came back through the agent's answers; the controller then stops the agent
	 * (nothing left to say), and HAProxy may show its status as "" from then on. */
	char agent[64] = "";
	(void)h_stat("mcs", nodes[0].name, "agent_status", agent, sizeof(agent));
	ck_assert_msg(strcmp(agent, "L7OK") == 0 || agent[0] == '\0', "agent_status of %s: \"%s\"", nodes[0].name,
		      agent);
	printf("%d nodes UP on PROXY v2 checks every %d ms, warm-up through the agent done\n", N_NODES, CHECK_INTER_MS);
}
END_TEST

/* Reads exactly len bytes from fd before the deadline. 0, or -1. */
static int read_exact(int fd, unsigned char *buf, size_t len, uint64_t end)
{
	size_t got = 0;
	while (got < len && h_now_ms() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 50) == 1) {
			ssize_t r = read(fd, buf + got, len - got);
			if (r <= 0)
				return -1;
			got += (size_t)r;
		}
	}
	return got == len ? 0 : -1;
}

/* What a health check really sends: a node that is a plain listener of this test receives the
 * 16 bytes of a PROXY v2 LOCAL header first (signature, version 2 command LOCAL, no body). */
START_TEST(test_check_bytes)
{
	static const unsigned char want[16] = "\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00";
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(lfd != -1 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 8) == 0 &&
			      getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0,
		      "listener");
	char name[H_NAME_MAX];
	snprintf(name, sizeof(name), "127.0.0.1:%u", ntohs(sa.sin_port));
	ck_assert_msg(h_hb_add(name) == 0, "%s", h_error());
	uint64_t end = h_now_ms() + 10000;
	struct pollfd p = {lfd, POLLIN, 0};
	int fd = -1;
	while (fd == -1 && h_now_ms() < end)
		if (poll(&p, 1, 50) == 1)
			fd = accept(lfd, NULL, NULL);
	ck_assert_msg(fd != -1, "no health check reached %s", name);
	unsigned char got[16];
	ck_assert_msg(read_exact(fd, got, sizeof(got), h_now_ms() + 3000) == 0, "the check sent no 16-byte header");
	ck_assert_msg(memcmp(got, want, sizeof(want)) == 0, "the check's first bytes are not a PROXY v2 LOCAL header");
	printf("health check of %s: PROXY v2 LOCAL header, 16 bytes\n", name);
	close(fd);
	close(lfd);
	h_hb_remove(name);
}
END_TEST

/* A connection straight to a --proxy-v2 node that does not start with the header (an HTTP probe,
 * a PROXY v1 line) is closed with one log line naming the peer and the reason, no greeting. */
START_TEST(test_node_refuses_garbage)
{
	static const char *const probes[] = {"GET / HTTP/1.0\r\n\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"};
	for (size_t i = 0; i < 2; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)nodes[0].port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_msg(fd != -1 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s",
			      nodes[0].name);
		ck_assert_int_eq(write(fd, probes[i], strlen(probes[i])), (ssize_t)strlen(probes[i]));
		unsigned char b;
		struct pollfd p = {fd, POLLIN, 0};
		ck_assert_msg(poll(&p, 1, 3000) == 1 && read(fd, &b, 1) <= 0, "probe %zu: not closed, or greeted", i);
		close(fd);
	}
	ck_assert_msg(H_WAIT(3000, h_log_has(nodes[0].proc, ": no PROXY v2 signature; closed", NULL, NULL)),
		      "no log line in %s", nodes[0].proc->log);
	char *log = h_read_file(nodes[0].proc->log, NULL);
	const char *l = log ? strstr(log, "connection from 127.0.0.1:") : NULL;
	printf("%.*s\n", l ? (int)strcspn(l, "\n") : 0, l ? l : "");
	free(log);
}
END_TEST

/* Both files HAProxy loads say so: a reload (SIGUSR2, the new worker reads servers.cfg) keeps
 * the header on every node. */
START_TEST(test_after_reload)
{
	char path[H_PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/servers.cfg", H.run_dir);
	char *text = h_read_file(path, NULL);
	ck_assert_msg(text != NULL, "no %s", path);
	for (int i = 0; i < N_NODES; i++) {
		char *line = strstr(text, nodes[i].name);
		ck_assert_msg(line != NULL && strstr(line, "send-proxy-v2 check-send-proxy") != NULL, "%s:\n%s", path,
			      text);
	}
	free(text);
	char *info = h_hap_cmd(H.admin_sock, "show info");
	ck_assert_ptr_nonnull(info);
	char *pid_line = strstr(info, "\nPid: ");
	ck_assert_ptr_nonnull(pid_line);
	long old_pid = atol(pid_line + 6);
	free(info);
	ck_assert_int_eq(kill(H.haproxy->pid, SIGUSR2), 0);
	ck_assert_msg(H_WAIT(10000, ({
				     char *i2 = h_hap_cmd(H.admin_sock, "show info");
				     char *p = i2 ? strstr(i2, "\nPid: ") : NULL;
				     long pid = p ? atol(p + 6) : old_pid;
				     free(i2);
				     pid != old_pid;
			     })),
		      "no new worker after SIGUSR2");
	for (int i = 0; i < N_NODES; i++)
		ck_assert_msg(H_WAIT(10000, h_srv_ready(nodes[i].name)), "%s not UP after the reload", nodes[i].name);
	greeted_as_itself("127.0.0.1");
	greeted_as_itself("::1");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("send_proxy");
	TCase *tc = tcase_create("send_proxy");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_checked_fixture(tc, beat, NULL);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_client_addresses);
	tcase_add_test(tc, test_checks_and_agent);
	tcase_add_test(tc, test_after_reload);
	tcase_add_test(tc, test_check_bytes);
	tcase_add_test(tc, test_node_refuses_garbage);
	suite_add_tcase(s, tc);
	return h_main(s);
}
