/* libFuzzer target: resp_scan_feed on arbitrary bytes, fed whole and in two parts (the verdict
 * must not depend on where a read splits the stream), and what it accepts handed to hiredis's
 * reader as redis_conn does. */
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "resp_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp_limits lim = {.max_elements = 64, .max_bulk = 256, .max_bytes = 2048, .max_depth = 3};
	struct resp_scan whole, split;
	resp_scan_init(&whole, &lim);
	resp_scan_init(&split, &lim);
	int a = resp_scan_feed(&whole, (const char *)data, size);
	size_t cut = size ? data[0] % (size + 1) : 0;
	int b = resp_scan_feed(&split, (const char *)data, cut);
	if (b == 0)
		b = resp_scan_feed(&split, (const char *)data + cut, size - cut);
	if (a != b)
		__builtin_trap();
	if (a == 0) {
		redisReader *r = redisReaderCreate();
		if (r != NULL && redisReaderFeed(r, (const char *)data, size) == REDIS_OK) {
			void *reply;
			while (redisReaderGetReply(r, &reply) == REDIS_OK && reply != NULL)
				freeReplyObject(reply);
		}
		redisReaderFree(r);
	}
	return 0;
}
