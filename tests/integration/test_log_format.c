/* MCS_LOG_FORMAT=json: every line the controller and the metrics bridge write is one JSON object
 * (time, program, level, msg), the refusal of a Redis member holding a quote, a backslash and
 * bytes that are not UTF-8 included (the controller writes them as \xNN; common/log's own
 * escaping of raw bytes is the log unit suite's), and HAProxy's access log lines parse too. The logs are read back and
 * parsed line by line after the daemons stopped (their last lines included). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct h_proc *bridge;

/* Parses every line of path as a JSON object of program; counts them, and those whose msg holds
 * needle. Fails the test on the first line that is not one. */
static void all_json(const char *path, const char *program, const char *needle, int *lines, int *hits)
{
	char *text = h_read_file(path, NULL);
	ck_assert_msg(text != NULL, "no %s", path);
	*lines = *hits = 0;
	for (char *line = text, *next; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		ck_assert_msg(next != NULL, "%s: last line unterminated: %s", path, line);
		*next++ = '\0';
		json_error_t jerr;
		json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
		ck_assert_msg(json_is_object(o), "%s line %d is not JSON (%s): %s", path, *lines + 1, jerr.text, line);
		static const char *const keys[] = {"time", "program", "level", "msg"};
		for (size_t i = 0; i < 4; i++)
			ck_assert_msg(json_is_string(json_object_get(o, keys[i])), "%s: no \"%s\" in %s", path, keys[i],
				      line);
		ck_assert_str_eq(json_string_value(json_object_get(o, "program")), program);
		ck_assert_msg(strstr("error warn info debug", json_string_value(json_object_get(o, "level"))) != NULL,
			      "%s", line);
		*hits += strstr(json_string_value(json_object_get(o, "msg")), needle) != NULL;
		++*lines;
		json_decref(o);
	}
	free(text);
}

static int bridge_started(void) { return h_log_has(bridge, "\"msg\":\"started: http://127.0.0.1:", NULL, NULL); }

static void setup(void)
{
	static const char *const ctl_env[] = {"MCS_LOG_FORMAT=json", NULL};
	static const char *const hap_env[] = {"MCS_ACCESS_LOG=on", "MCS_LOG_FORMAT=json", NULL};
	h_gateway_start(&(struct h_opts){.controller_env = ctl_env, .haproxy_env = hap_env});
	char run[H_PATH_MAX + 16];
	snprintf(run, sizeof(run), "MCS_RUN_DIR=%s", H.run_dir);
	const char *env[] = {"PROMETHEUS_PORT=0",   run, "MCS_METRICS_BIND_ADDR=127.0.0.1", "MCS_LOG_LEVEL=debug",
			     "MCS_LOG_FORMAT=json", NULL};
	const char *argv[] = {H_BRIDGE_BIN, NULL};
	bridge = h_spawn("bridge", argv, env);
	ck_assert_msg(bridge != NULL, "%s", h_error());
	ck_assert_msg(H_WAIT(10000, bridge_started()), "the bridge did not start (see %s)", bridge->log);
}

static void teardown(void) { h_gateway_stop(); }

START_TEST(test_daemons_write_json)
{
	/* A node joins, a member that is no address (a quote, a backslash, two bytes that are not
	 * UTF-8) is refused and logged, a client comes and goes. */
	struct h_node node;
	ck_assert_msg(h_nodes_up(&node, 1, 10000) == 0, "%s", h_error());
	static const char bad[] = "evil\"\\\xff\xfe:1";
	ck_assert_msg(h_zadd(bad, sizeof(bad) - 1, h_redis_time()) == 0, "%s", h_error());
	ck_assert_msg(H_WAIT(5000, h_log_has(H.controller, "rejected member", NULL, NULL)), "no refusal in %s",
		      H.controller->log);
	char err[256];
	struct h_client *c = h_client_connect(H.mcs_port, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_msg(h_client_echo(c, "a \"quoted\" line\n", 3000, err, sizeof(err)) == 0, "%s", err);
	h_client_close(c);
	ck_assert_msg(H_WAIT(5000, h_log_has(H.haproxy, "\"event\":\"access\"", NULL, NULL)), "no access line");

	/* Stopped: their last lines are in the logs too. */
	ck_assert_int_eq(h_proc_stop(H.controller, 5000), 0);
	ck_assert_int_eq(h_proc_stop(bridge, 5000), 0);
	int lines, hits;
	all_json(H.controller->log, "mcs-lb-controller", "rejected member", &lines, &hits);
	ck_assert_msg(hits >= 1 && lines >= 4, "controller: %d lines, %d refusals", lines, hits);
	printf("controller: %d lines, all JSON objects (%d refusal of a member with a quote and non-UTF-8)\n", lines,
	       hits);
	all_json(bridge->log, "mcs-lb-metrics", "stopping on signal", &lines, &hits);
	ck_assert_msg(hits == 1 && lines >= 2, "bridge: %d lines, %d stop lines", lines, hits);
	printf("bridge: %d lines, all JSON objects\n", lines);

	/* HAProxy's own start-up lines are text; its access lines are JSON objects. */
	char *text = h_read_file(H.haproxy->log, NULL);
	int access = 0;
	for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strstr(line, "\"program\":\"mcs-lb-haproxy\"") == NULL)
			continue;
		json_error_t jerr;
		json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
		ck_assert_msg(json_is_object(o), "access line is not JSON (%s): %s", jerr.text, line);
		access++;
		json_decref(o);
	}
	free(text);
	ck_assert_int_ge(access, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log_format");
	TCase *tc = tcase_create("json");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_daemons_write_json);
	suite_add_tcase(s, tc);
	return h_main(s);
}
