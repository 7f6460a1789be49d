/* Integration-test harness: real redis-server, haproxy (the project's haproxy.cfg) and
 * mcs-lb-controller in a fresh temp dir, demo chat nodes, heartbeats and TLS clients, all on
 * 127.0.0.1 with ports from port 0. Servers live in check's unchecked fixtures (the suite
 * process); anything a test itself starts is stopped when that test's process exits. Heartbeats
 * are a thread, and a thread is a test's: they start in a test or a checked fixture. */
#ifndef MCS_TEST_HARNESS_H
#define MCS_TEST_HARNESS_H

#include <check.h>
#include <hiredis/hiredis.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define H_NAME_MAX 64 /* "ip:port" and process names */
#define H_PATH_MAX 512
#define H_MAX_PROCS 64
#define H_MAX_SERVERS 64
#define H_STEP_MS 25 /* granularity of every wait loop */

/* A process we spawned (fork/exec), stdout+stderr in <dir>/<name>.log. */
struct h_proc {
	pid_t pid;             /* 0 once stopped or exited */
	pid_t owner;           /* process that forked it: only it can wait for it */
	int status;            /* wait status once reaped */
	char name[H_NAME_MAX]; /* also the log name */
	char log[H_PATH_MAX];
};

/* Controller settings a suite may change (0: the harness default). */
struct h_opts {
	unsigned ttl_ms;                   /* MCS_NODE_TTL_MS, default 5000 */
	unsigned poll_ms;                  /* MCS_POLL_MS, default 1000 */
	unsigned check_inter_ms;           /* MCS_CHECK_INTER_MS, default 500 */
	int without_controller;            /* 1: redis and haproxy only (tests add servers themselves) */
	const char *const *controller_env; /* extra "NAME=value" for the controller, NULL-terminated; later wins */
	const char *bind_addr;          /* MCS_BIND_ADDR of haproxy, default 127.0.0.1 (e.g. "::1" for IPv6 clients) */
	const char *const *haproxy_env; /* extra "NAME=value" for haproxy (at most 15), NULL-terminated; later wins */
	const char *const *redis_args; /* extra redis-server arguments (at most 36, e.g. --tls-port), NULL-terminated */
};

/* The suite's world: one per test executable. */
struct h_env {
	char dir[H_PATH_MAX];     /* mkdtemp */
	char run_dir[H_PATH_MAX]; /* MCS_RUN_DIR: admin.sock, stats.sock, server.pem */
	char tls_dir[H_PATH_MAX]; /* server.cert, server.key */
	char admin_sock[H_PATH_MAX], stats_sock[H_PATH_MAX];
	int redis_port, mcs_port;
	struct h_proc *redis, *haproxy, *controller;
	struct h_opts opts;
	pid_t main_pid;
};

extern struct h_env H;

/* ---- suite life cycle ---- */

/* Runs the suite (fork mode): checks that haproxy, redis-server and openssl exist (missing:
 * exit 77, or 1 when CI=true), makes the temp dir, runs every test, stops what is left, then
 * removes the temp dir (kept when MCS_IT_KEEP is set), or on failure prints the servers' logs
 * and keeps it. Returns the exit status for main. */
int h_main(Suite *s);

/* Unchecked-fixture helpers: start redis, a dev certificate, haproxy and the controller (each
 * ready by protocol), or stop them all. h_gateway_start aborts the test case on failure. */
void h_gateway_start(const struct h_opts *opts);
void h_gateway_stop(void);

/* Last harness error, one line (valid until the next harness call that fails). */
const char *h_error(void);

/* ---- time ---- */
uint64_t h_now_ms(void); /* monotonic */
void h_sleep_ms(unsigned ms);

/* Evaluates cond every H_STEP_MS until it holds or timeout_ms passed; yields its last value. */
#define H_WAIT(timeout_ms, cond)                                                                                       \
	({                                                                                                             \
		uint64_t h_end_ = h_now_ms() + (timeout_ms);                                                           \
		int h_ok_;                                                                                             \
		while (!(h_ok_ = !!(cond)) && h_now_ms() < h_end_)                                                     \
			h_sleep_ms(H_STEP_MS);                                                                         \
		h_ok_;                                                                                                 \
	})

/* Checks cond every H_STEP_MS for duration_ms and yields 0 at its first failure, 1 when it held
 * throughout: for "nothing changes meanwhile", instead of a fixed sleep and a single look. */
#define H_HOLDS(duration_ms, cond)                                                                                     \
	({                                                                                                             \
		uint64_t h_end_ = h_now_ms() + (duration_ms);                                                          \
		int h_ok_;                                                                                             \
		while ((h_ok_ = !!(cond)) && h_now_ms() < h_end_)                                                      \
			h_sleep_ms(H_STEP_MS);                                                                         \
		h_ok_;                                                                                                 \
	})

/* ---- processes ---- */

/* A free TCP port on 127.0.0.1 (bound to port 0, then released), or -1. */
int h_free_port(void);

/* Starts argv (argv[0] searched in PATH and the sbin dirs) with extra "NAME=value" env entries
 * (NULL-terminated, may be NULL), stdin /dev/null, stdout+stderr appended to <dir>/<name>.log.
 * Returns the process slot, or NULL (h_error). */
struct h_proc *h_spawn(const char *name, const char *const argv[], const char *const env[]);

/* SIGTERM, SIGKILL after timeout_ms, reap. Returns the wait status, or -1 if not running.
 * A process spawned by another process (a suite server, seen from a test) is stopped the
 * same way but left for its owner to reap; then 0 is returned. */
int h_proc_stop(struct h_proc *p, unsigned timeout_ms);

/* 1 while the process runs (not exited, not a zombie). */
int h_proc_running(struct h_proc *p);

/* Runs argv to completion (setsid: no terminal to prompt on), output captured into out.
 * Returns the exit status, or -1 on a signal, a timeout or a spawn failure (h_error). */
int h_run(const char *const argv[], char *out, size_t outlen, unsigned timeout_ms);

/* Reads a whole file into a malloc'd NUL-terminated string (caller frees), or NULL. */
char *h_read_file(const char *path, size_t *len_out);

/* 1 when the log of p has a line containing every non-NULL needle (up to 3). */
int h_log_has(const struct h_proc *p, const char *a, const char *b, const char *c);

/* ---- redis ---- */

/* Starts redis-server on H.redis_port (picked on the first call; a restart reuses it), ready
 * when PING answers. 0, or -1 (h_error). */
int h_redis_start(void);
int h_redis_stop(void);

/* Runs a command on this process's own connection (reconnects as needed). Returns the reply
 * (caller frees with freeReplyObject), or NULL when Redis cannot be reached. */
redisReply *h_redis_cmd(const char *fmt, ...);

/* Redis TIME in seconds, or -1. */
long long h_redis_time(void);

/* ZADD mcs:node <score> member (binary-safe). Score 0 means Redis TIME, with microseconds. 0, or -1. */
int h_zadd(const char *member, size_t len, long long score);

/* ---- heartbeats (a background thread of the calling test process) ---- */

/* ZADDs member now (Redis TIME), then every period_ms until removed, for at most 120 s.
 * Returns 0, or -1 when the first ZADD failed (the member stays in the set regardless).
 * Called in the suite's own process (an unchecked fixture) it adds nothing and returns -1:
 * check forks each test from there, and the copies would hold a thread that does not run. */
int h_hb_add(const char *member);

/* Stops heartbeating member; returns h_now_ms() of its last successful ZADD (0: none). After
 * this returns no further ZADD of member is sent. */
uint64_t h_hb_remove(const char *member);

/* ---- demo chat nodes ---- */

struct h_node {
	struct h_proc *proc;
	int port;
	char name[H_NAME_MAX]; /* "127.0.0.1:<port>", the member and the server name */
};

/* Starts mcs-lb-demo-node --listen 127.0.0.1:0 (no Redis: tests heartbeat themselves) and
 * reads its port from the first stdout line. 0, or -1 (h_error). */
int h_node_start(struct h_node *n);

/* The same with one more option for the node (e.g. "--proxy-v2"), or none for NULL. */
int h_node_start_with(struct h_node *n, const char *option);

/* Starts n nodes, heartbeats each one, and waits until every one is a ready server of backend
 * mcs. 0, or -1 (h_error). */
int h_nodes_up(struct h_node *v, int n, unsigned timeout_ms);

/* Index of the node called name in v, or -1. */
int h_node_index(const struct h_node *v, int n, const char *name);

/* ---- certificates ---- */

enum h_key_fmt {
	H_KEY_EC_PKCS8,  /* "BEGIN PRIVATE KEY" */
	H_KEY_EC_SEC1,   /* "BEGIN EC PRIVATE KEY" */
	H_KEY_RSA_PKCS1, /* "BEGIN RSA PRIVATE KEY" */
};

/* Makes a self-signed CN=localhost certificate and a key of that format with the openssl CLI,
 * and checks the key file's PEM header. 0, or -1 (h_error). */
int h_make_cert(const char *cert, const char *key, enum h_key_fmt fmt);

/* Runs mcs-lb-tls-check CERT KEY [OUT]; output in msg. Returns its exit status, or -1. */
int h_tls_check(const char *cert, const char *key, const char *out, char *msg, size_t msglen);

/* ---- haproxy ---- */

/* Starts `haproxy -W -db -f haproxy.cfg -f <run_dir>/servers.cfg` as docker/entry/haproxy.sh does
 * (the controller's servers file; an empty `backend mcs` is written when there is none) with
 * MCS_RUN_DIR=run_dir, MCS_PORT=port, MCS_HAPROXY_DIR (haproxy.cfg's directory),
 * MCS_BIND_ADDR=H.opts.bind_addr and the test settings; run_dir must hold server.pem. Ready
 * when `show info` answers on admin.sock. */
struct h_proc *h_haproxy_start(const char *name, const char *run_dir, int port);

/* The haproxy.cfg h_haproxy_start runs (the project's haproxy/haproxy.cfg). */
const char *h_haproxy_cfg(void);

/* Sends one command on a runtime socket and reads the whole reply (until HAProxy closes).
 * Returns a malloc'd reply (caller frees), or NULL (h_error). */
char *h_hap_cmd(const char *sock, const char *cmd);

/* One row of `show servers state mcs`. */
struct h_srv {
	char name[H_NAME_MAX];
	char addr[H_NAME_MAX];
	int port;
	int op_state;    /* 0 stopped (down), 1 starting, 2 running, 3 stopping */
	int admin_state; /* flags: 0x01 forced maint, 0x08 forced drain, ... */
	int uweight;
	int agent_state; /* flags: 0x02 configured, 0x04 enabled, 0x10 an agent; -1 unknown */
};

/* Reads `show servers state mcs` from sock. Returns the number of rows (at most max), or -1. */
int h_servers(const char *sock, struct h_srv *v, int max);

/* The row named name, or NULL. */
const struct h_srv *h_srv_find(const struct h_srv *v, int n, const char *name);

/* 1 when name is in backend mcs, running and neither in maintenance nor drained. */
int h_srv_ready(const char *name);

/* Reads one `show stat` field (by header name) of proxy/server from the stats socket.
 * Returns 0 with the text in out, or -1. */
int h_stat(const char *proxy, const char *server, const char *field, char *out, size_t outlen);

/* The field as a number, or -1. */
long h_stat_num(const char *proxy, const char *server, const char *field);

/* ---- controller ---- */
struct h_proc *h_controller_start(const struct h_opts *opts);

/* ---- TLS clients ---- */

struct h_client {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char node[H_NAME_MAX];    /* from the greeting "HELLO <ip:port>" */
	char seen_as[H_NAME_MAX]; /* a --proxy-v2 node's "HELLO <ip:port> for <client>": the client; else "" */
};

/* Connects to 127.0.0.1:port and completes a TLS handshake limited to [min_ver, max_ver]
 * (0: OpenSSL's default); below TLS 1.2 the client lowers its own security level so that only
 * the server can refuse. Returns the client, or NULL with the reason (OpenSSL's text) in err. */
struct h_client *h_tls_open(int port, int min_ver, int max_ver, char *err, size_t errlen);

/* The same to addr ("127.0.0.1", "::1", ...). */
struct h_client *h_tls_open_addr(const char *addr, int port, int min_ver, int max_ver, char *err, size_t errlen);

/* Reads the greeting line into c->node. 0, or -1 with the reason in err. */
int h_client_hello(struct h_client *c, unsigned timeout_ms, char *err, size_t errlen);

/* h_tls_open with defaults plus h_client_hello: a client that landed on a node. */
struct h_client *h_client_connect(int port, char *err, size_t errlen);

/* The same to addr ("127.0.0.1", "::1", ...). */
struct h_client *h_client_connect_addr(const char *addr, int port, char *err, size_t errlen);

/* Sends msg and reads the same bytes back. 0, or -1 with the reason in err. */
int h_client_echo(struct h_client *c, const char *msg, unsigned timeout_ms, char *err, size_t errlen);

/* Closes and frees; NULL is a no-op. */
void h_client_close(struct h_client *c);

/* 1 when the DER of the peer's leaf certificate equals the first certificate of pem_path. */
int h_client_cert_is(const struct h_client *c, const char *pem_path);

#endif
