/* The connection settings' ownership: a copy owns every string, a copy that runs out of memory
 * half-way leaves nothing behind, a clear frees and zeroes whatever state it finds; and a
 * connection keeps its own copy. No socket is opened. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "redis_conn.h"
#include "unit.h"

/* The library's strdup while a test arms it: the call numbered strdup_fail (1 the first)
 * returns NULL, as when memory runs out half-way through a copy. 0: never fails. */
static int strdup_fail, strdup_calls;

char *strdup(const char *s)
{
	if (strdup_fail != 0 && ++strdup_calls == strdup_fail)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	return d != NULL ? memcpy(d, s, n) : NULL;
}

/* Every setting set, the strings in a buffer of the test's, so a copy that borrowed would show. */
static char strings[7][32] = {"redis.example", "mcs",         "s3cret",        "/ca.pem",
			      "/client.pem",   "/client.key", "redis.internal"};

static struct redis_conn_opts full(void)
{
	struct redis_conn_opts o = {.host = strings[0],
				    .port = 6380,
				    .user = strings[1],
				    .password = strings[2],
				    .db = 3,
				    .tls = 1,
				    .ca_file = strings[3],
				    .cert_file = strings[4],
				    .key_file = strings[5],
				    .server_name = strings[6],
				    .timeout_ms = 1500};
	resp_limits_for_pairs(&o.limits, 100);
	return o;
}

/* The string members of o in the order of strings[]. */
static void members(const struct redis_conn_opts *o, const char *out[7])
{
	const char *v[7] = {o->host, o->user, o->password, o->ca_file, o->cert_file, o->key_file, o->server_name};
	memcpy(out, v, sizeof(v));
}

static void assert_zeroed(const struct redis_conn_opts *o)
{
	static const struct redis_conn_opts zero;
	ck_assert_int_eq(memcmp(o, &zero, sizeof(zero)), 0);
}

START_TEST(test_copy_owns_every_string)
{
	struct redis_conn_opts src = full(), dst;
	const char *got[7];
	ck_assert_int_eq(redis_conn_opts_copy(&dst, &src), 0);
	members(&dst, got);
	for (size_t i = 0; i < N_ELEMS(strings); i++) {
		ck_assert_ptr_nonnull(got[i]);
		ck_assert_ptr_ne(got[i], strings[i]);
		ck_assert_str_eq(got[i], strings[i]);
	}
	ck_assert_uint_eq(dst.port, 6380);
	ck_assert_uint_eq(dst.db, 3);
	ck_assert_int_eq(dst.tls, 1);
	ck_assert_uint_eq(dst.timeout_ms, 1500);
	ck_assert_int_eq(memcmp(&dst.limits, &src.limits, sizeof(src.limits)), 0);
	/* The caller's strings change or go: the copy does not. */
	strings[2][0] = 'X';
	ck_assert_str_eq(dst.password, "s3cret");
	strings[2][0] = 's';
	redis_conn_opts_clear(&dst);
	assert_zeroed(&dst);
}
END_TEST

START_TEST(test_copy_keeps_absent_strings_absent)
{
	struct redis_conn_opts src = {.host = "h", .port = 1}, dst;
	ck_assert_int_eq(redis_conn_opts_copy(&dst, &src), 0);
	ck_assert_str_eq(dst.host, "h");
	ck_assert_ptr_null(dst.user);
	ck_assert_ptr_null(dst.password);
	ck_assert_ptr_null(dst.ca_file);
	ck_assert_ptr_null(dst.cert_file);
	ck_assert_ptr_null(dst.key_file);
	ck_assert_ptr_null(dst.server_name);
	redis_conn_opts_clear(&dst);
	assert_zeroed(&dst);
}
END_TEST

/* Out of memory at each string in turn: -1 and no string left (LeakSanitizer sees the rest). */
START_TEST(test_copy_failure_leaves_nothing)
{
	struct redis_conn_opts src = full(), dst;
	const char *got[7];
	strdup_calls = 0;
	strdup_fail = _i + 1;
	int rc = redis_conn_opts_copy(&dst, &src);
	strdup_fail = 0;
	ck_assert_int_eq(rc, -1);
	members(&dst, got);
	for (size_t i = 0; i < N_ELEMS(strings); i++)
		ck_assert_ptr_null(got[i]);
	redis_conn_opts_clear(&dst); /* and clearing it again is harmless */
	assert_zeroed(&dst);
}
END_TEST

START_TEST(test_clear_zeroed_and_partial)
{
	struct redis_conn_opts o = {0};
	redis_conn_opts_clear(&o);
	assert_zeroed(&o);
	redis_conn_opts_clear(NULL);
	/* Half-way through filling: some strings own, the rest still NULL. */
	o.host = strdup("h");
	o.password = strdup("pw");
	o.key_file = strdup("/k.pem");
	o.port = 6379;
	o.tls = 1;
	redis_conn_opts_clear(&o);
	assert_zeroed(&o);
}
END_TEST

/* A connection copies its settings: the caller's may go at once. */
START_TEST(test_conn_keeps_a_copy)
{
	struct redis_conn_opts src = full();
	struct redis_conn *c = redis_conn_new(&src);
	ck_assert_ptr_nonnull(c);
	const struct redis_conn_opts *o = redis_conn_get_opts(c);
	ck_assert_ptr_ne(o->password, strings[2]);
	ck_assert_str_eq(o->password, "s3cret");
	ck_assert_uint_eq(o->db, 3);
	char addr[300];
	redis_conn_addr(c, addr, sizeof(addr));
	ck_assert_str_eq(addr, "redis.example:6380");
	ck_assert_int_eq(redis_conn_set_addr(c, "::1", 26379), 0);
	redis_conn_addr(c, addr, sizeof(addr));
	ck_assert_str_eq(addr, "[::1]:26379");
	ck_assert_str_eq(redis_conn_get_opts(c)->user, "mcs");
	redis_conn_free(c);
	redis_conn_free(NULL);
	/* No host: "" (errors name the server). */
	struct redis_conn_opts none = {.port = 1};
	c = redis_conn_new(&none);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(redis_conn_get_opts(c)->host, "");
	redis_conn_free(c);
	/* Out of memory in the copy: NULL. */
	strdup_calls = 0;
	strdup_fail = 4;
	c = redis_conn_new(&src);
	strdup_fail = 0;
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_set_addr)
{
	struct redis_conn_opts src = full(), o;
	ck_assert_int_eq(redis_conn_opts_copy(&o, &src), 0);
	ck_assert_int_eq(redis_conn_opts_set_addr(&o, "10.0.0.2", 6390), 0);
	ck_assert_str_eq(o.host, "10.0.0.2");
	ck_assert_uint_eq(o.port, 6390);
	ck_assert_str_eq(o.server_name, "redis.internal");
	/* Out of memory: unchanged. */
	strdup_calls = 0;
	strdup_fail = 1;
	int rc = redis_conn_opts_set_addr(&o, "10.0.0.3", 1);
	strdup_fail = 0;
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(o.host, "10.0.0.2");
	ck_assert_uint_eq(o.port, 6390);
	redis_conn_opts_clear(&o);
}
END_TEST

static Suite *redis_conn_suite(void)
{
	Suite *s = suite_create("redis_conn");
	TCase *tc = tcase_create("opts");
	tcase_add_test(tc, test_copy_owns_every_string);
	tcase_add_loop_test(tc, test_copy_failure_leaves_nothing, 0, N_ELEMS(strings));
	tcase_add_test(tc, test_copy_keeps_absent_strings_absent);
	tcase_add_test(tc, test_clear_zeroed_and_partial);
	tcase_add_test(tc, test_set_addr);
	suite_add_tcase(s, tc);
	tc = tcase_create("conn");
	tcase_add_test(tc, test_conn_keeps_a_copy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(redis_conn_suite()); }
