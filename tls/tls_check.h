/* Certificate and key checks before HAProxy loads them: refuse a missing, malformed, expired,
 * encrypted or mismatched pair with one line, and join the pair into the PEM HAProxy's `crt` reads. */
#ifndef MCS_TLS_CHECK_H
#define MCS_TLS_CHECK_H

#include <stddef.h>

/* Largest certificate or key file read; both are untrusted input. */
#define TLS_FILE_MAX (1024 * 1024)

/* Checks that cert_path holds one or more PEM certificates (the full chain, leaf first), that
 * the leaf is valid now, and that key_path holds exactly one unencrypted PEM private key
 * (PKCS#1, PKCS#8 or SEC1) matching the leaf. Never prompts for a passphrase.
 * Returns 0, or -1 with one line naming the file and the problem in err (caller's buffer).
 * Leaves the OpenSSL error queue empty. */
int tls_check_pair(const char *cert_path, const char *key_path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Checks the pair as tls_check_pair does, then writes the chain followed by the key
 * (unencrypted PKCS#8) to out_path, mode 0600, atomically: a temporary file beside it,
 * fsync, rename. out_path must differ from both inputs. Returns 0, or -1 with one line in
 * err; on failure out_path is left as it was. */
int tls_write_combined(const char *cert_path, const char *key_path, const char *out_path, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
