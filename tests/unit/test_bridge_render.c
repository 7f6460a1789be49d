/* bridge_render: the /metrics page from a captured HAProxy snapshot and a controller status —
 * exact values of the four seed metrics, HELP/TYPE before every family, families grouped and
 * unique, no HAProxy series when HAProxy is unreadable, label escaping end to end. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_counters.h"
#include "bridge_ctl.h"
#include "bridge_render.h"
#include "bridge_stats.h"
#include "expo.h"
#include "hap_info.h"
#include "hap_servers.h"
#include "unit.h"

static char err[256];

/* The captured gateway (see test_bridge_stats.c), counters through bridge_counters. */
static void captured_snapshot(struct bridge_snapshot *s)
{
	char *info = fixture("bridge_info.txt"), *state = fixture("bridge_state.txt"),
	     *csv = fixture("bridge_stat_user.csv");
	struct hap_server_state *states = NULL;
	size_t n = 0;
	ck_assert_int_eq(hap_servers_state_parse(state, &states, &n, err, sizeof(err)), 0);
	struct hap_info hi;
	ck_assert_int_eq(hap_info_parse(info, &hi, err, sizeof(err)), 0);
	bridge_stats_set_info(s, &hi);
	ck_assert_msg(bridge_stats_parse_stat(csv, "mcs_tls", "mcs", states, n, s, err, sizeof(err)) == 0, "%s", err);
	struct bridge_counters *fe = bridge_counters_new(3), *be = bridge_counters_new(4);
	ck_assert_int_eq(bridge_counters_apply(fe, be, s, 1, 0, 60), 0);
	bridge_counters_free(fe);
	bridge_counters_free(be);
	free(states);
	free(info);
	free(state);
	free(csv);
}

static char *render_info(const struct bridge_snapshot *s, const struct bridge_ctl_status *c,
			 const struct bridge_info *info)
{
	struct expo_buf b = EXPO_BUF_INIT;
	bridge_render(s, c, info, &b);
	size_t len;
	char *text = expo_buf_take(&b, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

static char *render(const struct bridge_snapshot *s, const struct bridge_ctl_status *c)
{
	struct bridge_info info = {"0.1.0", "2.6.12-1+deb12u4", "3.0.11", 1, 1900000000};
	return render_info(s, c, &info);
}

#define HELP_MAX 110

/* Checks the page's shape: every sample follows the HELP and TYPE of its own family, each
 * family appears once, names are valid, every line ends with "\n". Returns the sample count. */
static size_t assert_well_formed(const char *text)
{
	char family[128] = "", seen[8192] = " ";
	size_t samples = 0;
	ck_assert(text[0] == '\0' || text[strlen(text) - 1] == '\n');
	for (const char *line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
		size_t len = strcspn(line, "\n");
		char name[128];
		if (strncmp(line, "# HELP ", 7) == 0) {
			ck_assert_int_eq(sscanf(line + 7, "%127s", name), 1);
			ck_assert_msg(expo_name_valid(name), "bad name %s", name);
			/* One short line: the details are in metrics-bridge/README.md. */
			ck_assert_msg(len - 8 - strlen(name) <= HELP_MAX, "HELP of %s over %d characters", name,
				      HELP_MAX);
			char key[140];
			snprintf(key, sizeof(key), " %s ", name);
			ck_assert_msg(strstr(seen, key) == NULL, "family %s appears twice", name);
			ck_assert_uint_lt(strlen(seen) + strlen(key), sizeof(seen));
			strcat(seen, key + 1);
			snprintf(family, sizeof(family), "%s", name);
			const char *type = line + len + 1;
			char want[160];
			int n = snprintf(want, sizeof(want), "# TYPE %s ", name);
			ck_assert_msg(strncmp(type, want, (size_t)n) == 0, "no TYPE right after HELP of %s", name);
			ck_assert(strncmp(type + n, "gauge\n", 6) == 0 || strncmp(type + n, "counter\n", 8) == 0);
			line = type;
			continue;
		}
		ck_assert_msg(line[0] != '#', "stray comment %.*s", (int)len, line);
		size_t nlen = strcspn(line, "{ ");
		ck_assert_msg(nlen == strlen(family) && strncmp(line, family, nlen) == 0,
			      "sample %.*s outside its family %s", (int)len, line, family);
		samples++;
	}
	return samples;
}

/* Asserts that the page holds this exact line. */
static void assert_line(const char *text, const char *line)
{
	char want[256];
	snprintf(want, sizeof(want), "\n%s\n", line);
	ck_assert_msg(strstr(text, want) != NULL, "no line \"%s\"", line);
}

static void assert_no(const char *text, const char *part)
{
	ck_assert_msg(strstr(text, part) == NULL, "unexpected \"%s\"", part);
}

START_TEST(test_captured_values)
{
	struct bridge_snapshot s = {0};
	struct bridge_ctl_status c = {0};
	captured_snapshot(&s);
	char *text = render(&s, &c);
	assert_well_formed(text);
	/* The four seed metrics, exactly. */
	assert_line(text, "lb_active_connections 3");
	assert_line(text, "lb_total_connections 3");
	assert_line(text, "lb_backend_active_connections{backend=\"127.0.0.1:46593\"} 2");
	assert_line(text, "lb_backend_active_connections{backend=\"127.0.0.1:44079\"} 0");
	assert_line(text, "lb_backend_active_connections{backend=\"127.0.0.1:48169\"} 0");
	assert_line(text, "lb_backend_active_connections{backend=\"[::1]:55297\"} 1");
	assert_line(text, "lb_backend_active_connections{backend=\"127.0.0.1:35253\"} 0");
	assert_line(text, "lb_backend_health_check_failures{backend=\"127.0.0.1:48169\"} 0");
	assert_line(text, "# TYPE lb_backend_health_check_failures counter");
	assert_line(text, "# TYPE lb_total_connections counter");
	assert_line(text, "# TYPE lb_active_connections gauge");
	assert_line(text, "# TYPE lb_backend_active_connections gauge");
	/* The rest an operator reaches for. */
	assert_line(text, "lb_haproxy_up 1");
	assert_line(text, "lb_haproxy_uptime_seconds 2");
	assert_line(text, "lb_backend_up{backend=\"127.0.0.1:46593\"} 1");
	assert_line(text, "lb_backend_up{backend=\"127.0.0.1:44079\"} 1");
	assert_line(text, "lb_backend_up{backend=\"127.0.0.1:48169\"} 0");
	assert_line(text, "lb_backend_up{backend=\"127.0.0.1:35253\"} 0");
	assert_line(text, "lb_backend_maintenance{backend=\"127.0.0.1:35253\"} 1");
	assert_line(text, "lb_backend_draining{backend=\"127.0.0.1:44079\"} 1");
	assert_line(text, "lb_backend_down_transitions_total{backend=\"127.0.0.1:48169\"} 1");
	assert_line(text, "lb_backend_last_check_ok{backend=\"127.0.0.1:48169\"} 0");
	assert_no(text, "lb_backend_last_check_ok{backend=\"127.0.0.1:35253\"}");
	assert_line(text, "lb_backend_weight{backend=\"[::1]:55297\"} 100");
	assert_line(text, "lb_backends 5");
	assert_line(text, "lb_backends_healthy 3");
	assert_line(text, "lb_max_connections 8000");
	assert_line(text, "lb_tls_handshake_failures_total 1");
	assert_line(text, "lb_limit_refused_connections_total 0");
	assert_line(text, "# TYPE lb_limit_refused_connections_total counter");
	assert_no(text, "lb_limit_table_"); /* no `show table` read into this snapshot */
	/* Controller down: only its up series. */
	assert_line(text, "lb_controller_up 0");
	assert_no(text, "lb_controller_last_sync");
	/* Internal server names never appear as labels. */
	assert_no(text, "::1:55297\"");
	free(text);
	bridge_snapshot_clear(&s);
}
END_TEST

START_TEST(test_haproxy_down_no_stale_series)
{
	struct bridge_ctl_status c = {0};
	char *text = render(NULL, &c);
	ck_assert_uint_eq(assert_well_formed(text), 4);
	assert_line(text, "lb_haproxy_up 0");
	assert_line(text, "lb_controller_up 0");
	assert_line(
		text,
		"lb_build_info{version=\"0.1.0\",haproxy_version=\"2.6.12-1+deb12u4\",openssl_version=\"3.0.11\"} 1");
	assert_line(text, "# TYPE lb_tls_certificate_expiry_timestamp_seconds gauge");
	assert_line(text, "lb_tls_certificate_expiry_timestamp_seconds 1900000000");
	assert_no(text, "lb_backend");
	assert_no(text, "lb_active_connections");
	assert_no(text, "lb_total_connections");
	free(text);
}
END_TEST

/* No certificate read: no expiry series; a version HAProxy sent is escaped like any label. */
START_TEST(test_info_without_cert)
{
	struct bridge_ctl_status c = {0};
	struct bridge_info info = {"0.1.0", "2.6\"x\n", "3.0.11", 0, 0};
	char *text = render_info(NULL, &c, &info);
	ck_assert_uint_eq(assert_well_formed(text), 3);
	assert_line(text,
		    "lb_build_info{version=\"0.1.0\",haproxy_version=\"2.6\\\"x\\n\",openssl_version=\"3.0.11\"} 1");
	assert_no(text, "lb_tls_certificate");
	free(text);
}
END_TEST

START_TEST(test_controller_up_series)
{
	struct bridge_ctl_status c = {.up = 1,
				      .v = {.time = 1764180000,
					    .last_sync = 1764179999,
					    .redis_ok = 0,
					    .haproxy_ok = 1,
					    .live_nodes = 3,
					    .rejected_members_total = 5,
					    .redis_errors_total = 6}};
	char *text = render(NULL, &c);
	assert_well_formed(text);
	assert_line(text, "lb_controller_up 1");
	assert_line(text, "lb_controller_last_sync_timestamp_seconds 1764179999");
	assert_line(text, "lb_controller_redis_up 0");
	assert_line(text, "lb_controller_haproxy_up 1");
	assert_line(text, "lb_controller_live_nodes 3");
	assert_line(text, "lb_controller_rejected_members_total 5");
	assert_line(text, "lb_controller_redis_errors_total 6");
	assert_line(text, "# TYPE lb_controller_redis_errors_total counter");
	ck_assert_ptr_null(strstr(text, "lb_limit_refused_by_reason_total"));
	free(text);
	c.has_refused = 1;
	c.v.refused_rate_total = 4;
	c.v.refused_concurrency_total = 1;
	c.v.removal_held = 2;
	text = render(NULL, &c);
	assert_well_formed(text);
	assert_line(text, "lb_limit_refused_by_reason_total{reason=\"rate\"} 4");
	assert_line(text, "lb_limit_refused_by_reason_total{reason=\"concurrency\"} 1");
	assert_line(text, "lb_controller_removal_held 2");
	free(text);
}
END_TEST

START_TEST(test_empty_backend_families_still_declared)
{
	struct bridge_snapshot s = {.pid = 1, .fe_found = 1, .be_found = 1};
	struct bridge_ctl_status c = {0};
	char *text = render(&s, &c);
	assert_well_formed(text);
	assert_line(text, "lb_backends 0");
	assert_line(text, "lb_backends_healthy 0");
	assert_line(text, "# TYPE lb_backend_health_check_failures counter");
	assert_no(text, "lb_backend_up{");
	free(text);
}
END_TEST

START_TEST(test_label_escaped_and_duplicate_skipped)
{
	struct bridge_node nodes[2] = {
		{.label = "a\"b\\c\nd", .scur = 4, .up = 1},
		{.label = "dup", .scur = 9, .skip = 1},
	};
	struct bridge_snapshot s = {.be_found = 1, .nodes = nodes, .n_nodes = 2};
	struct bridge_ctl_status c = {0};
	char *text = render(&s, &c);
	assert_well_formed(text);
	assert_line(text, "lb_backend_active_connections{backend=\"a\\\"b\\\\c\\nd\"} 4");
	assert_no(text, "dup");
	assert_line(text, "lb_backends 1");
	free(text);
}
END_TEST

START_TEST(test_ten_thousand_nodes)
{
	struct bridge_snapshot s = {.pid = 1, .fe_found = 1, .be_found = 1, .n_nodes = 10000};
	s.nodes = calloc(s.n_nodes, sizeof(*s.nodes));
	ck_assert_ptr_nonnull(s.nodes);
	for (size_t i = 0; i < s.n_nodes; i++) {
		char label[32];
		snprintf(label, sizeof(label), "10.%zu.%zu.1:7000", i / 250, i % 250);
		s.nodes[i].label = strdup(label);
		s.nodes[i].scur = i;
		s.nodes[i].up = 1;
		s.nodes[i].check_ok = 1;
		s.nodes[i].check_duration_s = 0.001;
	}
	struct bridge_ctl_status c = {0};
	char *text = render(&s, &c);
	ck_assert_uint_ge(assert_well_formed(text), 10000 * 10);
	assert_line(text, "lb_backend_active_connections{backend=\"10.39.249.1:7000\"} 9999");
	assert_line(text, "lb_backends_healthy 10000");
	free(text);
	bridge_snapshot_clear(&s);
}
END_TEST

START_TEST(test_limit_series)
{
	struct bridge_snapshot s = {.pid = 1,
				    .fe_found = 1,
				    .fe_has_dcon = 1,
				    .fe_dcon = 12,
				    .table_found = 1,
				    .table_size = 100000,
				    .table_used = 91234};
	struct bridge_ctl_status c = {0};
	char *text = render(&s, &c);
	assert_well_formed(text);
	assert_line(text, "lb_limit_refused_connections_total 12");
	assert_line(text, "lb_limit_table_entries 91234");
	assert_line(text, "lb_limit_table_size 100000");
	assert_line(text, "# TYPE lb_limit_table_entries gauge");
	assert_line(text, "# TYPE lb_limit_table_size gauge");
	assert_no(text, "lb_limit_throttled_bytes_total");
	free(text);
	s.bw_found = 1;
	s.bw_throttled = 1011000;
	text = render(&s, &c);
	assert_well_formed(text);
	assert_line(text, "lb_limit_throttled_bytes_total 1011000");
	assert_line(text, "# TYPE lb_limit_throttled_bytes_total counter");
	free(text);
	/* No dcon column, no table listed, no Lua limit: no series rather than a made-up 0. */
	s.fe_has_dcon = 0;
	s.table_found = 0;
	s.bw_found = 0;
	text = render(&s, &c);
	assert_well_formed(text);
	assert_no(text, "lb_limit_");
	free(text);
}
END_TEST

static Suite *bridge_render_suite(void)
{
	Suite *s = suite_create("bridge_render");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_captured_values);
	tcase_add_test(tc, test_haproxy_down_no_stale_series);
	tcase_add_test(tc, test_info_without_cert);
	tcase_add_test(tc, test_controller_up_series);
	tcase_add_test(tc, test_empty_backend_families_still_declared);
	tcase_add_test(tc, test_label_escaped_and_duplicate_skipped);
	tcase_add_test(tc, test_ten_thousand_nodes);
	tcase_add_test(tc, test_limit_series);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(bridge_render_suite()); }
