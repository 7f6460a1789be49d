/* What the harness_*.c files share among themselves and the suites do not use: the error
 * buffer, the test-process cleanup, and helpers more than one module calls. */
#ifndef MCS_TEST_HARNESS_PRIVATE_H
#define MCS_TEST_HARNESS_PRIVATE_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "harness.h"

#ifndef H_CONTROLLER_BIN
#error "meson defines H_CONTROLLER_BIN, H_TLS_CHECK_BIN, H_DEMO_NODE_BIN, H_HAPROXY_CFG"
#endif

#define H_NODE_KEY "mcs:node"
#define H_STOP_TIMEOUT_MS 5000
#define H_READY_TIMEOUT_MS 10000

/* Sets the text h_error returns. */
void h_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Finds prog (a path, or a name searched in PATH and the sbin dirs) into out. 0, or -1. */
int h_which(const char *prog, char *out, size_t outlen);

/* Stops everything the calling process started, newest first. */
void h_stop_owned(void);

/* In a test process (not the suite's): arranges, once, that its exit stops its heartbeats and
 * the processes it started. */
void h_child_cleanup_arm(void);

/* Stops the calling process's heartbeat thread, if it runs one. */
void h_hb_shutdown(void);

/* A new connection to the suite's Redis with timeout_ms for connect and replies, or NULL. The
 * caller frees it with redisFree. */
redisContext *h_redis_connect(unsigned timeout_ms);

/* Formats a TIME reply as a score with microseconds into out and frees r. 0, or -1. */
int h_time_score(redisReply *r, char *out, size_t outlen);

/* On a failed suite: prints the tails of the servers' logs and names the other logs. */
void h_dump_logs(void);

#endif
