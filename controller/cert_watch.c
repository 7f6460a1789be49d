/* Certificate hot reload: stat-based change detection with a settle delay, validation with
 * tls_check, the combined PEM rewritten atomically, then a runtime-API transaction. */
#include "cert_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hap_conn.h"
#include "mono.h"
#include "text.h"
#include "tls_check.h"

#define CERT_NAME_MAX 255

struct cert_watch {
	char *cert_path, *key_path, *combined_path, *crt_name;
	struct cert_watch_state st;
};

static int cert_sig_eq(const struct cert_pair_sig *a, const struct cert_pair_sig *b)
{
	const struct cert_file_sig *f[2][2] = {{&a->cert, &b->cert}, {&a->key, &b->key}};
	for (int i = 0; i < 2; i++) {
		const struct cert_file_sig *x = f[i][0], *y = f[i][1];
		if (x->err != y->err || x->dev != y->dev || x->ino != y->ino || x->size != y->size ||
		    x->mtime_ns != y->mtime_ns)
			return 0;
	}
	return 1;
}

enum cert_watch_next cert_watch_decide(struct cert_watch_state *st, const struct cert_pair_sig *now, uint64_t now_ms,
				       uint64_t settle_ms)
{
	if ((st->has_applied && cert_sig_eq(now, &st->applied)) ||
	    (st->has_refused && cert_sig_eq(now, &st->refused))) {
		st->has_pending = 0;
		return CERT_WATCH_IDLE;
	}
	if (!st->has_pending || !cert_sig_eq(now, &st->pending)) {
		st->pending = *now;
		st->pending_since_ms = now_ms;
		st->has_pending = 1;
		return CERT_WATCH_WAIT;
	}
	return now_ms - st->pending_since_ms < settle_ms ? CERT_WATCH_WAIT : CERT_WATCH_APPLY;
}

/* stat() follows symlinks: a mounted secret swapped by renaming its link shows a new inode. */
static void cert_file_stat(const char *path, struct cert_file_sig *sig)
{
	struct stat st;
	memset(sig, 0, sizeof(*sig));
	if (stat(path, &st) == -1) {
		sig->err = errno;
		return;
	}
	sig->dev = st.st_dev;
	sig->ino = st.st_ino;
	sig->size = (unsigned long long)st.st_size;
	sig->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

static void cert_pair_stat(const struct cert_watch *w, struct cert_pair_sig *sig)
{
	cert_file_stat(w->cert_path, &sig->cert);
	cert_file_stat(w->key_path, &sig->key);
}

static int cert_name_valid(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > CERT_NAME_MAX)
		return 0;
	/* One word of a runtime-API command: no control byte, no space, no ';' or '\\'. */
	if (text_has_control(s, n) || strpbrk(s, " ;\\") != NULL)
		return 0;
	return n < 2 || strcmp(s + n - 2, "<<") != 0;
}

struct cert_watch *cert_watch_new(const char *cert_path, const char *key_path, const char *combined_path,
				  const char *hap_crt_name)
{
	if (cert_path == NULL || key_path == NULL || combined_path == NULL || !cert_name_valid(hap_crt_name))
		return NULL;
	struct cert_watch *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->cert_path = strdup(cert_path);
	w->key_path = strdup(key_path);
	w->combined_path = strdup(combined_path);
	w->crt_name = strdup(hap_crt_name);
	if (!w->cert_path || !w->key_path || !w->combined_path || !w->crt_name) {
		cert_watch_free(w);
		return NULL;
	}
	/* The pair HAProxy loaded at start is the one joined into the combined PEM: if that file
	 * is at least as new as both sources, they are what HAProxy serves. */
	struct cert_file_sig comb;
	cert_file_stat(combined_path, &comb);
	cert_pair_stat(w, &w->st.applied);
	w->st.has_applied = comb.err == 0 && w->st.applied.cert.err == 0 && w->st.applied.key.err == 0 &&
			    comb.mtime_ns >= w->st.applied.cert.mtime_ns && comb.mtime_ns >= w->st.applied.key.mtime_ns;
	return w;
}

void cert_watch_free(struct cert_watch *w)
{
	if (w == NULL)
		return;
	free(w->cert_path);
	free(w->key_path);
	free(w->combined_path);
	free(w->crt_name);
	free(w);
}

/* Reads the combined PEM (it holds the key: wiped by the caller with OPENSSL_clear_free). */
static char *cert_read_file(const char *path, size_t *len, char *msg, size_t msglen)
{
	size_t cap = 2 * TLS_FILE_MAX + 1;
	char *buf = OPENSSL_malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	*len = 0;
	if (buf == NULL || fd == -1) {
		snprintf(msg, msglen, "certificate: cannot read %s: %s", path, buf ? strerror(errno) : "out of memory");
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(msg, msglen, "certificate: cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0 || (*len += (size_t)n) == cap)
			break;
	}
	close(fd);
	buf[*len] = '\0';
	return buf;
fail:
	if (fd != -1)
		close(fd);
	OPENSSL_clear_free(buf, cap + 1);
	return NULL;
}

/* "subject CN=..., notAfter ..., SHA-256 AB:..." of the first certificate of pem. */
static void cert_describe(const char *pem, size_t len, char *out, size_t outlen)
{
	char subject[256] = "?", not_after[64] = "?", fp[EVP_MAX_MD_SIZE * 3 + 1] = "?";
	BIO *in = BIO_new_mem_buf(pem, (int)len), *mem = BIO_new(BIO_s_mem());
	X509 *x = in != NULL ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (x != NULL && mem != NULL) {
		X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
		int n = BIO_read(mem, subject, sizeof(subject) - 1);
		subject[n > 0 ? n : 0] = '\0';
		(void)BIO_reset(mem);
		ASN1_TIME_print(mem, X509_get0_notAfter(x));
		n = BIO_read(mem, not_after, sizeof(not_after) - 1);
		not_after[n > 0 ? n : 0] = '\0';
	}
	if (x != NULL && X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(fp + 3 * i, sizeof(fp) - 3 * i, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
	snprintf(out, outlen, "subject %s, notAfter %s, SHA-256 %s", subject, not_after, fp);
	X509_free(x);
	BIO_free(in);
	BIO_free(mem);
	ERR_clear_error();
}

enum cert_swap { CERT_SWAP_OK, CERT_SWAP_REFUSED, CERT_SWAP_RETRY };

/* A failed exchange: HAProxy unreachable is worth retrying, anything else is not. */
static enum cert_swap cert_hap_failed(struct hap_conn *c, char *msg, size_t msglen)
{
	enum hap_err e = hap_conn_err(c);
	snprintf(msg, msglen, "certificate not swapped: %s (%s)%s", hap_conn_errstr(c), hap_err_name(e),
		 e == HAP_ERR_INVALID ? "; HAProxy loads the new pair at its next restart"
				      : "; the old certificate stays");
	return e == HAP_ERR_IO || e == HAP_ERR_EOF || e == HAP_ERR_TIMEOUT ? CERT_SWAP_RETRY : CERT_SWAP_REFUSED;
}

/* Drops a transaction left open by a refused set or commit; HAProxy may answer "[3]: No ongoing
 * transaction!", which is fine. */
static void cert_hap_abort(struct cert_watch *w, struct hap_conn *c)
{
	char cmd[CERT_NAME_MAX + 32], *reply = NULL;
	snprintf(cmd, sizeof(cmd), "abort ssl cert %s", w->crt_name);
	if (hap_conn_cmd(c, cmd, &reply) == 0 || hap_conn_err(c) == HAP_ERR_REJECTED)
		free(reply);
}

/* set ssl cert + commit ssl cert; a commit that does not say "Success!" is aborted. */
static enum cert_swap cert_hap_swap(struct cert_watch *w, struct hap_conn *c, const char *pem, size_t len, char *msg,
				    size_t msglen)
{
	char cmd[CERT_NAME_MAX + 32], *reply = NULL;
	snprintf(cmd, sizeof(cmd), "set ssl cert %s", w->crt_name);
	if (hap_conn_cmd_payload(c, cmd, pem, len, &reply) == -1) {
		free(reply);
		enum cert_swap r = cert_hap_failed(c, msg, msglen);
		if (hap_conn_err(c) == HAP_ERR_REJECTED)
			cert_hap_abort(w, c);
		return r;
	}
	free(reply);
	snprintf(cmd, sizeof(cmd), "commit ssl cert %s", w->crt_name);
	int rc = hap_conn_cmd(c, cmd, &reply);
	if (rc == 0 && strstr(reply, "Success!") != NULL) {
		free(reply);
		return CERT_SWAP_OK;
	}
	enum cert_swap r = CERT_SWAP_REFUSED;
	if (rc == -1)
		r = cert_hap_failed(c, msg, msglen);
	else
		snprintf(msg, msglen,
			 "certificate not swapped: commit ssl cert %s: no \"Success!\" in \"%.80s\"; the old "
			 "certificate stays",
			 w->crt_name, reply);
	free(reply);
	cert_hap_abort(w, c);
	return r;
}

static enum cert_swap cert_apply(struct cert_watch *w, struct hap_conn *c, char *msg, size_t msglen)
{
	char err[512], about[512];
	size_t len = 0;
	if (tls_check_pair(w->cert_path, w->key_path, err, sizeof(err)) == -1 ||
	    tls_write_combined(w->cert_path, w->key_path, w->combined_path, err, sizeof(err)) == -1) {
		snprintf(msg, msglen, "certificate refused, the old one stays: %s", err);
		return CERT_SWAP_REFUSED;
	}
	char *pem = cert_read_file(w->combined_path, &len, msg, msglen);
	if (pem == NULL)
		return CERT_SWAP_RETRY;
	cert_describe(pem, len, about, sizeof(about));
	enum cert_swap r = cert_hap_swap(w, c, pem, len, msg, msglen);
	OPENSSL_clear_free(pem, 2 * TLS_FILE_MAX + 2);
	if (r == CERT_SWAP_OK)
		snprintf(msg, msglen, "certificate swapped into HAProxy (%s): %s", w->crt_name, about);
	return r;
}

int cert_watch_step(struct cert_watch *w, struct hap_conn *c, char *msg, size_t msglen)
{
	struct cert_pair_sig now;
	if (msglen > 0)
		msg[0] = '\0';
	cert_pair_stat(w, &now);
	if (cert_watch_decide(&w->st, &now, mono_now_ms(), CERT_WATCH_SETTLE_MS) != CERT_WATCH_APPLY)
		return 0;
	switch (cert_apply(w, c, msg, msglen)) {
	case CERT_SWAP_OK:
		w->st.applied = now;
		w->st.has_applied = 1;
		w->st.has_refused = 0;
		w->st.has_pending = 0;
		return 1;
	case CERT_SWAP_REFUSED:
		w->st.refused = now;
		w->st.has_refused = 1;
		w->st.has_pending = 0;
		return -1;
	case CERT_SWAP_RETRY:
		break;
	}
	return -1;
}
