/* The certificate job: every second, swaps a changed and valid tls/ pair into HAProxy
 * (cert_watch.c decides and swaps; this job schedules it and logs each new outcome once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert_watch.h"
#include "ctl.h"
#include "log.h"
#include "loop.h"
#include "mono.h"
#include "names.h"

#define CTL_CERT_EVERY_MS 1000u /* how often the certificate files are looked at (two stat calls) */

struct ctl_cert {
	struct ctl *ctl;
	struct cert_watch *w;
	int timer;
	char msg[256]; /* last failure logged, "" after a success or nothing to do */
};

static void ctl_cert_on_timer(struct loop *l, int timer, void *ctx)
{
	struct ctl_cert *c = ctx;
	uint64_t now = mono_now_ms();
	char msg[256] = "";
	int rc = cert_watch_step(c->w, c->ctl->hap, msg, sizeof(msg));
	if (rc == 1) {
		c->ctl->file.cert_swaps_total++;
		log_info("%s", msg);
	} else if (rc == -1 && strcmp(msg, c->msg) != 0) {
		log_err("certificate not swapped, HAProxy keeps the old one: %s", msg);
	}
	snprintf(c->msg, sizeof(c->msg), "%s", rc == -1 ? msg : "");
	loop_timer_arm(l, timer, now + CTL_CERT_EVERY_MS);
}

struct ctl_cert *ctl_cert_new(struct ctl *ctl)
{
	char cert[512], key[512], pem[512];
	snprintf(cert, sizeof(cert), "%s/" MCS_TLS_CERT, conf.tls_dir);
	snprintf(key, sizeof(key), "%s/" MCS_TLS_KEY, conf.tls_dir);
	/* The name HAProxy knows the certificate by: its bind line's crt, expanded. */
	snprintf(pem, sizeof(pem), "%s/" MCS_COMBINED_PEM, conf.run_dir);
	struct ctl_cert *c = calloc(1, sizeof(*c));
	if (c != NULL) {
		c->ctl = ctl;
		c->w = cert_watch_new(cert, key, pem, pem);
		/* First look at the first turn of the loop, after the first step. */
		c->timer = loop_timer_add(ctl->loop, 0, ctl_cert_on_timer, c);
	}
	if (c == NULL || c->w == NULL || c->timer == -1) {
		log_err("MCS_TLS_DIR/MCS_RUN_DIR: cannot watch %s and %s for %s", cert, key, pem);
		ctl_cert_free(c);
		return NULL;
	}
	return c;
}

void ctl_cert_free(struct ctl_cert *c)
{
	if (c == NULL)
		return;
	loop_timer_free(c->ctl->loop, c->timer);
	cert_watch_free(c->w);
	free(c);
}
