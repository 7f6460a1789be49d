/* tls_check against real files in a temp dir: every accepted key format, every refusal and its
 * one-line message, and the combined PEM HAProxy reads. Keys and certificates are made here. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls_check.h"
#include "unit.h"

#define DAY (24L * 3600)

enum key_fmt { FMT_PKCS1_OR_SEC1, FMT_PKCS8, FMT_PKCS8_ENC, FMT_LEGACY_ENC };

static char basedir[64]; /* one per run, removed by the unchecked teardown even after a failure */
static char tmpdir[96];  /* one per test inside basedir */
static char err[512];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) { return remove(path); }

static void base_setup(void)
{
	snprintf(basedir, sizeof(basedir), "/tmp/test_tls.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(basedir));
}

static void base_teardown(void) { ck_assert_int_eq(nftw(basedir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0); }

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	err[0] = '\0';
}

/* Path of name inside the temp dir; a few rotating static buffers, enough for one call. */
static const char *tpath(const char *name)
{
	static char bufs[8][256];
	static int next;
	char *p = bufs[next++ % 8];
	snprintf(p, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return p;
}

static EVP_PKEY *key_new(int rsa)
{
	EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(k);
	return k;
}

static void key_write(const char *name, EVP_PKEY *k, enum key_fmt fmt)
{
	BIO *bio = BIO_new_file(tpath(name), "w");
	ck_assert_ptr_nonnull(bio);
	const EVP_CIPHER *aes = EVP_aes_128_cbc();
	unsigned char pw[] = "secret";
	int ok = 0;
	switch (fmt) {
	case FMT_PKCS1_OR_SEC1:
		ok = PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0, NULL, NULL);
		break;
	case FMT_PKCS8:
		ok = PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
		break;
	case FMT_PKCS8_ENC:
		ok = PEM_write_bio_PKCS8PrivateKey(bio, k, aes, (char *)pw, 6, NULL, NULL);
		break;
	case FMT_LEGACY_ENC:
		ok = PEM_write_bio_PrivateKey_traditional(bio, k, aes, pw, 6, NULL, NULL);
		break;
	}
	ck_assert_int_eq(ok, 1);
	BIO_free(bio);
}

/* A certificate for key valid from now+from to now+to seconds, signed by issuer (self if NULL). */
static X509 *cert_new(EVP_PKEY *key, const char *cn, long from, long to, X509 *issuer, EVP_PKEY *issuer_key)
{
	static long serial = 1;
	X509 *x = X509_new();
	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(x, key);
	ck_assert_int_gt(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()), 0);
	return x;
}

/* Writes a then b (if not NULL) as PEM certificates into name. */
static void cert_write(const char *name, X509 *a, X509 *b)
{
	BIO *bio = BIO_new_file(tpath(name), "w");
	ck_assert_ptr_nonnull(bio);
	ck_assert_int_eq(PEM_write_bio_X509(bio, a), 1);
	if (b != NULL)
		ck_assert_int_eq(PEM_write_bio_X509(bio, b), 1);
	BIO_free(bio);
}

static void file_write(const char *name, const char *data, size_t len)
{
	FILE *f = fopen(tpath(name), "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Reads name whole into a static buffer, NUL-terminated. */
static const char *file_read(const char *name)
{
	static char buf[64 * 1024];
	FILE *f = fopen(tpath(name), "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A valid EC pair: server.cert and server.key (PKCS#8). */
static void pair_write_ec(void)
{
	EVP_PKEY *k = key_new(0);
	X509 *x = cert_new(k, "localhost", 0, 30 * DAY, NULL, NULL);
	cert_write("server.cert", x, NULL);
	key_write("server.key", k, FMT_PKCS8);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* The check refuses with one line that names path and contains needle; the error queue is empty. */
static void assert_refused(const char *cert, const char *key, const char *path, const char *needle)
{
	ck_assert_int_eq(tls_check_pair(cert, key, err, sizeof(err)), -1);
	ck_assert_msg(strchr(err, '\n') == NULL, "message spans lines: %s", err);
	ck_assert_msg(strstr(err, path) != NULL, "message does not name %s: %s", path, err);
	ck_assert_msg(strstr(err, needle) != NULL, "message lacks \"%s\": %s", needle, err);
	ck_assert_uint_eq(ERR_peek_error(), 0);
}

static void assert_accepted(const char *cert, const char *key)
{
	ck_assert_msg(tls_check_pair(cert, key, err, sizeof(err)) == 0, "refused: %s", err);
	ck_assert_uint_eq(ERR_peek_error(), 0);
}

/* Accepted formats: PKCS#1 RSA, PKCS#8 RSA, PKCS#8 EC, SEC1 EC. */
static const struct {
	int rsa;
	enum key_fmt fmt;
	const char *begin;
} valid_formats[] = {
	{1, FMT_PKCS1_OR_SEC1, "-----BEGIN RSA PRIVATE KEY-----"},
	{1, FMT_PKCS8, "-----BEGIN PRIVATE KEY-----"},
	{0, FMT_PKCS8, "-----BEGIN PRIVATE KEY-----"},
	{0, FMT_PKCS1_OR_SEC1, "-----BEGIN EC PRIVATE KEY-----"},
};

START_TEST(test_valid_format)
{
	EVP_PKEY *k = key_new(valid_formats[_i].rsa);
	X509 *x = cert_new(k, "localhost", 0, 30 * DAY, NULL, NULL);
	cert_write("server.cert", x, NULL);
	key_write("server.key", k, valid_formats[_i].fmt);
	ck_assert_ptr_nonnull(strstr(file_read("server.key"), valid_formats[_i].begin));
	assert_accepted(tpath("server.cert"), tpath("server.key"));
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

/* `openssl ecparam -genkey` writes an EC PARAMETERS block before the key. */
START_TEST(test_valid_sec1_with_ec_parameters)
{
	EVP_PKEY *k = key_new(0);
	X509 *x = cert_new(k, "localhost", 0, 30 * DAY, NULL, NULL);
	cert_write("server.cert", x, NULL);
	key_write("bare.key", k, FMT_PKCS1_OR_SEC1);
	char buf[4096];
	int n = snprintf(buf, sizeof(buf),
			 "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
			 "-----END EC PARAMETERS-----\n%s",
			 file_read("bare.key"));
	file_write("server.key", buf, (size_t)n);
	assert_accepted(tpath("server.cert"), tpath("server.key"));
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_chain_two_certs)
{
	EVP_PKEY *ca_key = key_new(0), *k = key_new(0);
	X509 *ca = cert_new(ca_key, "Test CA", 0, 60 * DAY, NULL, NULL);
	X509 *leaf = cert_new(k, "localhost", 0, 30 * DAY, ca, ca_key);
	cert_write("server.cert", leaf, ca);
	key_write("server.key", k, FMT_PKCS8);
	assert_accepted(tpath("server.cert"), tpath("server.key"));
	ck_assert_int_eq(tls_write_combined(tpath("server.cert"), tpath("server.key"), tpath("server.pem"), err,
					    sizeof(err)),
			 0);
	ck_assert_int_eq(count(file_read("server.pem"), "-----BEGIN CERTIFICATE-----"), 2);
	/* Leaf first: the key belongs to the second certificate once the order is swapped. */
	cert_write("swapped.cert", ca, leaf);
	assert_refused(tpath("swapped.cert"), tpath("server.key"), tpath("swapped.cert"), "not the first");
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(ca_key);
}
END_TEST

START_TEST(test_missing_cert)
{
	pair_write_ec();
	assert_refused(tpath("nope.cert"), tpath("server.key"), tpath("nope.cert"), "No such file");
}
END_TEST

START_TEST(test_missing_key)
{
	pair_write_ec();
	assert_refused(tpath("server.cert"), tpath("nope.key"), tpath("nope.key"), "No such file");
}
END_TEST

START_TEST(test_empty_files)
{
	pair_write_ec();
	file_write("empty", "", 0);
	assert_refused(tpath("server.cert"), tpath("empty"), tpath("empty"), "is empty");
	assert_refused(tpath("empty"), tpath("server.key"), tpath("empty"), "is empty");
}
END_TEST

START_TEST(test_garbage)
{
	pair_write_ec();
	static const char junk[] = "this is not a key\n\x01\x02\x03";
	file_write("junk", junk, sizeof(junk));
	assert_refused(tpath("server.cert"), tpath("junk"), tpath("junk"), "holds no PEM private key");
	assert_refused(tpath("junk"), tpath("server.key"), tpath("junk"), "holds no PEM certificate");
	/* A key block whose contents are not a key, a certificate block that is not X.509. */
	static const char bad_key[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	file_write("bad.key", bad_key, strlen(bad_key));
	assert_refused(tpath("server.cert"), tpath("bad.key"), tpath("bad.key"), "not a valid private key");
	static const char bad_cert[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	file_write("bad.cert", bad_cert, strlen(bad_cert));
	assert_refused(tpath("bad.cert"), tpath("server.key"), tpath("bad.cert"), "not a valid X.509");
}
END_TEST

START_TEST(test_truncated_key)
{
	pair_write_ec();
	const char *key = file_read("server.key");
	file_write("cut.key", key, strlen(key) / 2);
	assert_refused(tpath("server.cert"), tpath("cut.key"), tpath("cut.key"), "malformed");
}
END_TEST

START_TEST(test_encrypted_pkcs8)
{
	EVP_PKEY *k = key_new(1);
	X509 *x = cert_new(k, "localhost", 0, 30 * DAY, NULL, NULL);
	cert_write("server.cert", x, NULL);
	key_write("server.key", k, FMT_PKCS8_ENC);
	ck_assert_ptr_nonnull(strstr(file_read("server.key"), "BEGIN ENCRYPTED PRIVATE KEY"));
	assert_refused(tpath("server.cert"), tpath("server.key"), tpath("server.key"),
		       "is encrypted (HAProxy cannot prompt for a passphrase)");
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_encrypted_legacy)
{
	EVP_PKEY *k = key_new(1);
	X509 *x = cert_new(k, "localhost", 0, 30 * DAY, NULL, NULL);
	cert_write("server.cert", x, NULL);
	key_write("server.key", k, FMT_LEGACY_ENC);
	ck_assert_ptr_nonnull(strstr(file_read("server.key"), "Proc-Type: 4,ENCRYPTED"));
	assert_refused(tpath("server.cert"), tpath("server.key"), tpath("server.key"), "store it unencrypted");
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_mismatch)
{
	pair_write_ec();
	EVP_PKEY *other = key_new(0);
	key_write("other.key", other, FMT_PKCS8);
	assert_refused(tpath("server.cert"), tpath("other.key"), tpath("other.key"), "does not match certificate");
	ck_assert_ptr_nonnull(strstr(err, tpath("server.cert")));
	EVP_PKEY_free(other);
}
END_TEST

START_TEST(test_expired_and_not_yet_valid)
{
	EVP_PKEY *k = key_new(0);
	X509 *old = cert_new(k, "localhost", -30 * DAY, -DAY, NULL, NULL);
	X509 *future = cert_new(k, "localhost", DAY, 30 * DAY, NULL, NULL);
	cert_write("old.cert", old, NULL);
	cert_write("future.cert", future, NULL);
	key_write("server.key", k, FMT_PKCS8);
	assert_refused(tpath("old.cert"), tpath("server.key"), tpath("old.cert"), "expired on ");
	ck_assert_ptr_nonnull(strstr(err, " UTC (notAfter)"));
	assert_refused(tpath("future.cert"), tpath("server.key"), tpath("future.cert"), "not valid before");
	X509_free(old);
	X509_free(future);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_oversized)
{
	pair_write_ec();
	size_t len = TLS_FILE_MAX + 1;
	char *big = malloc(len);
	ck_assert_ptr_nonnull(big);
	memset(big, 'A', len);
	file_write("big", big, len);
	free(big);
	assert_refused(tpath("big"), tpath("server.key"), tpath("big"), "over the 1 MiB limit");
	assert_refused(tpath("server.cert"), tpath("big"), tpath("big"), "over the 1 MiB limit");
}
END_TEST

START_TEST(test_unreadable)
{
	pair_write_ec();
	assert_refused(tpath("server.cert"), tmpdir, tmpdir, "is a directory");
	ck_assert_int_eq(chmod(tpath("server.key"), 0), 0);
	if (geteuid() != 0) {
		assert_refused(tpath("server.cert"), tpath("server.key"), tpath("server.key"), "Permission denied");
		return;
	}
	/* Root reads mode 000 files: check as nobody in a child instead, who may enter the dir. */
	ck_assert_int_eq(chmod(basedir, 0711), 0);
	ck_assert_int_eq(chmod(tmpdir, 0711), 0);
	pid_t pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		int rc = tls_check_pair(tpath("server.cert"), tpath("server.key"), err, sizeof(err));
		_exit(rc == -1 && strstr(err, "Permission denied") != NULL &&
				      strstr(err, tpath("server.key")) != NULL && strchr(err, '\n') == NULL
			      ? 0
			      : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_key_in_cert_file)
{
	pair_write_ec();
	char buf[8192];
	int n = snprintf(buf, sizeof(buf), "%s", file_read("server.cert"));
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", file_read("server.key"));
	file_write("both.pem", buf, (size_t)n);
	assert_refused(tpath("both.pem"), tpath("server.key"), tpath("both.pem"), "holds a private key");
}
END_TEST

START_TEST(test_message_one_line_for_odd_path)
{
	pair_write_ec();
	assert_refused(tpath("server.cert"), tpath("no\nsuch.key"), tmpdir, "No such file");
}
END_TEST

START_TEST(test_combined_for_each_format)
{
	EVP_PKEY *k = key_new(valid_formats[_i].rsa);
	X509 *x = cert_new(k, "localhost", 0, 30 * DAY, NULL, NULL);
	cert_write("server.cert", x, NULL);
	key_write("server.key", k, valid_formats[_i].fmt);
	file_write("server.pem", "old\n", 4);
	ck_assert_int_eq(chmod(tpath("server.pem"), 0644), 0);
	ck_assert_msg(tls_write_combined(tpath("server.cert"), tpath("server.key"), tpath("server.pem"), err,
					 sizeof(err)) == 0,
		      "refused: %s", err);
	struct stat st;
	ck_assert_int_eq(stat(tpath("server.pem"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	const char *pem = file_read("server.pem");
	const char *c = strstr(pem, "-----BEGIN CERTIFICATE-----"), *p = strstr(pem, "-----BEGIN PRIVATE KEY-----");
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(p);
	ck_assert(c < p);
	/* The key written is the key read, and no temporary file is left behind. */
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *back = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	ck_assert_ptr_nonnull(back);
	ck_assert_int_eq(EVP_PKEY_eq(back, k), 1);
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "server.pem.tmp.%ld", (long)getpid());
	ck_assert_int_ne(access(tpath(tmp), F_OK), 0);
	EVP_PKEY_free(back);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(test_combined_refused_keeps_old)
{
	pair_write_ec();
	EVP_PKEY *other = key_new(0);
	key_write("other.key", other, FMT_PKCS8);
	file_write("server.pem", "old\n", 4);
	ck_assert_int_eq(tls_write_combined(tpath("server.cert"), tpath("other.key"), tpath("server.pem"), err,
					    sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "does not match"));
	ck_assert_str_eq(file_read("server.pem"), "old\n");
	ck_assert_int_eq(tls_write_combined(tpath("server.cert"), tpath("server.key"), tpath("server.key"), err,
					    sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "must not overwrite its own input"));
	ck_assert_int_eq(tls_write_combined(tpath("server.cert"), tpath("server.key"), tpath("none/x.pem"), err,
					    sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, tpath("none/x.pem")));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	EVP_PKEY_free(other);
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("check");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	int n = (int)N_ELEMS(valid_formats);
	tcase_add_loop_test(tc, test_valid_format, 0, n);
	tcase_add_test(tc, test_valid_sec1_with_ec_parameters);
	tcase_add_test(tc, test_chain_two_certs);
	tcase_add_test(tc, test_missing_cert);
	tcase_add_test(tc, test_missing_key);
	tcase_add_test(tc, test_empty_files);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_truncated_key);
	tcase_add_test(tc, test_encrypted_pkcs8);
	tcase_add_test(tc, test_encrypted_legacy);
	tcase_add_test(tc, test_mismatch);
	tcase_add_test(tc, test_expired_and_not_yet_valid);
	tcase_add_test(tc, test_oversized);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_key_in_cert_file);
	tcase_add_test(tc, test_message_one_line_for_odd_path);
	tcase_add_loop_test(tc, test_combined_for_each_format, 0, n);
	tcase_add_test(tc, test_combined_refused_keeps_old);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(tls_suite()); }
