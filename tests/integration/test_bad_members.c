/* Scenario 4, untrusted members: garbage, missing or out-of-range ports, a member carrying `;`
 * and a runtime command, a newline, 10 KB, half an IPv6 literal, a bad octet, a far-future
 * score, and a hash where the sorted set should be. None changes `show servers state`, none
 * stops the controller, good members alongside still work, and the log names each one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define POLL_MS 250
#define TTL_MS 5000
#define BIG_LEN 10240
#define RECOVERY_LIMIT_MS 8000

static void setup(void) { h_gateway_start(&(struct h_opts){.poll_ms = POLL_MS, .ttl_ms = TTL_MS}); }

static void teardown(void) { h_gateway_stop(); }

/* The backend as "name op admin;" text, in HAProxy's order: any change shows as a difference. */
static void snapshot(char *out, size_t outlen)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	ck_assert_msg(n >= 0, "show servers state: %s", h_error());
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; i < n && o < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s %d %d; ", v[i].name, v[i].op_state, v[i].admin_state);
}

/* Quotes like the controller's log lines: printable ASCII kept, anything else as \xNN. */
static void quote(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 5 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

/* A controller log line with "rejected" and the member: whole (not a prefix of a longer
 * member) when short, its first 30 bytes when long (the log truncates). */
static int log_rejects(const char *member, size_t len)
{
	char q[128], *log = h_read_file(H.controller->log, NULL);
	int found = 0, whole = len <= 40;
	quote(member, len < 40 ? len : 40, q, sizeof(q));
	if (!whole)
		q[30] = '\0';
	for (char *line = log, *next; line != NULL && *line != '\0' && !found; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strstr(line, "rejected") == NULL)
			continue;
		for (const char *p = strstr(line, q); p != NULL && !found; p = strstr(p + 1, q)) {
			char after = p[strlen(q)];
			found = !whole || !(after == ':' || after == ';' || after == '.' || after == '\\' ||
					    (after >= '0' && after <= '9') || (after >= 'a' && after <= 'z'));
		}
	}
	free(log);
	return found;
}

/* A hash at mcs:node for longer than the TTL: the controller keeps every server (Redis errors
 * never empty the backend), then follows the set again once it is restored. */
static void hash_instead_of_set(void)
{
	struct h_node late;
	char before[4096], now[4096], err[512];
	snapshot(before, sizeof(before));
	redisReply *r = h_redis_cmd("DEL mcs:node");
	ck_assert(r != NULL);
	freeReplyObject(r);
	r = h_redis_cmd("HSET mcs:node %s %s", "127.0.0.1:1", "1");
	ck_assert_msg(r != NULL && r->type == REDIS_REPLY_INTEGER, "HSET failed");
	freeReplyObject(r);
	uint64_t end = h_now_ms() + TTL_MS + 2000;
	int clients = 0;
	while (h_now_ms() < end) {
		snapshot(now, sizeof(now));
		ck_assert_msg(strcmp(now, before) == 0,
			      "a hash at mcs:node changed the backend:\nbefore: %s\nnow:    %s", before, now);
		struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
		ck_assert_msg(c != NULL, "client while mcs:node is a hash: %s", err);
		h_client_close(c);
		clients++;
		h_sleep_ms(200);
	}
	ck_assert_msg(h_proc_running(H.controller), "the controller died on a hash");
	printf("hash at mcs:node for %d ms: backend unchanged, %d clients served, WRONGTYPE logged: %s\n",
	       TTL_MS + 2000, clients, h_log_has(H.controller, "WRONGTYPE", NULL, NULL) ? "yes" : "no");

	/* Restore the sorted set (heartbeats refill it); a new node must be picked up again. */
	r = h_redis_cmd("DEL mcs:node");
	ck_assert(r != NULL);
	freeReplyObject(r);
	/* The controller retries a failing Redis with a backoff of up to 5 s: allow for it. */
	ck_assert_msg(h_node_start(&late) == 0 && h_hb_add(late.name) == 0, "%s", h_error());
	uint64_t t0 = h_now_ms();
	ck_assert_msg(H_WAIT(RECOVERY_LIMIT_MS, h_srv_ready(late.name)),
		      "after the set came back, %s was not added within %d ms", late.name, RECOVERY_LIMIT_MS);
	printf("set restored->new node ready: %llu ms\n", (unsigned long long)(h_now_ms() - t0));
	snapshot(now, sizeof(now));
	char expect[4096];
	snprintf(expect, sizeof(expect), "%s%s 2 0; ", before, late.name);
	ck_assert_msg(strcmp(now, expect) == 0, "after the set came back:\nwant: %s\nhave: %s", expect, now);
}

struct bad {
	const char *text;
	size_t len;
	long long score_offset; /* seconds added to Redis TIME */
};

START_TEST(test_bad_members)
{
	struct h_node nodes[2], good;
	char before[4096], now[4096], far[H_NAME_MAX], *big = malloc(BIG_LEN + 1);
	ck_assert(big != NULL);
	memcpy(big, "big", 3);
	memset(big + 3, 'A', BIG_LEN - 3);
	big[BIG_LEN] = '\0';
	snprintf(far, sizeof(far), "127.0.0.1:%d", h_free_port());
	const struct bad bad[] = {
		{"abc", 3, 0},
		{"1.2.3.4", 7, 0},
		{"1.2.3.4:0", 9, 0},
		{"1.2.3.4:99999", 13, 0},
		{"1.2.3.4:80; shutdown sessions server mcs/x", 42, 0},
		{"1.2.3.4:80\nshow info", 20, 0},
		{big, BIG_LEN, 0},
		{"[::1", 4, 0},
		{"256.1.1.1:80", 12, 0},
		{far, strlen(far), 1000000},
	};
	const size_t n_bad = sizeof(bad) / sizeof(bad[0]);
	ck_assert_msg(h_nodes_up(nodes, 2, 10000) == 0, "%s", h_error());
	snapshot(before, sizeof(before));

	/* The bad members, and one good node alongside them. */
	long long t = h_redis_time();
	ck_assert(t > 0);
	for (size_t i = 0; i < n_bad; i++)
		ck_assert_msg(h_zadd(bad[i].text, bad[i].len, t + bad[i].score_offset) == 0, "%s", h_error());
	ck_assert_msg(h_node_start(&good) == 0 && h_hb_add(good.name) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, h_srv_ready(good.name)),
		      "the good member %s next to the bad ones never became ready", good.name);
	for (size_t i = 0; i < n_bad; i++) {
		char q[64];
		quote(bad[i].text, bad[i].len < 30 ? bad[i].len : 30, q, sizeof(q));
		ck_assert_msg(H_WAIT(3000, log_rejects(bad[i].text, bad[i].len)),
			      "the controller log has no \"rejected\" line naming \"%s\"", q);
	}
	printf("all %zu bad members named in \"rejected\" log lines\n", n_bad);

	/* Only the good node was added; the old ones untouched; the controller alive. */
	snapshot(now, sizeof(now));
	char expect[4096];
	snprintf(expect, sizeof(expect), "%s%s 2 0; ", before, good.name);
	ck_assert_msg(strcmp(now, expect) == 0, "show servers state changed:\nbefore: %s\nnow:    %s", before, now);
	ck_assert_msg(h_proc_running(H.controller), "the controller died on bad members");
	struct h_node all[3] = {nodes[0], nodes[1], good};
	int seen[3] = {0};
	for (int i = 0; i < 9; i++) {
		char err[512];
		struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
		ck_assert_msg(c != NULL, "client %d: %s", i, err);
		int k = h_node_index(all, 3, c->node);
		ck_assert_msg(k >= 0, "client landed on %s", c->node);
		seen[k]++;
		h_client_close(c);
	}
	ck_assert_msg(seen[2] > 0, "no client reached the good member %s", good.name);
	free(big);
	hash_instead_of_set();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bad_members");
	TCase *tc = tcase_create("bad_members");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_bad_members);
	suite_add_tcase(s, tc);
	return h_main(s);
}
