/* Access log of haproxy.cfg (MCS_ACCESS_LOG, MCS_LOG_FORMAT): one line per chat connection when
 * it ends, on HAProxy's stderr, read back from its log and checked field by field against what
 * the TLS client knows (its address and port, the node, the bytes, how long it was held, the
 * TLS version); a refused handshake logs a tls_error line; off by default: no line at all.
 * No controller: the demo node is added over the admin socket. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"

#define HELD_MS 300 /* a client holds its connection at least this long before closing */

static struct h_node node;

static void start(const char *const *env)
{
	h_gateway_start(&(struct h_opts){.without_controller = 1, .haproxy_env = env});
	ck_assert_msg(h_node_start(&node) == 0, "%s", h_error());
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "add server mcs/%s %s", node.name, node.name);
	char *r = h_hap_cmd(H.admin_sock, cmd);
	ck_assert_msg(r != NULL && strstr(r, "New server registered") != NULL, "%s: %s", cmd, r ? r : h_error());
	free(r);
	snprintf(cmd, sizeof(cmd), "set server mcs/%s state ready", node.name);
	free(h_hap_cmd(H.admin_sock, cmd));
}

static void setup_off(void) { start(NULL); }
static void setup_text(void) { start((const char *const[]){"MCS_ACCESS_LOG=on", NULL}); }
static void setup_json(void) { start((const char *const[]){"MCS_ACCESS_LOG=on", "MCS_LOG_FORMAT=json", NULL}); }
static void teardown(void) { h_gateway_stop(); }

/* What one finished client knows about its own connection. */
struct seen {
	int port;         /* its local port */
	long bytes_in;    /* sent to the node */
	long bytes_out;   /* received: greeting and echo */
	const char *tls;  /* "TLSv1.3" */
	uint64_t held_ms; /* from before connect to after close */
	time_t ended;     /* wall clock after close */
};

/* Connects with TLS version ver, is greeted, echoes a message, holds the connection HELD_MS
 * and closes it. */
static struct seen one_client(int ver)
{
	char err[512];
	struct seen s = {.tls = ver == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3"};
	uint64_t t0 = h_now_ms();
	struct h_client *c = h_tls_open(H.mcs_port, ver, ver, err, sizeof(err));
	ck_assert_msg(c != NULL, "TLS client: %s", err);
	ck_assert_msg(h_client_hello(c, 5000, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c->node, node.name);
	const char *msg = "a chat message\n";
	ck_assert_msg(h_client_echo(c, msg, 3000, err, sizeof(err)) == 0, "%s", err);
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&a, &alen), 0);
	s.port = ntohs(a.sin_port);
	s.bytes_in = (long)strlen(msg);
	s.bytes_out = (long)(strlen("HELLO ") + strlen(node.name) + 1 + strlen(msg));
	h_sleep_ms(HELD_MS);
	h_client_close(c);
	s.held_ms = h_now_ms() - t0;
	s.ended = time(NULL);
	return s;
}

/* The line of haproxy's log holding needle, copied into out (malloc'd), or NULL. */
static char *log_line(const char *needle)
{
	char *text = h_read_file(H.haproxy->log, NULL), *out = NULL;
	for (char *line = text, *next; line != NULL && *line != '\0' && out == NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strstr(line, needle) != NULL)
			out = strdup(line);
	}
	free(text);
	return out;
}

/* Waits up to 5 s for the line holding needle. */
static char *wait_line(const char *needle)
{
	char *line = NULL;
	H_WAIT(5000, (line = log_line(needle)) != NULL);
	ck_assert_msg(line != NULL, "no log line with \"%s\" in %s", needle, H.haproxy->log);
	printf("%s\n", line);
	return line;
}

/* The "YYYY-MM-DDTHH:MM:SS.mmmZ" at text, as seconds since the epoch, or -1. */
static time_t parse_time(const char *text)
{
	struct tm tm = {0};
	const char *rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL || rest[0] != '.' || strspn(rest + 1, "0123456789") != 3 || rest[4] != 'Z')
		return -1;
	return timegm(&tm);
}

/* The value of " key=" in line, up to the next space, into out. */
static const char *field(const char *line, const char *key, char *out, size_t outlen)
{
	char pat[64];
	snprintf(pat, sizeof(pat), " %s=", key);
	const char *p = strstr(line, pat);
	ck_assert_msg(p != NULL, "no %s in: %s", key, line);
	p += strlen(pat);
	snprintf(out, outlen, "%.*s", (int)strcspn(p, " "), p);
	return out;
}

static long num_field(const char *line, const char *key)
{
	char v[64], *end;
	long n = strtol(field(line, key, v, sizeof(v)), &end, 10);
	ck_assert_msg(v[0] != '\0' && *end == '\0', "%s is not a number in: %s", key, line);
	return n;
}

/* The duration HAProxy logs lies within what the client measured around it. */
static void assert_duration(long ms, const struct seen *s)
{
	ck_assert_msg(ms >= HELD_MS && (uint64_t)ms <= s->held_ms + 50, "duration %ld ms, the client held it %lu ms",
		      ms, (unsigned long)s->held_ms);
}

static void assert_text_line(const char *line, const struct seen *s)
{
	char v[128];
	time_t t = parse_time(line);
	ck_assert_msg(t != -1 && t >= s->ended - 2 && t <= s->ended + 2, "time of the line: %s", line);
	ck_assert_msg(strstr(line, "Z mcs-lb-haproxy info: access client=") != NULL, "shape: %s", line);
	ck_assert_str_eq(field(line, "client", v, sizeof(v)), "127.0.0.1");
	ck_assert_int_eq(num_field(line, "client_port"), s->port);
	ck_assert_str_eq(field(line, "node", v, sizeof(v)), node.name);
	ck_assert_int_eq(num_field(line, "bytes_in"), s->bytes_in);
	ck_assert_int_eq(num_field(line, "bytes_out"), s->bytes_out);
	assert_duration(num_field(line, "duration_ms"), s);
	ck_assert_str_eq(field(line, "end", v, sizeof(v)), "--");
	ck_assert_str_eq(field(line, "tls", v, sizeof(v)), s->tls);
}

START_TEST(test_text)
{
	static const int versions[] = {TLS1_3_VERSION, TLS1_2_VERSION};
	for (size_t i = 0; i < 2; i++) {
		struct seen s = one_client(versions[i]);
		char needle[64];
		snprintf(needle, sizeof(needle), " client_port=%d ", s.port);
		char *line = wait_line(needle);
		assert_text_line(line, &s);
		free(line);
	}

	/* A refused handshake (TLS 1.1): a tls_error line naming the client. */
	char err[512];
	struct h_client *c = h_tls_open(H.mcs_port, TLS1_1_VERSION, TLS1_1_VERSION, err, sizeof(err));
	ck_assert_msg(c == NULL, "TLS 1.1 accepted");
	char *line = wait_line(" tls_error client=127.0.0.1 ");
	ck_assert_msg(parse_time(line) != -1 && strstr(line, "Z mcs-lb-haproxy info: tls_error") != NULL &&
			      strstr(line, " error=\"SSL handshake failure\"") != NULL,
		      "tls_error line: %s", line);
	free(line);
}
END_TEST

/* The JSON line whose client_port is port, parsed; NULL while there is none. */
static json_t *json_line(int port)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "\"client_port\":%d,", port);
	char *line = log_line(needle);
	if (line == NULL)
		return NULL;
	printf("%s\n", line);
	json_error_t jerr;
	json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(root != NULL, "not JSON (%s): %s", jerr.text, line);
	free(line);
	return root;
}

static const char *jstr(json_t *root, const char *key)
{
	const char *v = json_string_value(json_object_get(root, key));
	ck_assert_msg(v != NULL, "%s is not a string", key);
	return v;
}

static long jint(json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);
	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return (long)json_integer_value(v);
}

START_TEST(test_json)
{
	struct seen s = one_client(TLS1_3_VERSION);
	json_t *root = NULL;
	H_WAIT(5000, (root = json_line(s.port)) != NULL);
	ck_assert_msg(root != NULL, "no JSON line for client port %d in %s", s.port, H.haproxy->log);
	time_t t = parse_time(jstr(root, "time"));
	ck_assert_msg(t != -1 && t >= s.ended - 2 && t <= s.ended + 2, "time %s", jstr(root, "time"));
	ck_assert_str_eq(jstr(root, "program"), "mcs-lb-haproxy");
	ck_assert_str_eq(jstr(root, "level"), "info");
	ck_assert_str_eq(jstr(root, "event"), "access");
	ck_assert_str_eq(jstr(root, "client"), "127.0.0.1");
	ck_assert_str_eq(jstr(root, "node"), node.name);
	ck_assert_int_eq(jint(root, "bytes_in"), s.bytes_in);
	ck_assert_int_eq(jint(root, "bytes_out"), s.bytes_out);
	assert_duration(jint(root, "duration_ms"), &s);
	ck_assert_str_eq(jstr(root, "end"), "--");
	ck_assert_str_eq(jstr(root, "tls"), "TLSv1.3");
	ck_assert_int_eq(json_object_size(root), 12);
	json_decref(root);

	/* Every line HAProxy wrote for a client, a refused handshake included, is JSON. */
	char err[512];
	ck_assert_msg(h_tls_open(H.mcs_port, TLS1_1_VERSION, TLS1_1_VERSION, err, sizeof(err)) == NULL,
		      "TLS 1.1 accepted");
	char *line = wait_line("\"event\":\"tls_error\"");
	json_error_t jerr;
	root = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(root != NULL, "not JSON (%s): %s", jerr.text, line);
	ck_assert_str_eq(jstr(root, "client"), "127.0.0.1");
	ck_assert_str_eq(jstr(root, "error"), "SSL handshake failure");
	json_decref(root);
	free(line);
}
END_TEST

/* Off by default: a whole client, then nothing of it in the log. */
START_TEST(test_off_by_default)
{
	struct seen s = one_client(TLS1_3_VERSION);
	ck_assert_msg(H_WAIT(5000, h_stat_num("mcs", node.name, "scur") == 0), "the session did not end");
	char err[512];
	ck_assert_msg(h_tls_open(H.mcs_port, TLS1_1_VERSION, TLS1_1_VERSION, err, sizeof(err)) == NULL,
		      "TLS 1.1 accepted");
	char needle[32];
	snprintf(needle, sizeof(needle), "%d", s.port);
	char *line = NULL;
	ck_assert_msg(H_HOLDS(1000, (line = log_line(needle)) == NULL && (line = log_line("access")) == NULL &&
					    (line = log_line("handshake")) == NULL),
		      "access log off, yet: %s", line);
	printf("access log off: no line for client port %d or the refused handshake\n", s.port);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("access_log");
	struct {
		const char *name;
		void (*setup)(void);
		const TTest *test;
	} cases[] = {{"off", setup_off, test_off_by_default},
		     {"text", setup_text, test_text},
		     {"json", setup_json, test_json}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_unchecked_fixture(tc, cases[i].setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return h_main(s);
}
