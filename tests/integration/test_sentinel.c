/* Sentinel failover: the harness's redis-server is the master, one replica, three sentinels
 * (redis-server --sentinel); the controller finds the master through them. Chat nodes heartbeat
 * through Sentinel too (demo nodes that ask the sentinels at each connect). The master
 * is killed: the sentinels promote the replica, the controller follows; meanwhile no node is
 * drained or removed and every client is served, and a node registering on the new master is
 * routed. Prints the time from the kill to the controller reading the new master. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SENTINELS 3
#define TTL_MS 10000

static int replica_port, sentinel_port[SENTINELS];
static struct h_proc *sentinel_proc[SENTINELS];
static char env_sentinels[128];

static void sentinel_start(int i, int master_port)
{
	char path[H_PATH_MAX + 32], port[16];
	snprintf(path, sizeof(path), "%s/sentinel-%d.conf", H.dir, i);
	FILE *f = fopen(path, "w");
	ck_assert(f != NULL);
	fprintf(f,
		"port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster 127.0.0.1 %d 2\n"
		"sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 10000\n",
		sentinel_port[i], H.dir, master_port);
	fclose(f);
	snprintf(port, sizeof(port), "sentinel-%d", i);
	const char *argv[] = {"redis-server", path, "--sentinel", NULL};
	sentinel_proc[i] = h_spawn(port, argv, NULL);
	ck_assert_msg(sentinel_proc[i] != NULL, "%s", h_error());
}

/* ---- demo chat nodes heartbeating through Sentinel ---- */

/* Starts a demo node that asks the sentinels for the master at each (re)connect; REDIS_URL's
 * host is a placeholder no Redis listens on. */
static void node_start(struct h_node *n)
{
	static int seq;
	char listen[64], tag[32];
	memset(n, 0, sizeof(*n));
	n->port = h_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", n->port);
	snprintf(n->name, sizeof(n->name), "127.0.0.1:%d", n->port);
	snprintf(tag, sizeof(tag), "demo-%d", ++seq);
	const char *argv[] = {H_DEMO_NODE_BIN,       "--listen",       listen, "--redis-url",
			      "redis://127.0.0.1:1", "--heartbeat-ms", "300",  NULL};
	const char *env[] = {env_sentinels, "MCS_REDIS_SENTINEL_MASTER=mymaster", NULL};
	n->proc = h_spawn(tag, argv, env);
	ck_assert_msg(n->proc != NULL, "%s", h_error());
}

/* ---- the suite ---- */

static void setup(void)
{
	if (H.redis_port == 0)
		H.redis_port = h_free_port();
	replica_port = h_free_port();
	char rport[16], mport[16];
	snprintf(rport, sizeof(rport), "%d", replica_port);
	snprintf(mport, sizeof(mport), "%d", H.redis_port);
	const char *argv[] = {"redis-server",
			      "--port",
			      rport,
			      "--bind",
			      "127.0.0.1",
			      "--save",
			      "",
			      "--appendonly",
			      "no",
			      "--dir",
			      H.dir,
			      "--replicaof",
			      "127.0.0.1",
			      mport,
			      "--notify-keyspace-events",
			      "Kz",
			      NULL};
	ck_assert_msg(h_spawn("replica", argv, NULL) != NULL, "%s", h_error());
	int len = snprintf(env_sentinels, sizeof(env_sentinels), "MCS_REDIS_SENTINELS=");
	for (int i = 0; i < SENTINELS; i++) {
		sentinel_port[i] = h_free_port();
		len += snprintf(env_sentinels + len, sizeof(env_sentinels) - (size_t)len, "%s127.0.0.1:%d",
				i ? "," : "", sentinel_port[i]);
	}
	for (int i = 0; i < SENTINELS; i++)
		sentinel_start(i, H.redis_port);
	static const char *env[] = {env_sentinels, "MCS_REDIS_SENTINEL_MASTER=mymaster",
				    "REDIS_URL=redis://127.0.0.1:1", "MCS_IO_TIMEOUT_MS=500", NULL};
	static const char *redis_args[] = {"--notify-keyspace-events", "Kz", NULL};
	h_gateway_start(
		&(struct h_opts){.ttl_ms = TTL_MS, .poll_ms = 500, .controller_env = env, .redis_args = redis_args});
}

static void teardown(void) { h_gateway_stop(); }

/* Where this test's controller log starts: the suite's cases share one directory. */
static size_t log_base;

static int log_count(const char *needle)
{
	size_t len = 0;
	char *text = h_read_file(H.controller->log, &len);
	int n = 0;
	for (const char *p = text && len >= log_base ? text + log_base : NULL;
	     p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

/* Other sentinels a sentinel's log has met. */
static int sentinel_peers(const struct h_proc *p)
{
	char *text = h_read_file(p->log, NULL);
	int n = 0;
	for (const char *q = text; q != NULL && (q = strstr(q, "+sentinel sentinel ")) != NULL; q++)
		n++;
	free(text);
	return n;
}

/* Every node of v a ready server, none drained. */
static int all_ready(const struct h_node *v, int n)
{
	for (int i = 0; i < n; i++)
		if (!h_srv_ready(v[i].name))
			return 0;
	return 1;
}

START_TEST(test_failover)
{
	struct h_node v[3];
	node_start(&v[0]);
	node_start(&v[1]);
	ck_assert_msg(H_WAIT(10000, all_ready(v, 2)), "nodes not routed through Sentinel");
	ck_assert_msg(H_WAIT(10000, log_count("keyspace notifications of") > 0), "not subscribed through Sentinel");
	/* The sentinels must know the replica before the master dies, or there is no one to promote. */
	ck_assert_msg(H_WAIT(15000, h_log_has(H.redis, "Synchronization with replica", "succeeded", NULL)),
		      "no replica");
	char line[64];
	snprintf(line, sizeof(line), "+slave slave 127.0.0.1:%d", replica_port);
	for (int i = 0; i < SENTINELS; i++) /* INFO every 10 s finds the replica; hellos every 2 s the others */
		ck_assert_msg(H_WAIT(25000, h_log_has(sentinel_proc[i], line, NULL, NULL) &&
						    sentinel_peers(sentinel_proc[i]) >= SENTINELS - 1),
			      "sentinel %d does not know the replica and its peers", i);
	int recovered = log_count("redis: recovered");
	uint64_t t0 = h_now_ms();
	ck_assert(kill(H.redis->pid, SIGKILL) == 0);
	/* Clients are served and no node leaves while the sentinels promote the replica. */
	int clients = 0, refused = 0;
	uint64_t t_read = 0, t_switch = 0;
	while (h_now_ms() - t0 < 20000 && (t_read == 0 || h_now_ms() - t_read < 3000)) {
		char err[512];
		struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
		clients++;
		if (c == NULL)
			refused++;
		h_client_close(c);
		ck_assert_msg(all_ready(v, 2), "a live node left during the failover");
		if (t_read == 0 && log_count("redis: recovered") > recovered)
			t_read = h_now_ms();
		if (t_switch == 0 && log_count("switched from 127.0.0.1:") > 0)
			t_switch = h_now_ms();
		h_sleep_ms(50);
	}
	ck_assert_msg(t_read != 0, "the controller did not read the new master within 20 s");
	printf("master killed -> controller reads the new master: %llu ms (announcement heard: %lld ms); clients %d, "
	       "refused %d\n",
	       (unsigned long long)(t_read - t0), t_switch ? (long long)(t_switch - t0) : -1LL, clients, refused);
	/* The announcement on +switch-master is what moved the controller, not a poll finding out. */
	char switched[96];
	snprintf(switched, sizeof(switched), "switched from 127.0.0.1:%d to 127.0.0.1:%d", H.redis_port, replica_port);
	ck_assert_msg(log_count(switched) == 1, "the failover was not heard on +switch-master");
	ck_assert_msg(log_count("subscribed to +switch-master on 127.0.0.1:") > 0, "not subscribed to a sentinel");
	ck_assert_int_eq(refused, 0);
	/* The demo nodes asked the sentinels again and beat on the new master. */
	snprintf(line, sizeof(line), "sentinels name 127.0.0.1:%d the master", replica_port);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(H_WAIT(5000, h_log_has(v[i].proc, line, NULL, NULL)), "demo node %d did not follow", i);
	/* A node registering on the new master is routed (through the notification or the poll). */
	node_start(&v[2]);
	ck_assert_msg(H_WAIT(5000, h_srv_ready(v[2].name)), "a node registered on the new master is not routed");
	ck_assert(all_ready(v, 3));
	ck_assert_msg(H_WAIT(10000, log_count("keyspace notifications of") > 1), "not subscribed on the new master");
}
END_TEST

/* ---- a sentinel that is not one: what arrives on +switch-master is untrusted ---- */

static char env_fake[64];

/* The harness's redis-server is the only "sentinel": the controller subscribes on it, and this
 * test publishes what it likes on +switch-master. */
static void setup_fake(void)
{
	if (H.redis_port == 0)
		H.redis_port = h_free_port();
	snprintf(env_fake, sizeof(env_fake), "MCS_REDIS_SENTINELS=127.0.0.1:%d", H.redis_port);
	char path[H_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/controller.log", H.dir);
	free(h_read_file(path, &log_base));
	static const char *env[] = {env_fake, "MCS_REDIS_SENTINEL_MASTER=mymaster", "REDIS_URL=redis://127.0.0.1:1",
				    "MCS_IO_TIMEOUT_MS=500", NULL};
	h_gateway_start(&(struct h_opts){.ttl_ms = TTL_MS, .poll_ms = 500, .controller_env = env});
}

static long long subscribers(void)
{
	redisReply *r = h_redis_cmd("PUBSUB NUMSUB +switch-master");
	long long n = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[1]->integer : -1;
	freeReplyObject(r);
	return n;
}

/* The subscribed client's last command was PING (CLIENT LIST: "sub=1 ... cmd=ping"). */
static int pinged(void)
{
	redisReply *r = h_redis_cmd("CLIENT LIST");
	int found = 0;
	for (char *line = r && r->type == REDIS_REPLY_STRING ? r->str : NULL; line != NULL && !found;) {
		char *end = strchr(line, '\n');
		if (end != NULL)
			*end = '\0';
		found = strstr(line, " sub=1 ") != NULL && strstr(line, " cmd=ping ") != NULL;
		line = end ? end + 1 : NULL;
	}
	freeReplyObject(r);
	return found;
}

static void publish(const char *msg, size_t len)
{
	freeReplyObject(h_redis_cmd("PUBLISH +switch-master %b", msg, len));
}

static const struct {
	const char *msg;
	const char *logged;
} garbage[] = {
	{"mymaster 127.0.0.1 1 10.0.0.1;id 2",
	 "+switch-master: \"10.0.0.1;id\" is not a host: dropping the subscription"},
	{"mymaster 127.0.0.1 1 10.0.0.1 99999", "+switch-master: \"99999\" is not a port: dropping the subscription"},
	{"mymaster 127.0.0.1 1 10.0.0.1", "+switch-master: 4 field(s), not 5: dropping the subscription"},
	{"mymaster 127.0.0.1 1 10.0.0.1 2\nerror", "+switch-master: byte 0x0a at 31 is not printable: dropping"},
};

START_TEST(test_untrusted_announcements)
{
	char sub[96];
	snprintf(sub, sizeof(sub), "subscribed to +switch-master on 127.0.0.1:%d", H.redis_port);
	ck_assert_msg(H_WAIT(5000, log_count(sub) > 0 && subscribers() == 1), "the controller did not subscribe");
	/* Another master's switch is none of ours: ignored, still subscribed. */
	publish("othermaster 127.0.0.1 1 10.0.0.1 2", strlen("othermaster 127.0.0.1 1 10.0.0.1 2"));
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		int subscribed = log_count(sub);
		publish(garbage[i].msg, strlen(garbage[i].msg));
		ck_assert_msg(H_WAIT(5000, log_count(garbage[i].logged) == 1), "not refused: %s", garbage[i].msg);
		/* Dropped and subscribed again (the only sentinel, after the backoff). */
		ck_assert_msg(H_WAIT(10000, log_count(sub) > subscribed && subscribers() == 1), "not subscribed again");
	}
	ck_assert_int_eq(log_count("switched from"), 0);
	ck_assert_int_eq(log_count("dropping the subscription"), (int)(sizeof(garbage) / sizeof(garbage[0])));
	ck_assert_int_eq(log_count("failovers are found by the poll"), 0);
	/* PINGs answered keep the subscription; a sentinel that stops answering is dropped. */
	ck_assert_msg(H_WAIT(15000, pinged()), "the subscriber sent no PING");
	ck_assert_int_eq(subscribers(), 1);
	ck_assert(kill(H.redis->pid, SIGSTOP) == 0);
	int lost = H_WAIT(25000, log_count("no answer to PING within 10000 ms") == 1);
	ck_assert(kill(H.redis->pid, SIGCONT) == 0);
	ck_assert_msg(lost, "a sentinel that stopped answering was not dropped");
	ck_assert_msg(H_WAIT(10000, log_count(sub) > (int)(sizeof(garbage) / sizeof(garbage[0])) + 1),
		      "not subscribed again after the sentinel answered again");
}
END_TEST

/* The demo node refuses a sentinel list that does not parse, in one line, before it listens. */
START_TEST(test_demo_bad_sentinels)
{
	char out[512];
	const char *argv[] = {H_DEMO_NODE_BIN, "--listen", "127.0.0.1:0", "--redis-url", "redis://127.0.0.1:1", NULL};
	ck_assert(setenv("MCS_REDIS_SENTINELS", "10.0.0.1:26379,h;x:1", 1) == 0);
	int rc = h_run(argv, out, sizeof(out), 5000);
	unsetenv("MCS_REDIS_SENTINELS");
	ck_assert_int_eq(rc, 2);
	ck_assert_str_eq(out, "mcs-lb-demo-node: MCS_REDIS_SENTINELS: \"h;x:1\" is not host:port\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sentinel");
	TCase *tc = tcase_create("failover");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_failover);
	suite_add_tcase(s, tc);
	tc = tcase_create("untrusted");
	tcase_add_checked_fixture(tc, setup_fake, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_untrusted_announcements);
	suite_add_tcase(s, tc);
	tc = tcase_create("demo_config");
	tcase_add_test(tc, test_demo_bad_sentinels);
	suite_add_tcase(s, tc);
	return h_main(s);
}
