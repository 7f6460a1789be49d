/* Integration-test harness, certificates: self-signed ones made with the openssl CLI in each key
 * format, and mcs-lb-tls-check run on them. */
#include "harness_private.h"

#include <stdlib.h>
#include <string.h>

static int h_run_quiet(const char *const argv[], const char *what)
{
	char out[2048];
	int rc = h_run(argv, out, sizeof(out), 30000);
	if (rc != 0) {
		if (rc > 0)
			h_fail("%s failed (exit %d): %.300s", what, rc, out);
		return -1;
	}
	return 0;
}

int h_make_cert(const char *cert, const char *key, enum h_key_fmt fmt)
{
	static const char *const headers[] = {"-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----",
					      "-----BEGIN RSA PRIVATE KEY-----"};
	const char *pkcs8[] = {"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
			       "-out",    key,       NULL};
	const char *sec1[] = {"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key, NULL};
	const char *pkcs1[] = {"openssl", "genrsa", "-traditional", "-out", key, "2048", NULL};
	const char *const *gen = fmt == H_KEY_EC_PKCS8 ? pkcs8 : fmt == H_KEY_EC_SEC1 ? sec1 : pkcs1;
	const char *req[] = {"openssl", "req", "-new",  "-x509",         "-key", key,  "-sha256",
			     "-days",   "30",  "-subj", "/CN=localhost", "-out", cert, NULL};
	if (h_run_quiet(gen, "openssl key generation") == -1 || h_run_quiet(req, "openssl req") == -1)
		return -1;
	char *text = h_read_file(key, NULL);
	int ok = text != NULL && strncmp(text, headers[fmt], strlen(headers[fmt])) == 0;
	free(text);
	if (!ok)
		h_fail("%s does not start with %s", key, headers[fmt]);
	return ok ? 0 : -1;
}

int h_tls_check(const char *cert, const char *key, const char *out, char *msg, size_t msglen)
{
	const char *argv[] = {H_TLS_CHECK_BIN, cert, key, out, NULL};
	return h_run(argv, msg, msglen, 30000);
}
