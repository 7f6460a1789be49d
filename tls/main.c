/* mcs-lb-tls-check: refuses a bad certificate/key pair with one line before HAProxy starts,
 * and optionally joins the pair into the combined PEM HAProxy's `crt` reads. */
#include <stdio.h>
#include <string.h>

#include "tls_check.h"

#define PROGRAM "mcs-lb-tls-check"

static void usage(FILE *out)
{
	fprintf(out, "usage: " PROGRAM " CERT KEY [OUT] | --version\n"
		     "Checks that CERT (PEM chain, leaf first) and KEY (unencrypted PEM key) form a valid pair;\n"
		     "with OUT, also writes the chain and key to OUT (mode 0600) for HAProxy's `crt`.\n"
		     "Exit status: 0 valid, 1 refused (one line on stderr), 2 bad usage.\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf(PROGRAM " %s\n", MCS_VERSION);
		return 0;
	}
	if (argc < 3 || argc > 4) {
		usage(stderr);
		return 2;
	}
	char err[1024];
	int rc = argc == 4 ? tls_write_combined(argv[1], argv[2], argv[3], err, sizeof(err))
			   : tls_check_pair(argv[1], argv[2], err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, PROGRAM ": %s\n", err);
		return 1;
	}
	return 0;
}
