/* One connection to a Redis server, plain TCP or TLS (OpenSSL), under our control: hiredis
 * only formats commands (redisFormatCommandArgv) and parses replies (redisReader), after
 * resp_scan has bounded what one reply may cost. Every socket operation is non-blocking;
 * redis_conn_connect and redis_conn_command wait with poll() for at most timeout_ms. */
#ifndef MCS_REDIS_CONN_H
#define MCS_REDIS_CONN_H

#include <stddef.h>

#include "resp_scan.h"

struct redisReply;
struct redis_conn;

enum redis_conn_err {
	REDIS_CONN_OK = 0,
	REDIS_CONN_IO,       /* cannot resolve or connect, or the connection broke */
	REDIS_CONN_EOF,      /* the server closed the connection */
	REDIS_CONN_TIMEOUT,  /* no answer within timeout_ms */
	REDIS_CONN_TLS,      /* handshake refused: certificate, host name, not a TLS server, ... */
	REDIS_CONN_PROTOCOL, /* bytes that are not RESP, or a reply over the limits */
	REDIS_CONN_OOM,
};

/* Where a Redis server is and how to talk to it: the one set of connection settings, filled
 * from REDIS_URL and the MCS_REDIS_* TLS variables and handed down to every connection. A
 * struct a caller fills is a view (the strings are borrowed); redis_conn_opts_copy makes one
 * that owns its strings, freed by redis_conn_opts_clear. */
struct redis_conn_opts {
	const char *host; /* name or IP literal (IPv6 without brackets) */
	unsigned port;
	const char *user;        /* AUTH user; NULL: the default user */
	const char *password;    /* AUTH password; NULL: no AUTH */
	unsigned db;             /* SELECT index */
	int tls;                 /* 1: TLS 1.2 or newer, server certificate and name verified */
	const char *ca_file;     /* PEM CA bundle; NULL: the system's CA store */
	const char *cert_file;   /* PEM client certificate (chain) for mutual TLS; NULL: none */
	const char *key_file;    /* its key; NULL: in cert_file */
	const char *server_name; /* name to verify and send as SNI; NULL: host */
	unsigned timeout_ms;     /* bounds redis_conn_connect and each redis_conn_command */
	struct resp_limits limits;
};

/* Makes dst a deep copy of src (dst a struct of its own, not src): every string duplicated.
 * Returns 0, or -1 when out of memory: dst then holds no string (nothing to free). */
int redis_conn_opts_copy(struct redis_conn_opts *dst, const struct redis_conn_opts *src)
	__attribute__((warn_unused_result));

/* Frees the strings of a copy made by redis_conn_opts_copy and zeroes it. A zeroed struct,
 * one whose strings are partly NULL, or NULL is fine; a view of borrowed strings is not. */
void redis_conn_opts_clear(struct redis_conn_opts *o);

/* Points o (a copy) at another server: its host replaced by a copy of host. 0, or -1 when out
 * of memory (o unchanged). */
int redis_conn_opts_set_addr(struct redis_conn_opts *o, const char *host, unsigned port)
	__attribute__((warn_unused_result));

/* Creates a closed connection with a copy of opts (strings included; host NULL is ""). The
 * connection uses the address, TLS, timeout and limits; user, password and db are kept for
 * its owner's AUTH and SELECT (redis_conn_get_opts). NULL when out of memory. */
struct redis_conn *redis_conn_new(const struct redis_conn_opts *opts);

/* Closes and frees c; NULL is a no-op. */
void redis_conn_free(struct redis_conn *c);

/* Points c at another server (a master named by Sentinel); closes it first. 0, or -1 when out
 * of memory (c unchanged but closed). */
int redis_conn_set_addr(struct redis_conn *c, const char *host, unsigned port) __attribute__((warn_unused_result));

/* c's own copy of its settings, host and port those of the server it connects to now. */
const struct redis_conn_opts *redis_conn_get_opts(const struct redis_conn *c);

/* The server c connects to: "host:port" ([v6]:port) into buf. */
void redis_conn_addr(const struct redis_conn *c, char *buf, size_t len);

/* Closes the connection (pending output and replies dropped); c can be opened again. */
void redis_conn_close(struct redis_conn *c);

/* Starts connecting without blocking (the name is resolved at once). Returns 0, or -1 with
 * the error set. Then call redis_conn_progress when redis_conn_events are ready. */
int redis_conn_open(struct redis_conn *c) __attribute__((warn_unused_result));

/* Carries the TCP connect and the TLS handshake on. Returns 1 ready, 0 in progress (wait for
 * redis_conn_events), -1 failed (closed, error set). */
int redis_conn_progress(struct redis_conn *c) __attribute__((warn_unused_result));

/* Opens and waits until ready, for at most timeout_ms. Returns 0, or -1 (closed, error set). */
int redis_conn_connect(struct redis_conn *c) __attribute__((warn_unused_result));

/* The poll() events the connection waits for now (0 when closed). */
short redis_conn_events(const struct redis_conn *c);

/* The socket, or -1 when closed. */
int redis_conn_fd(const struct redis_conn *c);

/* 1 when connected (handshake done), else 0. */
int redis_conn_ready(const struct redis_conn *c);

/* Turns TCP keepalive on: a silent subscriber notices a vanished server. 0, or -1. */
int redis_conn_keepalive(struct redis_conn *c) __attribute__((warn_unused_result));

/* Queues a command (lens NULL: the argv are C strings). 0, or -1 when out of memory. */
int redis_conn_append(struct redis_conn *c, int argc, const char **argv, const size_t *lens)
	__attribute__((warn_unused_result));

/* Writes queued output without blocking. Returns 1 all written, 0 more to write, -1 error. */
int redis_conn_flush(struct redis_conn *c) __attribute__((warn_unused_result));

/* 1 when queued output is waiting to be written. */
int redis_conn_write_pending(const struct redis_conn *c);

/* Reads once without blocking and hands the bytes to the scanner and the reader. Returns 1
 * bytes read, 0 none available, -1 error or EOF (closed, error set). */
int redis_conn_read(struct redis_conn *c) __attribute__((warn_unused_result));

/* Takes the next complete reply already read: 0 with *reply (NULL when none yet; the caller
 * frees it with freeReplyObject), or -1 on a protocol error (closed, error set). */
int redis_conn_reply(struct redis_conn *c, struct redisReply **reply) __attribute__((warn_unused_result));

/* Sends one command and waits for its reply, connecting first when closed, all within
 * timeout_ms. Returns the reply (caller frees with freeReplyObject; an error reply is a
 * reply) or NULL with the error set and the connection closed. */
struct redisReply *redis_conn_command(struct redis_conn *c, int argc, const char **argv, const size_t *lens);

enum redis_conn_err redis_conn_err(const struct redis_conn *c);

/* One line on the last failure, naming the server; "" after success. Points into c. */
const char *redis_conn_errstr(const struct redis_conn *c);

#endif
