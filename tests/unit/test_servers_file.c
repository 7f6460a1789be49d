/* The servers file: what HAProxy loads at start must be exactly the backend the controller
 * keeps, and nothing an invalid entry could smuggle in. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "servers_file.h"
#include "unit.h"

static const struct hap_check_opts check = {3000, 3, 2, 100, 0};

static const char header[] = "# Written by mcs-lb-controller after every change: the chat nodes HAProxy serves,\n"
			     "# loaded at start so a reload or restart keeps them. Do not edit: it is rewritten.\n";

START_TEST(test_render_empty)
{
	size_t skipped = 99;
	char *text = servers_file_render("mcs", NULL, 0, &check, NULL, &skipped);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(skipped, 0);
	char want[512];
	snprintf(want, sizeof(want), "%sbackend mcs\n", header);
	ck_assert_str_eq(text, want);
	free(text);
}
END_TEST

START_TEST(test_render_with_agent)
{
	const struct servers_file_entry v[] = {
		{"10.0.0.5:7000", "10.0.0.5", 7000, 1},
		{"2001:db8::1:7001", "2001:db8:0::1", 7001, 12},
	};
	const struct hap_agent_opts agent = {"127.0.0.1", 5555, 1000, "ignored"};
	size_t skipped = 99;
	char *text = servers_file_render("mcs", v, 2, &check, &agent, &skipped);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(skipped, 0);
	char want[2048];
	snprintf(
		want, sizeof(want),
		"%sbackend mcs\n"
		"    server 10.0.0.5:7000 10.0.0.5:7000 check inter 3000 fall 3 rise 2 weight 100 agent-check agent-addr "
		"127.0.0.1 agent-port 5555 agent-inter 1000 agent-send 10.0.0.5:7000/ id 1\n"
		"    server 2001:db8::1:7001 [2001:db8::1]:7001 check inter 3000 fall 3 rise 2 weight 100 agent-check "
		"agent-addr 127.0.0.1 agent-port 5555 agent-inter 1000 agent-send 2001:db8::1:7001/ id 12\n",
		header);
	ck_assert_str_eq(text, want);
	free(text);
}
END_TEST

/* MCS_SEND_PROXY=v2: a server loaded from the file sends the header like one added at run time. */
START_TEST(test_render_send_proxy)
{
	const struct servers_file_entry v[] = {{"10.0.0.5:7000", "10.0.0.5", 7000, 3}};
	const struct hap_check_opts proxied = {3000, 3, 2, 100, 1};
	const struct hap_agent_opts agent = {"127.0.0.1", 5555, 0, "ignored"};
	size_t skipped = 99;
	char *text = servers_file_render("mcs", v, 1, &proxied, &agent, &skipped);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(skipped, 0);
	char want[1024];
	snprintf(want, sizeof(want),
		 "%sbackend mcs\n"
		 "    server 10.0.0.5:7000 10.0.0.5:7000 check inter 3000 fall 3 rise 2 weight 100 send-proxy-v2 "
		 "check-send-proxy agent-check agent-addr 127.0.0.1 agent-port 5555 agent-send 10.0.0.5:7000/ id 3\n",
		 header);
	ck_assert_str_eq(text, want);
	free(text);
}
END_TEST

/* Entries that cannot be written are left out and counted; the rest still are. */
START_TEST(test_render_skips_invalid)
{
	const struct servers_file_entry v[] = {
		{"a b", "10.0.0.1", 80, 1},             /* a space would add words */
		{"x", "10.0.0.1\nbackend evil", 80, 2}, /* not an address */
		{"y", "", 80, 3},                       /* HAProxy printed "-" */
		{"z", "10.0.0.1", 0, 4},                /* port 0 */
		{"w", "10.0.0.1", 80, 0},               /* id 0 */
		{"10.0.0.9:80", "10.0.0.9", 80, 5},
	};
	size_t skipped = 0;
	char *text = servers_file_render("mcs", v, 6, &check, NULL, &skipped);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(skipped, 5);
	ck_assert_ptr_nonnull(
		strstr(text, "\n    server 10.0.0.9:80 10.0.0.9:80 check inter 3000 fall 3 rise 2 weight 100 id 5\n"));
	ck_assert_ptr_null(strstr(text, "evil"));
	/* Exactly one server line. */
	ck_assert_ptr_null(strstr(strstr(text, "    server ") + 1, "    server "));
	free(text);
}
END_TEST

START_TEST(test_write_atomic)
{
	char dir[] = "/tmp/mcs-sf-test.XXXXXX", path[256], err[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/servers.cfg", dir);
	ck_assert_int_eq(servers_file_write(path, "backend mcs\n", err, sizeof(err)), 0);
	ck_assert_int_eq(servers_file_write(path, "backend mcs\n    server a 10.0.0.1:80 id 1\n", err, sizeof(err)), 0);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char buf[256] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "backend mcs\n    server a 10.0.0.1:80 id 1\n");
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(access(tmp, F_OK), -1); /* no temporary left behind */
	unlink(path);
	rmdir(dir);
	/* A directory that does not exist: a one-line reason naming the file. */
	ck_assert_int_eq(servers_file_write("/nonexistent-dir/servers.cfg", "x", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/servers.cfg.tmp"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("servers_file");
	TCase *tc = tcase_create("servers_file");
	tcase_add_test(tc, test_render_empty);
	tcase_add_test(tc, test_render_with_agent);
	tcase_add_test(tc, test_render_send_proxy);
	tcase_add_test(tc, test_render_skips_invalid);
	tcase_add_test(tc, test_write_atomic);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
