/* The agent-check responder (controller/agent.h) in this process, answering a real HAProxy 2.6:
 * each reply's effect on a server added with agent options (weight, drain, maint, down, up),
 * HAProxy keeping the server as it was when the agent is gone or has no answer, and requests
 * that are not ours (garbage, oversized, idle, a flood) closed without an answer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "hap_cmd.h"
#include "hap_conn.h"
#include "harness.h"

#define AGENT_INTER_MS 200
#define SETTLE_MS 3000 /* an answer's effect shows within a few agent intervals */
#define ADMIN_FMAINT 0x01
#define ADMIN_FDRAIN 0x08

/* The agent in a thread of the test process, answering from a small table. */
static struct {
	pthread_mutex_t lock;
	char name[4][H_NAME_MAX];
	char answer[4][AGENT_ANSWER_MAX];
	unsigned asked[4]; /* requests for the server since say() last set its answer */
	struct agent_srv *srv;
	pthread_t thread;
	volatile int stop;
} ag = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void answer_fn(void *ctx, const char *server, char *out, size_t outlen)
{
	(void)ctx;
	pthread_mutex_lock(&ag.lock);
	for (int i = 0; i < 4; i++)
		if (strcmp(ag.name[i], server) == 0) {
			snprintf(out, outlen, "%s", ag.answer[i]);
			ag.asked[i]++;
		}
	pthread_mutex_unlock(&ag.lock);
}

/* Sets what the agent says for server ("" forgets it: no answer). */
static void say(const char *server, const char *answer)
{
	pthread_mutex_lock(&ag.lock);
	int slot = -1;
	for (int i = 0; i < 4 && slot == -1; i++)
		if (strcmp(ag.name[i], server) == 0 || ag.name[i][0] == '\0')
			slot = i;
	ck_assert(slot != -1);
	snprintf(ag.name[slot], sizeof(ag.name[slot]), "%s", server);
	snprintf(ag.answer[slot], sizeof(ag.answer[slot]), "%s", answer);
	ag.asked[slot] = 0;
	pthread_mutex_unlock(&ag.lock);
}

/* How many requests for server the agent got since say() last set its answer. Once this is 1,
 * every answer sent before say() has been read by HAProxy: it checks a server one at a time. */
static unsigned asked(const char *server)
{
	unsigned n = 0;
	pthread_mutex_lock(&ag.lock);
	for (int i = 0; i < 4; i++)
		if (strcmp(ag.name[i], server) == 0)
			n = ag.asked[i];
	pthread_mutex_unlock(&ag.lock);
	return n;
}

static void *agent_loop(void *arg)
{
	(void)arg;
	struct pollfd p[1 + AGENT_MAX_CLIENTS];
	while (!ag.stop) {
		size_t n = agent_srv_pollfds(ag.srv, p, sizeof(p) / sizeof(p[0]));
		int t = agent_srv_timeout_ms(ag.srv);
		poll(p, n, t == -1 || t > 50 ? 50 : t);
		agent_srv_handle(ag.srv);
	}
	return NULL;
}

static void agent_start(void)
{
	char err[256];
	ag.stop = 0;
	ag.srv = agent_srv_new("127.0.0.1", 0, answer_fn, NULL, err, sizeof(err));
	ck_assert_msg(ag.srv != NULL, "%s", err);
	ck_assert_uint_gt(agent_srv_port(ag.srv), 0);
	ck_assert_int_eq(pthread_create(&ag.thread, NULL, agent_loop, NULL), 0);
}

static void agent_stop(void)
{
	ag.stop = 1;
	pthread_join(ag.thread, NULL);
	agent_srv_free(ag.srv);
	ag.srv = NULL;
}

static void setup(void) { h_gateway_start(&(struct h_opts){.without_controller = 1}); }

static void teardown(void) { h_gateway_stop(); }

static void run(struct hap_conn *c, const char *cmd)
{
	char *reply = NULL;
	int rc = hap_conn_cmd(c, cmd, &reply);
	ck_assert_msg(rc == 0, "%s: %s", cmd, hap_conn_errstr(c));
	free(reply);
}

/* Adds server name at node with a health check and our agent, then starts both, ready. */
static void add_with_agent(struct hap_conn *c, const char *name, int node_port, unsigned id)
{
	char cmd[512], send[AGENT_REQ_MAX + 1];
	struct hap_check_opts o = {300, 3, 2, 100, 0};
	ck_assert_int_eq(agent_request_format(send, sizeof(send), name), 0);
	struct hap_agent_opts a = {"127.0.0.1", agent_srv_port(ag.srv), AGENT_INTER_MS, send};
	ck_assert_int_eq(hap_cmd_add_server_agent(cmd, sizeof(cmd), "mcs", name, "127.0.0.1", (unsigned)node_port, id,
						  &o, &a),
			 0);
	run(c, cmd);
	ck_assert_int_eq(hap_cmd_enable_health(cmd, sizeof(cmd), "mcs", name), 0);
	run(c, cmd);
	ck_assert_int_eq(hap_cmd_enable_agent(cmd, sizeof(cmd), "mcs", name), 0);
	run(c, cmd);
	ck_assert_int_eq(hap_cmd_set_state(cmd, sizeof(cmd), "mcs", name, "ready"), 0);
	run(c, cmd);
}

/* The server's row in `show servers state mcs` (stats socket: what operators see). */
static struct h_srv row(const char *name)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	const struct h_srv *s = n > 0 ? h_srv_find(v, n, name) : NULL;
	return s ? *s : (struct h_srv){.op_state = -1, .admin_state = -1, .uweight = -1};
}

/* Compares `show stat`'s status; a want ending in '*' is a prefix ("DRAIN*": "DRAIN" or
 * "DRAIN (agent)", which 2.6 shows for any drain while the agent runs). */
static int status_is(const char *name, const char *want)
{
	char st[64];
	size_t n = strlen(want);
	if (h_stat("mcs", name, "status", st, sizeof(st)) == -1)
		return 0;
	return want[n - 1] == '*' ? strncmp(st, want, n - 1) == 0 : strcmp(st, want) == 0;
}

static int state_is(const char *name, const char *status, int admin, int weight)
{
	struct h_srv r = row(name);
	return r.admin_state == admin && r.uweight == weight && status_is(name, status);
}

static void state_check(int ok, const char *name, const char *status, int admin, int weight, const char *what,
			const char *after)
{
	char st[64] = "?";
	h_stat("mcs", name, "status", st, sizeof(st));
	struct h_srv r = row(name);
	ck_assert_msg(ok, "%s %s: status \"%s\" admin 0x%x uweight %d, want \"%s\" 0x%x %d", what, after, st,
		      r.admin_state, r.uweight, status, admin, weight);
}

/* The server reaches this state within SETTLE_MS. */
static void expect(const char *name, const char *status, int admin, int weight, const char *after)
{
	int ok = H_WAIT(SETTLE_MS, state_is(name, status, admin, weight));
	state_check(ok, name, status, admin, weight, "after", after);
}

/* The server is in this state and stays in it, looked at every H_STEP_MS, for ms. */
static void stays(const char *name, const char *status, int admin, int weight, unsigned ms, const char *after)
{
	int ok = H_HOLDS(ms, state_is(name, status, admin, weight));
	state_check(ok, name, status, admin, weight, "did not stay, after", after);
}

START_TEST(test_answers_take_effect)
{
	struct h_node node;
	ck_assert_msg(h_node_start(&node) == 0, "%s", h_error());
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	agent_start();
	/* HAProxy keeps a new server with an enabled agent DOWN until the agent says "up". */
	say("s1", "");
	add_with_agent(c, "s1", node.port, 101);
	int down = H_HOLDS(5 * AGENT_INTER_MS, status_is("s1", "DOWN (agent)"));
	ck_assert_msg(down, "no agent answer yet, but the server is not DOWN (agent)");
	ck_assert_msg(H_WAIT(SETTLE_MS, asked("s1") >= 1), "HAProxy never asked the agent about s1");
	say("s1", "up 100%\n");
	expect("s1", "UP", 0, 100, "up 100%");
	say("s1", "up 50%\n");
	expect("s1", "UP", 0, 50, "up 50%");
	say("s1", "drain\n");
	expect("s1", "DRAIN (agent)", ADMIN_FDRAIN, 50, "drain");
	/* Sticky: "up 100%" restores the weight, not the admin state; the operator (CLI) does. */
	say("s1", "up 100%\n");
	expect("s1", "DRAIN (agent)", ADMIN_FDRAIN, 100, "up 100% after drain");
	ck_assert_msg(H_WAIT(SETTLE_MS, asked("s1") >= 1), "no agent check of s1"); /* no "drain" still in flight */
	run(c, "set server mcs/s1 state ready");
	expect("s1", "UP", 0, 100, "CLI ready");
	say("s1", "maint\n");
	expect("s1", "MAINT", ADMIN_FMAINT, 100, "maint");
	say("s1", "up 100%\n");
	ck_assert_msg(H_WAIT(SETTLE_MS, asked("s1") >= 1), "no agent check of s1"); /* no "maint" still in flight */
	run(c, "set server mcs/s1 state ready");
	expect("s1", "UP", 0, 100, "CLI ready after maint");
	say("s1", "down #leaving\n"); /* "down#leaving", glued, is an unknown word to 2.6: ignored */
	expect("s1", "DOWN (agent)", 0, 100, "down");
	say("s1", "up 100%\n");
	expect("s1", "UP", 0, 100, "up after down");
	struct agent_stats st;
	agent_srv_stats(ag.srv, &st);
	printf("agent: %llu answered, %llu unanswered, %llu bad, %llu timeouts\n", st.answered, st.unanswered, st.bad,
	       st.timeouts);
	ck_assert_uint_ge(st.answered, 8); /* at least one per answer waited for above */
	ck_assert_uint_eq(st.bad, 0);
	agent_stop();
	hap_conn_free(c);
}
END_TEST

/* No answer (unknown server, or an answer the module refuses to send) and no agent at all:
 * HAProxy records the failed agent check and changes nothing. */
START_TEST(test_silence_keeps_state)
{
	struct h_node node;
	char last[128];
	ck_assert_msg(h_node_start(&node) == 0, "%s", h_error());
	struct hap_conn *c = hap_conn_new(H.admin_sock, 3000);
	agent_start();
	say("s2", "up 50%\n");
	add_with_agent(c, "s2", node.port, 102);
	expect("s2", "UP", 0, 50, "up 50%");
	say("s2", "");
	ck_assert_msg(H_WAIT(SETTLE_MS, h_stat("mcs", "s2", "last_agt", last, sizeof(last)) == 0 &&
						strstr(last, "empty response")),
		      "HAProxy did not see the empty answer: \"%s\"", last);
	stays("s2", "UP", 0, 50, 5 * AGENT_INTER_MS, "no answer for an unknown server");
	say("s2", "ready\n"); /* never sent: it would clear an operator's drain */
	run(c, "set server mcs/s2 state drain");
	expect("s2", "DRAIN*", ADMIN_FDRAIN, 50, "the operator's drain");
	ck_assert_msg(H_WAIT(SETTLE_MS, asked("s2") >= 2), "HAProxy did not ask the agent about s2 again");
	stays("s2", "DRAIN*", ADMIN_FDRAIN, 50, 5 * AGENT_INTER_MS, "a refused \"ready\"");
	run(c, "set server mcs/s2 state ready");
	say("s2", "up 50%\n");
	expect("s2", "UP", 0, 50, "up 50% again");

	agent_stop(); /* the controller is down: connection refused from now on */
	ck_assert_msg(H_WAIT(SETTLE_MS,
			     h_stat("mcs", "s2", "last_agt", last, sizeof(last)) == 0 && strstr(last, "refused")),
		      "HAProxy did not try the stopped agent: \"%s\"", last);
	stays("s2", "UP", 0, 50, 5 * AGENT_INTER_MS, "the agent stopped");
	run(c, "set server mcs/s2 state drain");
	expect("s2", "DRAIN*", ADMIN_FDRAIN, 50, "a drain while the agent is away");
	stays("s2", "DRAIN*", ADMIN_FDRAIN, 50, 5 * AGENT_INTER_MS, "a drain while the agent is away");
	printf("agent stopped: the server stayed UP at weight 50, then drained by the operator\n");
	hap_conn_free(c);
}
END_TEST

static int tcp_connect(unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert(fd != -1);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect to the agent");
	return fd;
}

/* Sends req and reads until the agent closes: the answer, "" for none; "TIMEOUT" if still open. */
static void exchange(unsigned port, const char *req, size_t len, char *out, size_t outlen, unsigned wait_ms)
{
	int fd = tcp_connect(port);
	if (len > 0)
		ck_assert_int_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	size_t got = 0;
	uint64_t end = h_now_ms() + wait_ms;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int left = (int)(end - h_now_ms());
		if (left <= 0 || poll(&p, 1, left) != 1) {
			snprintf(out, outlen, "TIMEOUT");
			break;
		}
		ssize_t n = recv(fd, out + got, outlen - got - 1, 0);
		if (n <= 0) {
			out[got] = '\0';
			break;
		}
		got += (size_t)n;
	}
	close(fd);
}

START_TEST(test_untrusted_requests)
{
	char out[256], big[400];
	struct agent_stats st;
	agent_start();
	unsigned port = agent_srv_port(ag.srv);
	say("10.0.0.5:7000", "up 100%\n");
	say("greedy", "ready\n");
	exchange(port, "10.0.0.5:7000/", 14, out, sizeof(out), 1000);
	ck_assert_str_eq(out, "up 100%\n");
	static const char *const bad[] = {"10.0.0.5:7000/extra",    "a b/",       "a;b/",   "-x/",
					  "GET / HTTP/1.0\r\n\r\n", "unknown:1/", "greedy/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		exchange(port, bad[i], strlen(bad[i]), out, sizeof(out), 1000);
		ck_assert_msg(strcmp(out, "") == 0, "\"%s\" got \"%s\", want no answer", bad[i], out);
	}
	memset(big, 'a', sizeof(big));
	exchange(port, big, sizeof(big), out, sizeof(out), 1000);
	ck_assert_msg(strcmp(out, "") == 0, "an oversized request got \"%s\"", out);
	/* Idle: closed after the read deadline, not held forever. */
	uint64_t t0 = h_now_ms();
	exchange(port, "", 0, out, sizeof(out), AGENT_READ_TIMEOUT_MS + 2000);
	ck_assert_msg(strcmp(out, "") == 0, "an idle connection: \"%s\"", out);
	ck_assert_uint_ge(h_now_ms() - t0, AGENT_READ_TIMEOUT_MS - 100);
	/* A request in pieces is fine. */
	int fd = tcp_connect(port);
	ck_assert_int_eq(send(fd, "10.0.0.5:", 9, MSG_NOSIGNAL), 9);
	h_sleep_ms(100); /* a real gap: the agent must read the first piece on its own */
	ck_assert_int_eq(send(fd, "7000/", 5, MSG_NOSIGNAL), 5);
	struct pollfd p = {fd, POLLIN, 0};
	ck_assert_int_eq(poll(&p, 1, 1000), 1);
	ssize_t n = recv(fd, out, sizeof(out) - 1, 0);
	ck_assert_int_eq(n, 8);
	close(fd);
	/* A flood of idle connections: bounded, and a real request still gets through. */
	int flood[AGENT_MAX_CLIENTS + 50];
	for (size_t i = 0; i < sizeof(flood) / sizeof(flood[0]); i++)
		flood[i] = tcp_connect(port);
	/* Every flood connection accepted: the 50 beyond the limit evicted as many older ones. */
	ck_assert_msg(H_WAIT(AGENT_READ_TIMEOUT_MS, (agent_srv_stats(ag.srv, &st), st.evicted >= 50)),
		      "the flood did not evict the oldest: %llu evicted", st.evicted);
	struct pollfd fds[2 * AGENT_MAX_CLIENTS];
	ck_assert_uint_le(agent_srv_pollfds(ag.srv, fds, sizeof(fds) / sizeof(fds[0])), 1 + AGENT_MAX_CLIENTS);
	exchange(port, "10.0.0.5:7000/", 14, out, sizeof(out), 1000);
	ck_assert_str_eq(out, "up 100%\n");
	for (size_t i = 0; i < sizeof(flood) / sizeof(flood[0]); i++)
		close(flood[i]);
	agent_srv_stats(ag.srv, &st);
	printf("agent: %llu answered, %llu unanswered, %llu bad, %llu timeouts, %llu evicted\n", st.answered,
	       st.unanswered, st.bad, st.timeouts, st.evicted);
	ck_assert_uint_eq(st.answered, 3);
	ck_assert_uint_eq(st.unanswered, 2); /* unknown:1 and the refused "ready" */
	ck_assert_uint_ge(st.evicted, 50);
	agent_stop();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("agent");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_answers_take_effect);
	tcase_add_test(tc, test_silence_keeps_state);
	tcase_add_test(tc, test_untrusted_requests);
	suite_add_tcase(s, tc);
	return h_main(s);
}
