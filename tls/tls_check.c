/* Certificate and key checks with OpenSSL 3, run before HAProxy loads the pair, and the atomic
 * writer of the combined PEM (chain, then key) that HAProxy 2.6's `crt` needs. */
#include "tls_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "afile.h"
#include "text.h"

struct tls_pair {
	STACK_OF(X509) * chain; /* leaf first; owned */
	EVP_PKEY *key;          /* owned */
};

struct tls_buf {
	char *data; /* file contents; wiped on free since it may hold a key */
	size_t len;
};

/* One PEM block as PEM_read_bio returns it; every field is OpenSSL-allocated. */
struct tls_pem {
	char *name;   /* "CERTIFICATE", "EC PRIVATE KEY", ... */
	char *header; /* "Proc-Type: 4,ENCRYPTED\n..." for legacy encrypted keys, else "" */
	unsigned char *data;
	long len;
};

static void tls_buf_free(struct tls_buf *buf)
{
	OPENSSL_clear_free(buf->data, buf->len + 1);
	buf->data = NULL;
	buf->len = 0;
}

static int tls_file_stat(const char *what, const char *path, int fd, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s %s: cannot stat: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: is %s, not a PEM file", what, path,
			 S_ISDIR(st.st_mode) ? "a directory" : "a special file");
		return -1;
	}
	if (st.st_size > TLS_FILE_MAX) {
		snprintf(err, errlen, "%s %s: is %lld bytes, over the 1 MiB limit for a PEM file", what, path,
			 (long long)st.st_size);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s %s: is empty", what, path);
		return -1;
	}
	return 0;
}

/* Reads a whole regular file of at most TLS_FILE_MAX bytes, NUL-terminated, into buf. */
static int tls_file_read(const char *what, const char *path, struct tls_buf *buf, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO planted at the path must not hang the check. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		snprintf(err, errlen, "%s %s: cannot open: %s", what, path, strerror(errno));
		return -1;
	}
	if (tls_file_stat(what, path, fd, err, errlen) == -1)
		goto fail;
	buf->data = OPENSSL_zalloc(TLS_FILE_MAX + 1);
	if (buf->data == NULL) {
		snprintf(err, errlen, "%s %s: out of memory", what, path);
		goto fail;
	}
	while (buf->len < TLS_FILE_MAX) {
		ssize_t n = read(fd, buf->data + buf->len, TLS_FILE_MAX - buf->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s %s: cannot read: %s", what, path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		buf->len += (size_t)n;
	}
	close(fd);
	if (buf->len == 0) {
		snprintf(err, errlen, "%s %s: is empty", what, path);
		return -1;
	}
	return 0;
fail:
	close(fd);
	return -1;
}

static void tls_pem_clear(struct tls_pem *pem)
{
	OPENSSL_free(pem->name);
	OPENSSL_free(pem->header);
	OPENSSL_clear_free(pem->data, pem->len > 0 ? (size_t)pem->len : 0);
	memset(pem, 0, sizeof(*pem));
}

/* Reads the next PEM block: 1 when one was read, 0 at the end of the data, -1 when a block
 * is malformed (bad base64, missing END line). */
static int tls_pem_next(BIO *bio, struct tls_pem *pem)
{
	tls_pem_clear(pem);
	if (PEM_read_bio(bio, &pem->name, &pem->header, &pem->data, &pem->len) == 1)
		return 1;
	unsigned long e = ERR_peek_last_error();
	ERR_clear_error();
	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE ? 0 : -1;
}

static int tls_pem_is_key(const struct tls_pem *pem)
{
	size_t n = strlen(pem->name), suffix = strlen("PRIVATE KEY");
	return n >= suffix && strcmp(pem->name + n - suffix, "PRIVATE KEY") == 0;
}

static int tls_pem_is_cert(const struct tls_pem *pem)
{
	return strcmp(pem->name, PEM_STRING_X509) == 0 || strcmp(pem->name, PEM_STRING_X509_OLD) == 0;
}

/* Adds the certificate in pem to chain; blocks counts from 1 for the message. */
static int tls_chain_push(STACK_OF(X509) * chain, const struct tls_pem *pem, int block, const char *path, char *err,
			  size_t errlen)
{
	const unsigned char *p = pem->data;
	X509 *x = d2i_X509(NULL, &p, pem->len);
	if (x == NULL) {
		snprintf(err, errlen, "certificate %s: PEM block %d is not a valid X.509 certificate", path, block);
		return -1;
	}
	if (sk_X509_push(chain, x) == 0) {
		X509_free(x);
		snprintf(err, errlen, "certificate %s: out of memory", path);
		return -1;
	}
	return 0;
}

/* Loads every certificate of the file, in order, into a new stack (caller frees with
 * sk_X509_pop_free(chain, X509_free)). */
static int tls_chain_load(const char *path, const char *key_path, const struct tls_buf *buf, STACK_OF(X509) * *out,
			  char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(buf->data, (int)buf->len);
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct tls_pem pem = {0};
	int r, block = 0;
	snprintf(err, errlen, "certificate %s: out of memory", path);
	if (bio == NULL || chain == NULL)
		goto fail;
	while ((r = tls_pem_next(bio, &pem)) == 1) {
		block++;
		if (tls_pem_is_key(&pem)) {
			snprintf(err, errlen,
				 "certificate %s: holds a private key (PEM block %d): keep only the "
				 "certificate chain in it and the key in %s",
				 path, block, key_path);
			goto fail;
		}
		if (tls_pem_is_cert(&pem) && tls_chain_push(chain, &pem, block, path, err, errlen) == -1)
			goto fail;
	}
	if (r == -1) {
		snprintf(err, errlen, "certificate %s: PEM block %d is malformed (bad base64 or no END line)", path,
			 block + 1);
		goto fail;
	}
	if (sk_X509_num(chain) == 0) {
		snprintf(err, errlen, "certificate %s: holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path);
		goto fail;
	}
	BIO_free(bio);
	*out = chain;
	return 0;
fail:
	tls_pem_clear(&pem);
	BIO_free(bio);
	sk_X509_pop_free(chain, X509_free);
	return -1;
}

/* Writes t as "2026-01-31 23:59:59 UTC", or "an unreadable date". */
static void tls_time_format(const ASN1_TIME *t, char *out, size_t outlen)
{
	struct tm tm;
	if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, outlen, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, outlen, "an unreadable date");
}

/* Only the leaf's dates matter: an expired cross-signed root at the end of a chain is
 * common and harmless, clients build their own path. */
static int tls_leaf_check_time(const char *path, X509 *leaf, char *err, size_t errlen)
{
	char when[64];
	const ASN1_TIME *not_after = X509_get0_notAfter(leaf), *not_before = X509_get0_notBefore(leaf);
	if (X509_cmp_current_time(not_after) != 1) {
		tls_time_format(not_after, when, sizeof(when));
		snprintf(err, errlen, "certificate %s expired on %s (notAfter)", path, when);
		return -1;
	}
	if (X509_cmp_current_time(not_before) != -1) {
		tls_time_format(not_before, when, sizeof(when));
		snprintf(err, errlen, "certificate %s is not valid before %s (notBefore): check the clock", path, when);
		return -1;
	}
	return 0;
}

/* Finds exactly one private key block and refuses encrypted ones before OpenSSL decodes. */
static int tls_key_scan(const char *path, const struct tls_buf *buf, char *err, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(buf->data, (int)buf->len);
	struct tls_pem pem = {0};
	int r, block = 0, keys = 0, ret = -1;
	snprintf(err, errlen, "private key %s: out of memory", path);
	if (bio == NULL)
		return -1;
	while ((r = tls_pem_next(bio, &pem)) == 1) {
		block++;
		if (!tls_pem_is_key(&pem))
			continue;
		if (strstr(pem.name, "ENCRYPTED") != NULL ||
		    (pem.header != NULL && strstr(pem.header, "ENCRYPTED") != NULL)) {
			snprintf(err, errlen,
				 "private key %s is encrypted (HAProxy cannot prompt for a passphrase): "
				 "store it unencrypted, mode 0600",
				 path);
			goto done;
		}
		keys++;
	}
	if (r == -1)
		snprintf(err, errlen, "private key %s: PEM block %d is malformed (bad base64 or no END line)", path,
			 block + 1);
	else if (keys == 0)
		snprintf(err, errlen,
			 "private key %s: holds no PEM private key (-----BEGIN PRIVATE KEY-----, "
			 "RSA PRIVATE KEY or EC PRIVATE KEY)",
			 path);
	else if (keys > 1)
		snprintf(err, errlen, "private key %s: holds %d private keys, expected one", path, keys);
	else
		ret = 0;
done:
	tls_pem_clear(&pem);
	BIO_free(bio);
	return ret;
}

/* Refuses instead of prompting on a terminal for a passphrase. */
static int tls_no_passphrase(char *buf, int size, int rwflag, void *u) { return -1; }

/* Loads the one unencrypted key of the file (caller frees with EVP_PKEY_free). */
static int tls_key_load(const char *path, const struct tls_buf *buf, EVP_PKEY **out, char *err, size_t errlen)
{
	if (tls_key_scan(path, buf, err, errlen) == -1)
		return -1;
	BIO *bio = BIO_new_mem_buf(buf->data, (int)buf->len);
	if (bio == NULL) {
		snprintf(err, errlen, "private key %s: out of memory", path);
		return -1;
	}
	/* The same call HAProxy makes, so what passes here loads there. */
	*out = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase, NULL);
	BIO_free(bio);
	if (*out == NULL) {
		snprintf(err, errlen, "private key %s: is not a valid private key (corrupt or unsupported key data)",
			 path);
		return -1;
	}
	return 0;
}

static int tls_pair_match(const char *cert_path, const char *key_path, STACK_OF(X509) * chain, EVP_PKEY *key, char *err,
			  size_t errlen)
{
	if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(chain, 0)), key) == 1)
		return 0;
	for (int i = 1; i < sk_X509_num(chain); i++) {
		if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(chain, i)), key) == 1) {
			snprintf(err, errlen,
				 "private key %s matches certificate %d of %s, not the first: put the "
				 "server certificate first, then its chain",
				 key_path, i + 1, cert_path);
			return -1;
		}
	}
	snprintf(err, errlen, "private key %s does not match certificate %s", key_path, cert_path);
	return -1;
}

static void tls_pair_free(struct tls_pair *pair)
{
	sk_X509_pop_free(pair->chain, X509_free);
	pair->chain = NULL;
	EVP_PKEY_free(pair->key);
	pair->key = NULL;
}

/* Loads and checks the pair into *pair (caller frees with tls_pair_free, also on failure). */
static int tls_pair_load(struct tls_pair *pair, const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct tls_buf cert = {0}, key = {0};
	int ret = -1;
	if (tls_file_read("certificate", cert_path, &cert, err, errlen) == -1 ||
	    tls_chain_load(cert_path, key_path, &cert, &pair->chain, err, errlen) == -1 ||
	    tls_leaf_check_time(cert_path, sk_X509_value(pair->chain, 0), err, errlen) == -1 ||
	    tls_file_read("private key", key_path, &key, err, errlen) == -1 ||
	    tls_key_load(key_path, &key, &pair->key, err, errlen) == -1 ||
	    tls_pair_match(cert_path, key_path, pair->chain, pair->key, err, errlen) == -1)
		goto done;
	ret = 0;
done:
	tls_buf_free(&cert);
	tls_buf_free(&key);
	return ret;
}

int tls_check_pair(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct tls_pair pair = {0};
	ERR_clear_error();
	int ret = tls_pair_load(&pair, cert_path, key_path, err, errlen);
	tls_pair_free(&pair);
	ERR_clear_error();
	if (ret == -1)
		text_printable_copy(err, errlen, err); /* a path or block name cannot break the line */
	return ret;
}

/* Serialises the chain then the key (unencrypted PKCS#8) into a new memory BIO (caller frees). */
static BIO *tls_pair_to_pem(const struct tls_pair *pair)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return NULL;
	for (int i = 0; i < sk_X509_num(pair->chain); i++) {
		if (PEM_write_bio_X509(bio, sk_X509_value(pair->chain, i)) != 1)
			goto fail;
	}
	if (PEM_write_bio_PrivateKey(bio, pair->key, NULL, NULL, 0, NULL, NULL) != 1)
		goto fail;
	return bio;
fail:
	BIO_free(bio);
	return NULL;
}

static int tls_pair_write(const struct tls_pair *pair, const char *out_path, char *err, size_t errlen)
{
	BIO *bio = tls_pair_to_pem(pair);
	if (bio == NULL) {
		snprintf(err, errlen, "combined PEM %s: cannot encode the certificate chain and key", out_path);
		return -1;
	}
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	/* Synced: HAProxy may load it at any moment, and a reload after a crash must find it whole. */
	char why[4096 + 128];
	int ret = afile_write(out_path, data, (size_t)len, 0600, AFILE_SYNC | AFILE_PRIVATE, why, sizeof(why));
	if (ret == -1)
		snprintf(err, errlen, "combined PEM %s: %s", out_path, why);
	BIO_free(bio); /* a memory BIO clears its buffer on free */
	return ret;
}

int tls_write_combined(const char *cert_path, const char *key_path, const char *out_path, char *err, size_t errlen)
{
	if (strcmp(out_path, cert_path) == 0 || strcmp(out_path, key_path) == 0) {
		snprintf(err, errlen, "combined PEM %s: must not overwrite its own input", out_path);
		text_printable_copy(err, errlen, err); /* a path or block name cannot break the line */
		return -1;
	}
	struct tls_pair pair = {0};
	ERR_clear_error();
	int ret = tls_pair_load(&pair, cert_path, key_path, err, errlen);
	if (ret == 0)
		ret = tls_pair_write(&pair, out_path, err, errlen);
	tls_pair_free(&pair);
	ERR_clear_error();
	if (ret == -1)
		text_printable_copy(err, errlen, err); /* a path or block name cannot break the line */
	return ret;
}
