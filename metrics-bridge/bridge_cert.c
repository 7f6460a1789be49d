/* notAfter of the served certificate, parsed with OpenSSL from PEM text. */
#include "bridge_cert.h"

#include <stdio.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int bridge_cert_not_after(const char *pem, size_t len, long long *not_after, char *err, size_t errlen)
{
	int rc = -1;
	struct tm tm = {0};
	X509 *cert = NULL;
	if (len == 0 || len > BRIDGE_CERT_MAX_BYTES) {
		snprintf(err, errlen, "%zu bytes: not a certificate file", len);
		return -1;
	}
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "no PEM certificate that parses");
		goto done;
	}
	const ASN1_TIME *t = X509_get0_notAfter(cert);
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(err, errlen, "notAfter does not parse");
		goto done;
	}
	time_t secs = timegm(&tm);
	if (secs == (time_t)-1) {
		snprintf(err, errlen, "notAfter out of range");
		goto done;
	}
	*not_after = (long long)secs;
	rc = 0;
done:
	ERR_clear_error();
	X509_free(cert);
	BIO_free(bio);
	return rc;
}
