/* hap_cmd builders: exact command lines (each one checked by hand against HAProxy 2.6.12), and
 * refusals of every input that could smuggle a second word or command onto the runtime socket. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hap_cmd.h"
#include "unit.h"

static const char name100[] = "n123456789n123456789n123456789n123456789n123456789"
			      "n123456789n123456789n123456789n123456789n123456789";
static const char name101[] = "n123456789n123456789n123456789n123456789n123456789"
			      "n123456789n123456789n123456789n123456789n1234567890";

static const struct {
	const char *name;
	int valid;
} names[] = {
	{"a", 1},
	{"mcs", 1},
	{"10.0.0.5:7000", 1},
	{"2001:db8::1:7000", 1},
	{"::1:7001", 1},
	{"A_b-c.d", 1},
	{"x-", 1},
	{name100, 1},
	{name101, 0},
	{"", 0},
	{NULL, 0},
	{"-x", 0},
	{"-", 0},
	{"a;b", 0},
	{"1.2.3.4:80; shutdown sessions server mcs/x", 0},
	{"a b", 0},
	{"a\n", 0},
	{"a\r", 0},
	{"a\tb", 0},
	{"a/b", 0},
	{"a#b", 0},
	{"a\\b", 0},
	{"[::1]:80", 0},
	{"caf\xc3\xa9", 0},
};

START_TEST(test_name_valid)
{
	ck_assert_msg(hap_name_valid(names[_i].name) == names[_i].valid, "\"%s\"",
		      names[_i].name != NULL ? names[_i].name : "(null)");
}
END_TEST

static const struct hap_check_opts opts = {2000, 3, 2, 100, 0};

static const struct {
	const char *backend, *server, *addr;
	unsigned port, id;
	struct hap_check_opts o;
	int with_opts;
	const char *want; /* NULL: refused */
} adds[] = {
	{"mcs",
	 "10.0.0.5:7000",
	 "10.0.0.5",
	 7000,
	 9,
	 {2000, 3, 2, 100, 0},
	 1,
	 "add server mcs/10.0.0.5:7000 10.0.0.5:7000 check inter 2000 fall 3 rise 2 weight 100 id 9"},
	{"mcs",
	 "::1:7001",
	 "::1",
	 7001,
	 1,
	 {1000, 2, 1, 1, 0},
	 1,
	 "add server mcs/::1:7001 [::1]:7001 check inter 1000 fall 2 rise 1 weight 1 id 1"},
	{"mcs",
	 "2001:db8::1:7000",
	 "2001:DB8:0:0::1",
	 7000,
	 5,
	 {0},
	 0,
	 "add server mcs/2001:db8::1:7000 [2001:db8::1]:7000 id 5"},
	{"mcs", "s", "::ffff:1.2.3.4", 80, 1, {0}, 0, "add server mcs/s [::ffff:1.2.3.4]:80 id 1"},
	/* PROXY v2 to the node: its health checks carry the header too (a LOCAL command) */
	{"mcs",
	 "10.0.0.5:7000",
	 "10.0.0.5",
	 7000,
	 9,
	 {2000, 3, 2, 100, 1},
	 1,
	 "add server mcs/10.0.0.5:7000 10.0.0.5:7000 check inter 2000 fall 3 rise 2 weight 100 send-proxy-v2 "
	 "check-send-proxy id 9"},
	{"mcs",
	 "s",
	 "1.2.3.4",
	 65535,
	 2147483647u,
	 {2147483647u, 2147483647u, 2147483647u, 256, 0},
	 1,
	 "add server mcs/s 1.2.3.4:65535 check inter 2147483647 fall 2147483647 rise 2147483647 weight 256 "
	 "id 2147483647"},
	{"mcs",
	 "s",
	 "1.2.3.4",
	 1,
	 1,
	 {1, 1, 1, 0, 0},
	 1,
	 "add server mcs/s 1.2.3.4:1 check inter 1 fall 1 rise 1 weight 0 id 1"},
	/* refused: addresses */
	{"mcs", "s", "1.2.3.4:80; shutdown sessions server mcs/x", 80, 1, {0}, 0, NULL},
	{"mcs", "s", "example.com", 80, 1, {0}, 0, NULL},
	{"mcs", "s", "[::1]", 80, 1, {0}, 0, NULL},
	{"mcs", "s", "1.2.3.4 ", 80, 1, {0}, 0, NULL},
	{"mcs", "s", "01.2.3.4", 80, 1, {0}, 0, NULL},
	{"mcs", "s", "1.2.3", 80, 1, {0}, 0, NULL},
	{"mcs", "s", "fe80::1%eth0", 80, 1, {0}, 0, NULL},
	{"mcs", "s", "", 80, 1, {0}, 0, NULL},
	{"mcs", "s", NULL, 80, 1, {0}, 0, NULL},
	/* refused: numbers */
	{"mcs", "s", "1.2.3.4", 0, 1, {0}, 0, NULL},
	{"mcs", "s", "1.2.3.4", 65536, 1, {0}, 0, NULL},
	{"mcs", "s", "1.2.3.4", 80, 0, {0}, 0, NULL},
	{"mcs", "s", "1.2.3.4", 80, 2147483648u, {0}, 0, NULL},
	{"mcs", "s", "1.2.3.4", 80, 1, {0, 2, 1, 1, 0}, 1, NULL},
	{"mcs", "s", "1.2.3.4", 80, 1, {2147483648u, 2, 1, 1, 0}, 1, NULL},
	{"mcs", "s", "1.2.3.4", 80, 1, {1000, 0, 1, 1, 0}, 1, NULL},
	{"mcs", "s", "1.2.3.4", 80, 1, {1000, 2, 0, 1, 0}, 1, NULL},
	{"mcs", "s", "1.2.3.4", 80, 1, {1000, 2, 1, 257, 0}, 1, NULL},
	/* refused: names */
	{"mcs", "a b", "1.2.3.4", 80, 1, {0}, 0, NULL},
	{"mcs", "-x", "1.2.3.4", 80, 1, {0}, 0, NULL},
	{"mcs", "1.2.3.4:80;shutdown", "1.2.3.4", 80, 1, {0}, 0, NULL},
	{"mcs", name101, "1.2.3.4", 80, 1, {0}, 0, NULL},
	{"mcs/x", "s", "1.2.3.4", 80, 1, {0}, 0, NULL},
	{"", "s", "1.2.3.4", 80, 1, {0}, 0, NULL},
	{NULL, "s", "1.2.3.4", 80, 1, {0}, 0, NULL},
	{"mcs", NULL, "1.2.3.4", 80, 1, {0}, 0, NULL},
};

START_TEST(test_add_server)
{
	char buf[512];
	memset(buf, 'x', sizeof(buf));
	int rc = hap_cmd_add_server(buf, sizeof(buf), adds[_i].backend, adds[_i].server, adds[_i].addr, adds[_i].port,
				    adds[_i].id, adds[_i].with_opts ? &adds[_i].o : NULL);
	if (adds[_i].want == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(buf, "");
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(buf, adds[_i].want);
	}
}
END_TEST

/* The longest line fits exactly; one byte less and it is refused, never cut. */
START_TEST(test_add_server_buffer)
{
	char big[512], buf[512];
	ck_assert_int_eq(hap_cmd_add_server(big, sizeof(big), name100, name100,
					    "1111:2222:3333:4444:5555:6666:7777:8888", 65535, 2147483647u, &opts),
			 0);
	size_t need = strlen(big) + 1;
	ck_assert_uint_gt(need, 300);
	ck_assert_int_eq(hap_cmd_add_server(buf, need, name100, name100, "1111:2222:3333:4444:5555:6666:7777:8888",
					    65535, 2147483647u, &opts),
			 0);
	ck_assert_str_eq(buf, big);
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(hap_cmd_add_server(buf, need - 1, name100, name100, "1111:2222:3333:4444:5555:6666:7777:8888",
					    65535, 2147483647u, &opts),
			 -1);
	ck_assert_str_eq(buf, "");
	buf[0] = 'x';
	ck_assert_int_eq(hap_cmd_add_server(buf, 0, "mcs", "s", "1.2.3.4", 80, 1, &opts), -1);
	ck_assert_int_eq(buf[0], 'x'); /* len 0: nothing written */
	ck_assert_int_eq(hap_cmd_add_server(buf, 1, "mcs", "s", "1.2.3.4", 80, 1, &opts), -1);
	ck_assert_str_eq(buf, "");
}
END_TEST

static const struct {
	const char *state;
	const char *want;
} states[] = {
	{"ready", "set server mcs/10.0.0.5:7000 state ready"},
	{"drain", "set server mcs/10.0.0.5:7000 state drain"},
	{"maint", "set server mcs/10.0.0.5:7000 state maint"},
	{"READY", NULL},
	{"stopped", NULL},
	{"ready;", NULL},
	{"ready ", NULL},
	{"", NULL},
	{NULL, NULL},
};

START_TEST(test_set_state)
{
	char buf[128] = "junk";
	int rc = hap_cmd_set_state(buf, sizeof(buf), "mcs", "10.0.0.5:7000", states[_i].state);
	ck_assert_int_eq(rc, states[_i].want != NULL ? 0 : -1);
	ck_assert_str_eq(buf, states[_i].want != NULL ? states[_i].want : "");
}
END_TEST

enum one_kind { K_HEALTH, K_HEALTH_UP, K_SHUTDOWN, K_DEL, K_STATE, K_STAT };

static int build(enum one_kind k, char *buf, size_t len, const char *backend, const char *server)
{
	switch (k) {
	case K_HEALTH:
		return hap_cmd_enable_health(buf, len, backend, server);
	case K_HEALTH_UP:
		return hap_cmd_set_health_up(buf, len, backend, server);
	case K_SHUTDOWN:
		return hap_cmd_shutdown_sessions(buf, len, backend, server);
	case K_DEL:
		return hap_cmd_del_server(buf, len, backend, server);
	case K_STATE:
		return hap_cmd_show_servers_state(buf, len, backend);
	case K_STAT:
		return hap_cmd_show_stat_servers(buf, len, backend);
	}
	return -1;
}

static const struct {
	enum one_kind kind;
	const char *backend, *server;
	const char *want; /* NULL: refused */
} ones[] = {
	{K_HEALTH, "mcs", "2001:db8::1:7000", "enable health mcs/2001:db8::1:7000"},
	{K_HEALTH_UP, "mcs", "10.0.0.5:7000", "set server mcs/10.0.0.5:7000 health up"},
	{K_SHUTDOWN, "mcs", "10.0.0.5:7000", "shutdown sessions server mcs/10.0.0.5:7000"},
	{K_DEL, "mcs", "10.0.0.5:7000", "del server mcs/10.0.0.5:7000"},
	{K_STATE, "mcs", NULL, "show servers state mcs"},
	{K_STAT, "mcs", NULL, "show stat mcs 4 -1"},
	{K_STAT, "be-2", NULL, "show stat be-2 4 -1"},
	{K_HEALTH, "mcs", "a b", NULL},
	{K_HEALTH_UP, "mcs", "x health down", NULL},
	{K_HEALTH_UP, "mcs;", "x", NULL},
	{K_SHUTDOWN, "mcs", "x;shutdown sessions server mcs/y", NULL},
	{K_DEL, "mcs", "", NULL},
	{K_DEL, "mcs", "-x", NULL},
	{K_DEL, "m cs", "x", NULL},
	{K_DEL, "mcs", name101, NULL},
	{K_STATE, "mcs\n", NULL, NULL},
	{K_STATE, "", NULL, NULL},
	{K_STAT, "3", NULL, NULL}, /* `show stat 3` would select proxy id 3 */
	{K_STAT, "123", NULL, NULL},
	{K_STAT, "mcs 2", NULL, NULL},
	{K_STAT, NULL, NULL, NULL},
};

START_TEST(test_one_server_commands)
{
	char buf[256] = "junk";
	int rc = build(ones[_i].kind, buf, sizeof(buf), ones[_i].backend, ones[_i].server);
	ck_assert_int_eq(rc, ones[_i].want != NULL ? 0 : -1);
	ck_assert_str_eq(buf, ones[_i].want != NULL ? ones[_i].want : "");
}
END_TEST

START_TEST(test_short_buffers)
{
	for (size_t i = 0; i < N_ELEMS(ones); i++) {
		if (ones[i].want == NULL)
			continue;
		char buf[256];
		size_t need = strlen(ones[i].want) + 1;
		ck_assert_int_eq(build(ones[i].kind, buf, need, ones[i].backend, ones[i].server), 0);
		ck_assert_int_eq(build(ones[i].kind, buf, need - 1, ones[i].backend, ones[i].server), -1);
		ck_assert_str_eq(buf, "");
	}
	char buf[8];
	ck_assert_int_eq(hap_cmd_set_state(buf, sizeof(buf), "mcs", "s", "ready"), -1);
	ck_assert_str_eq(buf, "");
}
END_TEST

static const struct {
	const char *send;
	int valid;
} sends[] = {
	{"10.0.0.5:7000/", 1},
	{"2001:db8::1:7000/", 1},
	{"a", 1},
	{"mcs/x/", 1},
	{"", 0},
	{NULL, 0},
	{"-x/", 0},
	{"a b/", 0},
	{"a/;show info", 0},
	{"a/\n", 0},
	{"a#/", 0},
	{"a\\/", 0},
	{"a$/", 0},
	{"a\"/", 0},
	{"a/<<", 0},
};

START_TEST(test_agent_send_valid)
{
	ck_assert_msg(hap_agent_send_valid(sends[_i].send) == sends[_i].valid, "\"%s\"",
		      sends[_i].send != NULL ? sends[_i].send : "(null)");
}
END_TEST

START_TEST(test_agent_send_length)
{
	char s[HAP_AGENT_SEND_MAX + 2];
	memset(s, 'a', sizeof(s));
	s[HAP_AGENT_SEND_MAX] = '\0';
	ck_assert_int_eq(hap_agent_send_valid(s), 1);
	s[HAP_AGENT_SEND_MAX] = 'a';
	s[HAP_AGENT_SEND_MAX + 1] = '\0';
	ck_assert_int_eq(hap_agent_send_valid(s), 0);
}
END_TEST

/* Each accepted line was run through `add server` on HAProxy 2.6.12 ("New server registered."). */
static const struct {
	const char *addr;
	struct hap_agent_opts a;
	int with_agent, with_check;
	const char *want; /* NULL: refused */
} agent_adds[] = {
	{"10.0.0.5",
	 {"127.0.0.1", 47100, 500, "10.0.0.5:7000/"},
	 1,
	 1,
	 "add server mcs/10.0.0.5:7000 10.0.0.5:7000 check inter 2000 fall 3 rise 2 weight 100 agent-check agent-addr "
	 "127.0.0.1 agent-port 47100 agent-inter 500 agent-send 10.0.0.5:7000/ id 7"},
	{"10.0.0.5",
	 {"::1", 1, 0, "x/"},
	 1,
	 0,
	 "add server mcs/10.0.0.5:7000 10.0.0.5:7000 agent-check agent-addr ::1 agent-port 1 agent-send x/ id 7"},
	{"10.0.0.5",
	 {"0:0::0:1", 65535, 2147483647u, "x/"},
	 1,
	 0,
	 "add server mcs/10.0.0.5:7000 10.0.0.5:7000 agent-check agent-addr ::1 agent-port 65535 agent-inter 2147483647 "
	 "agent-send x/ id 7"},
	{"10.0.0.5",
	 {0},
	 0,
	 1,
	 "add server mcs/10.0.0.5:7000 10.0.0.5:7000 check inter 2000 fall 3 rise 2 weight 100 id 7"},
	{"10.0.0.5", {"localhost", 47100, 0, "x/"}, 1, 1, NULL},
	{"10.0.0.5", {"[::1]", 47100, 0, "x/"}, 1, 1, NULL},
	{"10.0.0.5", {"127.0.0.1 agent-port 1", 47100, 0, "x/"}, 1, 1, NULL},
	{"10.0.0.5", {NULL, 47100, 0, "x/"}, 1, 1, NULL},
	{"10.0.0.5", {"127.0.0.1", 0, 0, "x/"}, 1, 1, NULL},
	{"10.0.0.5", {"127.0.0.1", 65536, 0, "x/"}, 1, 1, NULL},
	{"10.0.0.5", {"127.0.0.1", 47100, 2147483648u, "x/"}, 1, 1, NULL},
	{"10.0.0.5", {"127.0.0.1", 47100, 0, "x/ id 9"}, 1, 1, NULL},
	{"10.0.0.5", {"127.0.0.1", 47100, 0, "x/;show info"}, 1, 1, NULL},
	{"10.0.0.5", {"127.0.0.1", 47100, 0, NULL}, 1, 1, NULL},
	{"10.0.0.5", {"127.0.0.1", 47100, 0, ""}, 1, 1, NULL},
	{"bad", {"127.0.0.1", 47100, 0, "x/"}, 1, 1, NULL},
};

START_TEST(test_add_server_agent)
{
	char buf[512];
	memset(buf, 'x', sizeof(buf));
	int rc = hap_cmd_add_server_agent(buf, sizeof(buf), "mcs", "10.0.0.5:7000", agent_adds[_i].addr, 7000, 7,
					  agent_adds[_i].with_check ? &opts : NULL,
					  agent_adds[_i].with_agent ? &agent_adds[_i].a : NULL);
	ck_assert_int_eq(rc, agent_adds[_i].want != NULL ? 0 : -1);
	ck_assert_str_eq(buf, agent_adds[_i].want != NULL ? agent_adds[_i].want : "");
}
END_TEST

/* A servers-file line is the add line's words after "add server <backend>/", with the same
 * refusals: a server from the file starts exactly as one added at run time. */
START_TEST(test_cfg_server_line)
{
	for (size_t i = 0; i < N_ELEMS(agent_adds); i++) {
		char add[512], line[512];
		const struct hap_agent_opts *a = agent_adds[i].with_agent ? &agent_adds[i].a : NULL;
		const struct hap_check_opts *o = agent_adds[i].with_check ? &opts : NULL;
		int ra = hap_cmd_add_server_agent(add, sizeof(add), "mcs", "10.0.0.5:7000", agent_adds[i].addr, 7000, 7,
						  o, a);
		int rl = hap_cmd_cfg_server(line, sizeof(line), "10.0.0.5:7000", agent_adds[i].addr, 7000, 7, o, a);
		ck_assert_int_eq(ra, rl);
		if (ra == 0) {
			ck_assert_msg(strncmp(add, "add server mcs/", 15) == 0, "%s", add);
			ck_assert_str_eq(line + strlen("server "), add + strlen("add server mcs/"));
		} else {
			ck_assert_str_eq(line, "");
		}
	}
	char buf[256];
	/* A name that would add words to the file, a bad address, id 0, a short buffer. */
	ck_assert_int_eq(hap_cmd_cfg_server(buf, sizeof(buf), "a b", "10.0.0.1", 80, 1, &opts, NULL), -1);
	ck_assert_int_eq(hap_cmd_cfg_server(buf, sizeof(buf), "x\nbackend y", "10.0.0.1", 80, 1, &opts, NULL), -1);
	ck_assert_int_eq(hap_cmd_cfg_server(buf, sizeof(buf), "x", "10.0.0.1 backup", 80, 1, &opts, NULL), -1);
	ck_assert_int_eq(hap_cmd_cfg_server(buf, sizeof(buf), "x", "10.0.0.1", 80, 0, &opts, NULL), -1);
	ck_assert_int_eq(hap_cmd_cfg_server(buf, 20, "x", "10.0.0.1", 80, 1, &opts, NULL), -1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(hap_cmd_cfg_server(buf, sizeof(buf), "[::1]:80", "::1", 80, 3, NULL, NULL), -1);
	ck_assert_int_eq(hap_cmd_cfg_server(buf, sizeof(buf), "::1:80", "::1", 80, 3, NULL, NULL), 0);
	ck_assert_str_eq(buf, "server ::1:80 [::1]:80 id 3");
}
END_TEST

/* With a NULL agent the line is hap_cmd_add_server's, byte for byte. */
START_TEST(test_add_server_agent_same)
{
	for (size_t i = 0; i < N_ELEMS(adds); i++) {
		char a[512], b[512];
		int ra = hap_cmd_add_server(a, sizeof(a), adds[i].backend, adds[i].server, adds[i].addr, adds[i].port,
					    adds[i].id, adds[i].with_opts ? &adds[i].o : NULL);
		int rb =
			hap_cmd_add_server_agent(b, sizeof(b), adds[i].backend, adds[i].server, adds[i].addr,
						 adds[i].port, adds[i].id, adds[i].with_opts ? &adds[i].o : NULL, NULL);
		ck_assert_int_eq(ra, rb);
		ck_assert_str_eq(a, b);
	}
	/* The longest agent line fits the builder: refused only by the caller's buffer. */
	char send[HAP_AGENT_SEND_MAX + 1], buf[1024];
	memset(send, 'a', HAP_AGENT_SEND_MAX);
	send[HAP_AGENT_SEND_MAX] = '\0';
	struct hap_agent_opts a = {"1111:2222:3333:4444:5555:6666:7777:8888", 65535, 2147483647u, send};
	ck_assert_int_eq(hap_cmd_add_server_agent(buf, sizeof(buf), name100, name100,
						  "1111:2222:3333:4444:5555:6666:7777:8888", 65535, 2147483647u, &opts,
						  &a),
			 0);
	size_t need = strlen(buf) + 1;
	ck_assert_int_eq(hap_cmd_add_server_agent(buf, need - 1, name100, name100,
						  "1111:2222:3333:4444:5555:6666:7777:8888", 65535, 2147483647u, &opts,
						  &a),
			 -1);
	ck_assert_str_eq(buf, "");
}
END_TEST

static const struct {
	int kind; /* 0 enable, 1 disable, 2 set agent-addr */
	const char *server, *addr;
	unsigned port;
	const char *want;
} agent_cmds[] = {
	{0, "10.0.0.5:7000", NULL, 0, "enable agent mcs/10.0.0.5:7000"},
	{1, "10.0.0.5:7000", NULL, 0, "disable agent mcs/10.0.0.5:7000"},
	{2, "10.0.0.5:7000", "127.0.0.1", 47101, "set server mcs/10.0.0.5:7000 agent-addr 127.0.0.1 port 47101"},
	{2, "s", "::FFFF:127.0.0.1", 1, "set server mcs/s agent-addr ::ffff:127.0.0.1 port 1"},
	{0, "a b", NULL, 0, NULL},
	{1, "x;shutdown sessions server mcs/y", NULL, 0, NULL},
	{2, "s", "127.0.0.1", 0, NULL},
	{2, "s", "127.0.0.1", 65536, NULL},
	{2, "s", "host", 80, NULL},
	{2, "s", NULL, 80, NULL},
	{2, "-s", "127.0.0.1", 80, NULL},
};

START_TEST(test_agent_commands)
{
	char buf[256] = "junk";
	int rc = agent_cmds[_i].kind == 0   ? hap_cmd_enable_agent(buf, sizeof(buf), "mcs", agent_cmds[_i].server)
		 : agent_cmds[_i].kind == 1 ? hap_cmd_disable_agent(buf, sizeof(buf), "mcs", agent_cmds[_i].server)
					    : hap_cmd_set_agent_addr(buf, sizeof(buf), "mcs", agent_cmds[_i].server,
								     agent_cmds[_i].addr, agent_cmds[_i].port);
	ck_assert_int_eq(rc, agent_cmds[_i].want != NULL ? 0 : -1);
	ck_assert_str_eq(buf, agent_cmds[_i].want != NULL ? agent_cmds[_i].want : "");
}
END_TEST

START_TEST(test_set_weight_pct)
{
	char buf[128];
	ck_assert_int_eq(hap_cmd_set_weight_pct(buf, sizeof(buf), "mcs", "10.0.0.5:7000", 10), 0);
	ck_assert_str_eq(buf, "set server mcs/10.0.0.5:7000 weight 10%");
	ck_assert_int_eq(hap_cmd_set_weight_pct(buf, sizeof(buf), "mcs", "10.0.0.5:7000", 101), -1);
	ck_assert_int_eq(hap_cmd_set_weight_pct(buf, sizeof(buf), "mcs", "a;b", 10), -1);
	ck_assert_int_eq(hap_cmd_set_weight_pct(buf, 20, "mcs", "10.0.0.5:7000", 10), -1);
}
END_TEST

/* Session ids go back into a command: only "0x" and 1..20 hex digits. */
START_TEST(test_shutdown_session)
{
	char buf[64];
	ck_assert_int_eq(hap_cmd_shutdown_session(buf, sizeof(buf), "0x55d0c1a0f0e0"), 0);
	ck_assert_str_eq(buf, "shutdown session 0x55d0c1a0f0e0");
	static const char *const bad[] = {
		NULL, "", "0x", "55d0", "0x55d0;show info", "0x55 d0", "0xg1", "0x123456789012345678901", "0X55"};
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		memset(buf, 'x', sizeof(buf));
		ck_assert_int_eq(hap_cmd_shutdown_session(buf, sizeof(buf), bad[i]), -1);
		ck_assert_str_eq(buf, "");
	}
	ck_assert_int_eq(hap_cmd_shutdown_session(buf, 20, "0x55d0c1a0f0e0"), -1); /* does not fit */
}
END_TEST

static Suite *hap_cmd_suite(void)
{
	Suite *s = suite_create("hap_cmd");
	TCase *tc = tcase_create("cmd");
	tcase_add_loop_test(tc, test_name_valid, 0, (int)N_ELEMS(names));
	tcase_add_loop_test(tc, test_add_server, 0, (int)N_ELEMS(adds));
	tcase_add_test(tc, test_add_server_buffer);
	tcase_add_loop_test(tc, test_set_state, 0, (int)N_ELEMS(states));
	tcase_add_loop_test(tc, test_one_server_commands, 0, (int)N_ELEMS(ones));
	tcase_add_test(tc, test_short_buffers);
	tcase_add_loop_test(tc, test_agent_send_valid, 0, (int)N_ELEMS(sends));
	tcase_add_test(tc, test_agent_send_length);
	tcase_add_loop_test(tc, test_add_server_agent, 0, (int)N_ELEMS(agent_adds));
	tcase_add_test(tc, test_add_server_agent_same);
	tcase_add_test(tc, test_cfg_server_line);
	tcase_add_test(tc, test_shutdown_session);
	tcase_add_test(tc, test_set_weight_pct);
	tcase_add_loop_test(tc, test_agent_commands, 0, (int)N_ELEMS(agent_cmds));
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(hap_cmd_suite()); }
