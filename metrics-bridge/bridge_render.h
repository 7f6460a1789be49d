/* The bridge's /metrics page: every lb_* family with # HELP and # TYPE, from one snapshot of
 * HAProxy (counters already made monotonic) and the controller's status. Pure. */
#ifndef MCS_BRIDGE_RENDER_H
#define MCS_BRIDGE_RENDER_H

struct expo_buf;
struct bridge_snapshot;
struct bridge_ctl_status;

/* Appends the page to b. snap NULL means HAProxy could not be read: lb_haproxy_up 0 and no
 * HAProxy series at all (no stale values). ctl->up 0: lb_controller_up 0 and no other
 * controller series. Allocation failures are sticky in b (see expo_buf_take). */
void bridge_render(const struct bridge_snapshot *snap, const struct bridge_ctl_status *ctl, struct expo_buf *b);

#endif
