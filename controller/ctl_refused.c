/* The refusals job: every MCS_POLL_MS, the per-address limits' refusals by reason, read from
 * HAProxy's table mcs_refused (its entries need the admin socket) into controller.json, for the
 * bridge, whose read-only socket cannot read them. */
#include <stdlib.h>

#include "ctl.h"
#include "hap_conn.h"
#include "hap_table.h"
#include "loop.h"
#include "mono.h"
#include "names.h"

struct ctl_refused {
	struct ctl *ctl;
	int timer;
};

/* Sets both counts, or both to -1 (unknown: left out of controller.json) when HAProxy does not
 * answer. A table without an entry yet means nothing refused yet. */
static void ctl_refused_read(struct ctl *ctl)
{
	struct ctl_file *f = &ctl->file;
	char *reply = NULL;
	unsigned long long v;
	f->refused_rate_total = f->refused_concurrency_total = -1;
	if (hap_conn_cmd(ctl->hap, "show table " MCS_REFUSED_TABLE, &reply) == 0) {
		f->refused_rate_total = hap_table_get_gpc0(reply, "1", &v) == 0 ? (long long)v : 0;
		f->refused_concurrency_total = hap_table_get_gpc0(reply, "2", &v) == 0 ? (long long)v : 0;
	}
	free(reply);
}

static void ctl_refused_on_timer(struct loop *l, int timer, void *ctx)
{
	struct ctl_refused *r = ctx;
	uint64_t now = mono_now_ms();
	/* Only while the step reaches HAProxy: when it does not, the step backs off, and so does this
	 * job; the counts last read stay. */
	if (r->ctl->count.synced > 0 && r->ctl->hap_error[0] == '\0')
		ctl_refused_read(r->ctl);
	loop_timer_arm(l, timer, now + conf.poll_ms);
}

struct ctl_refused *ctl_refused_new(struct ctl *ctl)
{
	struct ctl_refused *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	ctl->file.refused_rate_total = ctl->file.refused_concurrency_total = -1;
	/* First at the first turn of the loop, right after the first step (the stepper registers first). */
	*r = (struct ctl_refused){.ctl = ctl, .timer = loop_timer_add(ctl->loop, 0, ctl_refused_on_timer, r)};
	if (r->timer != -1)
		return r;
	free(r);
	return NULL;
}

void ctl_refused_free(struct ctl_refused *r)
{
	if (r == NULL)
		return;
	loop_timer_free(r->ctl->loop, r->timer);
	free(r);
}
