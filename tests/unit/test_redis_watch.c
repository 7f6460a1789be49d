/* Keyspace-notification parsing: raw RESP bytes, as Redis 7 sends them in SUBSCRIBE mode, fed
 * through hiredis's reader and classified; the channel name and the notify-keyspace-events test. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "redis_watch.h"
#include "unit.h"

#define CHAN "__keyspace@0__:mcs:node"

static const struct {
	const char *resp;
	int rc;
	unsigned events;
} msgs[] = {
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$4\r\nzadd\r\n", 0, REDIS_WATCH_ZADD},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$4\r\nzrem\r\n", 0, REDIS_WATCH_OTHER},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$16\r\nzremrangebyscore\r\n", 0, REDIS_WATCH_OTHER},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$3\r\ndel\r\n", 0, REDIS_WATCH_OTHER},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$7\r\nexpired\r\n", 0, REDIS_WATCH_OTHER},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$11\r\nrename_from\r\n", 0, REDIS_WATCH_OTHER},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$5\r\nzincr\r\n", 0, REDIS_WATCH_OTHER},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$5\r\nzadd2\r\n", 0, REDIS_WATCH_OTHER},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n$0\r\n\r\n", 0, REDIS_WATCH_OTHER},
	/* ignored: the subscribe confirmation, another channel, a longer or shorter name */
	{"*3\r\n$9\r\nsubscribe\r\n$23\r\n" CHAN "\r\n:1\r\n", 0, 0},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n__keyspace@1__:mcs:node\r\n$4\r\nzadd\r\n", 0, 0},
	{"*3\r\n$7\r\nmessage\r\n$24\r\n" CHAN "x\r\n$4\r\nzadd\r\n", 0, 0},
	{"*3\r\n$7\r\nmessage\r\n$22\r\n__keyspace@0__:mcs:nod\r\n$4\r\nzadd\r\n", 0, 0},
	/* refused: not what SUBSCRIBE mode sends */
	{"-ERR something\r\n", -1, 0},
	{"+OK\r\n", -1, 0},
	{":1\r\n", -1, 0},
	{"$4\r\nzadd\r\n", -1, 0},
	{"*0\r\n", -1, 0},
	{"*2\r\n$7\r\nmessage\r\n$4\r\nzadd\r\n", -1, 0},
	{"*3\r\n$11\r\nunsubscribe\r\n$23\r\n" CHAN "\r\n:0\r\n", -1, 0},
	{"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$23\r\n" CHAN "\r\n$4\r\nzadd\r\n", -1, 0},
	{"*3\r\n$7\r\nmessage\r\n:1\r\n$4\r\nzadd\r\n", -1, 0},
	{"*3\r\n$7\r\nmessage\r\n$23\r\n" CHAN "\r\n*0\r\n", -1, 0},
	{"*3\r\n:7\r\n$23\r\n" CHAN "\r\n$4\r\nzadd\r\n", -1, 0},
};

static redisReply *feed(const char *resp)
{
	redisReader *rd = redisReaderCreate();
	void *reply = NULL;
	ck_assert(rd != NULL);
	ck_assert_int_eq(redisReaderFeed(rd, resp, strlen(resp)), REDIS_OK);
	ck_assert_int_eq(redisReaderGetReply(rd, &reply), REDIS_OK);
	ck_assert_msg(reply != NULL, "incomplete RESP in the table: %s", resp);
	redisReaderFree(rd);
	return reply;
}

START_TEST(test_parse)
{
	redisReply *r = feed(msgs[_i].resp);
	unsigned events = 0;
	ck_assert_int_eq(redis_watch_parse(r, CHAN, strlen(CHAN), &events), msgs[_i].rc);
	ck_assert_uint_eq(events, msgs[_i].events);
	freeReplyObject(r);
}
END_TEST

/* Events accumulate: a burst of heartbeats and one removal is ZADD|OTHER. */
START_TEST(test_parse_accumulates)
{
	unsigned events = REDIS_WATCH_OTHER;
	redisReply *r = feed(msgs[0].resp);
	ck_assert_int_eq(redis_watch_parse(r, CHAN, strlen(CHAN), &events), 0);
	ck_assert_uint_eq(events, REDIS_WATCH_ZADD | REDIS_WATCH_OTHER);
	freeReplyObject(r);
	ck_assert_int_eq(redis_watch_parse(NULL, CHAN, strlen(CHAN), &events), -1);
}
END_TEST

START_TEST(test_channel)
{
	char buf[64];
	ck_assert_int_eq(redis_watch_channel(buf, sizeof(buf), 0, "mcs:node"), 0);
	ck_assert_str_eq(buf, CHAN);
	ck_assert_int_eq(redis_watch_channel(buf, sizeof(buf), 15, "a*b?[c]"), 0);
	ck_assert_str_eq(buf, "__keyspace@15__:a*b?[c]"); /* SUBSCRIBE, not PSUBSCRIBE: no glob */
	ck_assert_int_eq(redis_watch_channel(buf, strlen(CHAN) + 1, 0, "mcs:node"), 0);
	ck_assert_int_eq(redis_watch_channel(buf, strlen(CHAN), 0, "mcs:node"), -1);
	ck_assert_str_eq(buf, "");
}
END_TEST

static const struct {
	const char *flags;
	int ok;
} flags[] = {
	{"Kz", 1}, {"zK", 1}, {"KA", 1}, {"AKE", 1}, {"gzK", 1}, {"Kg$lshzxe", 1}, {"", 0},
	{"K", 0},  {"z", 0},  {"Ez", 0}, {"AE", 0},  {"kz", 0},  {NULL, 0},
};

START_TEST(test_flags)
{
	ck_assert_msg(redis_watch_flags_ok(flags[_i].flags) == flags[_i].ok, "\"%s\"",
		      flags[_i].flags ? flags[_i].flags : "(null)");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redis_watch");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse, 0, (int)N_ELEMS(msgs));
	tcase_add_test(tc, test_parse_accumulates);
	tcase_add_test(tc, test_channel);
	tcase_add_loop_test(tc, test_flags, 0, (int)N_ELEMS(flags));
	suite_add_tcase(s, tc);
	return unit_run(s);
}
