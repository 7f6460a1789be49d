/* libFuzzer target: redis_watch_parse over whatever replies hiredis's reader makes of the
 * input (RESP bytes as a subscribed Redis would send them). */
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "redis_watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* hiredis 0.14's reader allocates an aggregate's element array from its "*<count>" header
 * before any element arrives, so "*6222222184" is a 50 GB malloc inside hiredis, not in our
 * code (the Redis server is the one that could send it). Skip counts over five digits. */
static int fuzz_huge_count(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (data[i] != '*' && data[i] != '$')
			continue;
		size_t j = i + 1, digits = 0;
		if (j < size && data[j] == '-')
			j++;
		while (j < size && data[j] >= '0' && data[j] <= '9') {
			j++;
			digits++;
		}
		if (digits > 5)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char channel[] = "__keyspace@0__:mcs:node";
	if (fuzz_huge_count(data, size))
		return 0;
	redisReader *rd = redisReaderCreate();
	if (rd == NULL)
		return 0;
	if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
		void *reply;
		/* Bounded like redis_watch_read: a reply at a time until the reader has no more. */
		for (int i = 0; i < 64 && redisReaderGetReply(rd, &reply) == REDIS_OK && reply != NULL; i++) {
			unsigned events = 0;
			(void)redis_watch_parse(reply, channel, sizeof(channel) - 1, &events);
			if (events & ~(REDIS_WATCH_ZADD | REDIS_WATCH_OTHER))
				__builtin_trap();
			freeReplyObject(reply);
		}
	}
	(void)redis_watch_parse(NULL, channel, sizeof(channel) - 1, &(unsigned){0});
	redisReaderFree(rd);
	return 0;
}
