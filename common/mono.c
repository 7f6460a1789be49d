/* The monotonic clock (see mono.h). */
#include "mono.h"

#include <limits.h>
#include <time.h>

uint64_t mono_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int mono_ms_left(uint64_t deadline_ms, uint64_t now_ms)
{
	if (deadline_ms <= now_ms)
		return 0;
	return deadline_ms - now_ms > (uint64_t)INT_MAX ? INT_MAX : (int)(deadline_ms - now_ms);
}
