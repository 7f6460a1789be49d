/* The one monotonic clock of the daemons, in milliseconds: deadlines and intervals that a
 * change of the wall clock (NTP, an operator) must not stretch or cut short. */
#ifndef MCS_MONO_H
#define MCS_MONO_H

#include <stdint.h>

/* Milliseconds since an arbitrary point (CLOCK_MONOTONIC): only differences mean anything. */
uint64_t mono_now_ms(void);

/* Milliseconds from now_ms until deadline_ms as a poll() timeout: 0 when it has passed,
 * at most INT_MAX. */
int mono_ms_left(uint64_t deadline_ms, uint64_t now_ms);

#endif
