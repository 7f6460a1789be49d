/* The bridge's /metrics page: every lb_* family with # HELP and # TYPE, from one snapshot of
 * HAProxy (counters already made monotonic) and the controller's status. Pure. */
#ifndef MCS_BRIDGE_RENDER_H
#define MCS_BRIDGE_RENDER_H

struct expo_buf;
struct bridge_snapshot;
struct bridge_ctl_status;

/* What the bridge knows besides HAProxy and the controller. */
struct bridge_info {
	const char *version;         /* the gateway's version (meson's project version) */
	const char *haproxy_version; /* the last Version HAProxy's show info gave, "" before the first */
	const char *openssl_version; /* the OpenSSL library the bridge runs with */
	int has_cert;                /* 1: cert_not_after is known */
	long long cert_not_after;    /* the served certificate's notAfter, unix seconds */
};

/* Appends the page to b. snap NULL means HAProxy could not be read: lb_haproxy_up 0 and no
 * HAProxy series at all (no stale values). ctl->up 0: lb_controller_up 0 and no other
 * controller series. info adds lb_build_info and, when known, the certificate's expiry. Allocation failures are sticky
 * in b (see expo_buf_take). */
void bridge_render(const struct bridge_snapshot *snap, const struct bridge_ctl_status *ctl,
		   const struct bridge_info *info, struct expo_buf *b);

#endif
