/* Certificate hot reload: notices a changed tls/server.cert or tls/server.key (stat only, once
 * per controller step), validates the pair once it has settled, rewrites the combined PEM that
 * HAProxy loads at start, and swaps it into the running HAProxy over the runtime API
 * (`set ssl cert <name> <<` + `commit ssl cert <name>`) without dropping a connection. */
#ifndef MCS_CERT_WATCH_H
#define MCS_CERT_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct hap_conn;
struct cert_watch;

#define CERT_WATCH_SETTLE_MS 300 /* a changed pair is read once unchanged for a step and this long */

/* Creates a watcher. cert_path and key_path are the operator's files, combined_path the PEM
 * HAProxy's `crt` loads at start (rewritten atomically on every swap), hap_crt_name the crt
 * path exactly as HAProxy knows it (its bind line, `${MCS_RUN_DIR}/server.pem` expanded; see
 * `show ssl cert`): 1..255 bytes without space, backslash, ';' or control byte. All copied.
 * The current pair counts as already loaded when combined_path is at least as new as both
 * files; otherwise the first steps swap it in. Returns NULL on OOM or an invalid argument. */
struct cert_watch *cert_watch_new(const char *cert_path, const char *key_path, const char *combined_path,
				  const char *hap_crt_name);

/* Frees w; NULL is a no-op. */
void cert_watch_free(struct cert_watch *w);

/* One step: stats both files (cheap). Returns
 *   0  nothing to do: unchanged, still settling, or the same pair that was refused before;
 *   1  swapped: msg names the new leaf ("certificate swapped into HAProxy: subject CN=...,
 *      notAfter ..., SHA-256 AB:CD:..."), and combined_path holds the new pair;
 *  -1  msg has one line saying why not. A pair that fails validation (tls_check_pair), is
 *      too large for the runtime API, or that HAProxy refuses is not tried again until one of
 *      the files changes; HAProxy keeps serving the old certificate (a refused commit is
 *      aborted). When HAProxy cannot be reached (IO, EOF, TIMEOUT) the swap is retried at the
 *      next step with the same message, so log -1 when the message changes. */
int cert_watch_step(struct cert_watch *w, struct hap_conn *c, char *msg, size_t msglen);

/* ---- the pure decision, unit-tested ---- */

struct cert_file_sig {
	int err; /* errno of a failed stat, else 0 (then the fields below are set) */
	unsigned long long dev, ino, size;
	long long mtime_ns;
};

struct cert_pair_sig {
	struct cert_file_sig cert, key;
};

struct cert_watch_state {
	struct cert_pair_sig applied; /* the pair HAProxy serves, when has_applied */
	struct cert_pair_sig refused; /* the last pair refused, when has_refused: not retried */
	struct cert_pair_sig pending; /* a change waiting to settle, when has_pending */
	uint64_t pending_since_ms;
	int has_applied, has_refused, has_pending;
};

enum cert_watch_next {
	CERT_WATCH_IDLE,  /* nothing changed (or only back to a known pair) */
	CERT_WATCH_WAIT,  /* changed, not settled yet */
	CERT_WATCH_APPLY, /* changed and unchanged for a step and settle_ms: validate and swap */
};

/* Compares the pair's signature now (at now_ms) with st and updates st->pending. */
enum cert_watch_next cert_watch_decide(struct cert_watch_state *st, const struct cert_pair_sig *now, uint64_t now_ms,
				       uint64_t settle_ms);

#endif
