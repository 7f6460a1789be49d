/* Client of HAProxy's runtime API over its unix socket: one persistent connection in prompt
 * mode, one command at a time, each reply read whole up to the "\n> " prompt. */
#ifndef MCS_HAP_CONN_H
#define MCS_HAP_CONN_H

#include <stddef.h>

/* Error classes: retry IO, EOF and TIMEOUT with backoff (the next command reconnects); log
 * REJECTED and PROTOCOL with the command and HAProxy's text. */
enum hap_err {
	HAP_OK = 0,
	HAP_ERR_IO,       /* connect, send or recv failed (errno text in errstr) */
	HAP_ERR_EOF,      /* HAProxy closed the connection (restart, reload, `stats timeout`) */
	HAP_ERR_TIMEOUT,  /* no complete reply within timeout_ms */
	HAP_ERR_PROTOCOL, /* unexpected handshake reply, or a reply over HAP_REPLY_MAX */
	HAP_ERR_REJECTED, /* HAProxy refused the command: its message is in errstr */
	HAP_ERR_INVALID,  /* the command itself was refused before sending */
	HAP_ERR_OOM,
};

#define HAP_CMD_MAX 4096                   /* longest command accepted, in bytes */
#define HAP_REPLY_MAX (64UL * 1024 * 1024) /* longest reply read, in bytes */

struct hap_conn;

/* Creates a client for the unix socket at socket_path (copied); every hap_conn_cmd gets
 * timeout_ms in total, reconnecting included. Does not connect yet. Returns NULL on OOM or on
 * bad arguments (NULL or empty path, path too long for a unix socket, timeout_ms <= 0).
 * Free with hap_conn_free. */
struct hap_conn *hap_conn_new(const char *socket_path, int timeout_ms);

/* Closes the connection and frees c. NULL is a no-op. */
void hap_conn_free(struct hap_conn *c);

/* Runs one command: connects first if needed (sends `prompt` and `set severity-output number`),
 * sends cmd plus "\n" and reads the reply until the "\n> " prompt. Blocks for at most timeout_ms.
 * An idle connection HAProxy has closed (`stats timeout`, a restart) is noticed before sending
 * and replaced silently. Not thread-safe: one hap_conn per thread.
 * cmd must be 1..HAP_CMD_MAX bytes without ';' or any byte below 0x20 (so one call is one
 * command, whatever the text came from); otherwise HAP_ERR_INVALID and nothing is sent.
 * Returns 0 with *reply set to a malloc'd NUL-terminated string (caller frees): everything
 * HAProxy wrote before the final "> ", which keeps the reply's last "\n" and is byte for
 * byte what `echo cmd | socat - UNIX:sock` prints, except that messages carry their
 * "[N]: " severity prefix (e.g. "[6]: New server registered.\n\n"; "\n" for a silent success).
 * Returns -1 with hap_conn_err/hap_conn_errstr set otherwise:
 *   HAP_ERR_REJECTED: a reply starting "[0-3]: " or "[N]: Unknown command"; *reply still holds
 *     the whole reply (caller frees), the connection stays open;
 *   any other class: *reply is NULL; on IO, EOF, TIMEOUT, PROTOCOL and OOM during a read the
 *     connection is closed and the next call reconnects. After EOF or TIMEOUT the command may
 *     or may not have run: read the state back before repeating a change. */
int hap_conn_cmd(struct hap_conn *c, const char *cmd, char **reply) __attribute__((warn_unused_result));

/* Longest command plus payload hap_conn_cmd_payload sends, in bytes: HAProxy 2.6 reads the whole
 * of it into one CLI buffer (tune.bufsize, 16384 by default) and silently closes the connection
 * when it does not fit (verified on 2.6.12: 16345 bytes pass, 18067 bytes close). */
#define HAP_PAYLOAD_MAX 16000

/* Runs "cmd <<" followed by payload (len bytes, e.g. a PEM for `set ssl cert <name>`) and the
 * empty line that ends it, as one exchange on the same connection as hap_conn_cmd; blocks for at
 * most timeout_ms. cmd passes the same checks as in hap_conn_cmd (so it must not itself end with
 * "<<"). payload must be 1 or more bytes without NUL or any control byte but '\n', without an
 * empty line (HAProxy ends the payload at the first one; the rest would run as commands), and
 * cmd + payload must fit HAP_PAYLOAD_MAX; a missing final '\n' is added. Otherwise
 * HAP_ERR_INVALID and nothing is sent. The "+ " prompts HAProxy writes while it reads the payload
 * are dropped, so *reply reads like hap_conn_cmd's (e.g. "[5]: Transaction created for
 * certificate run/server.pem!\n\n"). Returns and fails exactly like hap_conn_cmd. */
int hap_conn_cmd_payload(struct hap_conn *c, const char *cmd, const char *payload, size_t len, char **reply)
	__attribute__((warn_unused_result));

/* Class of the last hap_conn_cmd's error, HAP_OK after a success. */
enum hap_err hap_conn_err(const struct hap_conn *c);

/* One line naming the command (cut at 48 bytes) and the problem; "" after a success.
 * Points into c, valid until the next call on c. */
const char *hap_conn_errstr(const struct hap_conn *c);

/* Drops the connection, if any; the next hap_conn_cmd reconnects. */
void hap_conn_close(struct hap_conn *c);

/* Static name of an error class ("IO", "REJECTED", ...) for log lines. */
const char *hap_err_name(enum hap_err err);

#endif
