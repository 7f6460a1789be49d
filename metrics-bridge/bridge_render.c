/* Metric families of the bridge, as tables: the name, type and help text an operator reads
 * next to each series live here, those of controller.json's keys in ctlfile/ctl_file.h's
 * table, and nowhere else (the README copies them). */
#include "bridge_render.h"

#include <stddef.h>

#include "bridge_ctl.h"
#include "bridge_stats.h"
#include "ctl_file.h"
#include "expo.h"

/* A value to write: an exact integer, a float, or nothing for this node. */
enum br_kind { BR_NONE, BR_U64, BR_DOUBLE };

struct br_value {
	enum br_kind kind;
	unsigned long long u;
	double d;
};

#define BR_U(x) ((struct br_value){BR_U64, (x), 0})
#define BR_D(x) ((struct br_value){BR_DOUBLE, 0, (x)})
#define BR_NO ((struct br_value){BR_NONE, 0, 0})

/* ---- per chat node ----------------------------------------------------------------------- */

static struct br_value br_scur(const struct bridge_node *n) { return BR_U(n->scur); }
static struct br_value br_chkfail(const struct bridge_node *n) { return BR_U(n->chkfail); }
static struct br_value br_up(const struct bridge_node *n) { return BR_U((unsigned)n->up); }
static struct br_value br_maint(const struct bridge_node *n) { return BR_U((unsigned)n->maint); }
static struct br_value br_drain(const struct bridge_node *n) { return BR_U((unsigned)n->drain); }
static struct br_value br_weight(const struct bridge_node *n) { return BR_U(n->weight); }
static struct br_value br_stot(const struct bridge_node *n) { return BR_U(n->stot); }
static struct br_value br_econ(const struct bridge_node *n) { return BR_U(n->econ); }
static struct br_value br_chkdown(const struct bridge_node *n) { return BR_U(n->chkdown); }
static struct br_value br_check_ok(const struct bridge_node *n)
{
	return n->check_ok < 0 ? BR_NO : BR_U((unsigned)n->check_ok);
}
static struct br_value br_check_dur(const struct bridge_node *n)
{
	return n->check_duration_s < 0 ? BR_NO : BR_D(n->check_duration_s);
}

struct br_node_family {
	const char *name, *type, *help;
	struct br_value (*get)(const struct bridge_node *n);
};

static const struct br_node_family br_node_families[] = {
	{"lb_backend_active_connections", "gauge",
	 "Client connections currently routed to the chat node (HAProxy scur).", br_scur},
	{"lb_backend_health_check_failures", "counter",
	 "Failed health checks of the chat node while it was up (HAProxy chkfail), monotonic.", br_chkfail},
	{"lb_backend_down_transitions_total", "counter",
	 "Times the chat node went from up to down (HAProxy chkdown), monotonic; counts a node that failed at once too.",
	 br_chkdown},
	{"lb_backend_up", "gauge",
	 "1 while the chat node passes its health checks (UP, DRAIN, NOLB), 0 while it is down or in maintenance.",
	 br_up},
	{"lb_backend_maintenance", "gauge", "1 while the chat node is in maintenance (receives nothing).", br_maint},
	{"lb_backend_draining", "gauge", "1 while the chat node is draining (keeps its clients, receives no new ones).",
	 br_drain},
	{"lb_backend_weight", "gauge",
	 "Load-balancing weight of the chat node as set by the controller or an operator.", br_weight},
	{"lb_backend_last_check_ok", "gauge",
	 "1 if the last health check of the chat node passed, 0 if it failed; absent before the first check.",
	 br_check_ok},
	{"lb_backend_check_duration_seconds", "gauge", "Duration of the last health check of the chat node.",
	 br_check_dur},
	{"lb_backend_sessions_total", "counter",
	 "Client connections routed to the chat node (HAProxy stot), monotonic.", br_stot},
	{"lb_backend_connection_errors_total", "counter",
	 "Failed attempts to connect to the chat node (HAProxy econ), monotonic; the client was retried elsewhere.",
	 br_econ},
};

static void br_write_value(struct expo_buf *b, const char *name, const char *label, const char *value,
			   struct br_value v)
{
	if (v.kind == BR_U64)
		expo_write_u64(b, name, label, value, v.u);
	else if (v.kind == BR_DOUBLE)
		expo_write_double(b, name, label, value, v.d);
}

static void br_render_nodes(const struct bridge_snapshot *s, struct expo_buf *b)
{
	for (size_t f = 0; f < sizeof(br_node_families) / sizeof(br_node_families[0]); f++) {
		const struct br_node_family *fam = &br_node_families[f];
		expo_write_family(b, fam->name, fam->type, fam->help);
		for (size_t i = 0; i < s->n_nodes; i++)
			if (!s->nodes[i].skip)
				br_write_value(b, fam->name, "backend", s->nodes[i].label, fam->get(&s->nodes[i]));
	}
}

/* ---- single series ----------------------------------------------------------------------- */

static void br_single(struct expo_buf *b, const char *name, const char *type, const char *help, struct br_value v)
{
	if (v.kind == BR_NONE)
		return;
	expo_write_family(b, name, type, help);
	br_write_value(b, name, NULL, NULL, v);
}

/* Frontend and process series: nothing when HAProxy did not print the row they come from. */
static struct br_value br_uptime(const struct bridge_snapshot *s) { return BR_U(s->uptime_s); }
static struct br_value br_fe_scur(const struct bridge_snapshot *s) { return s->fe_found ? BR_U(s->fe_scur) : BR_NO; }
static struct br_value br_fe_stot(const struct bridge_snapshot *s) { return s->fe_found ? BR_U(s->fe_stot) : BR_NO; }
static struct br_value br_fe_rate(const struct bridge_snapshot *s) { return s->fe_found ? BR_U(s->fe_rate) : BR_NO; }
static struct br_value br_fe_slim(const struct bridge_snapshot *s) { return s->fe_found ? BR_U(s->fe_slim) : BR_NO; }
static struct br_value br_fe_sslfail(const struct bridge_snapshot *s)
{
	return s->fe_found && s->fe_has_ssl_fail ? BR_U(s->fe_ssl_fail) : BR_NO;
}
static struct br_value br_fe_dcon(const struct bridge_snapshot *s)
{
	return s->fe_found && s->fe_has_dcon ? BR_U(s->fe_dcon) : BR_NO;
}
static struct br_value br_bw_throttled(const struct bridge_snapshot *s)
{
	return s->bw_found ? BR_U(s->bw_throttled) : BR_NO;
}
static struct br_value br_table_used(const struct bridge_snapshot *s)
{
	return s->table_found ? BR_U(s->table_used) : BR_NO;
}
static struct br_value br_table_size(const struct bridge_snapshot *s)
{
	return s->table_found ? BR_U(s->table_size) : BR_NO;
}

struct br_single_family {
	const char *name, *type, *help;
	struct br_value (*get)(const struct bridge_snapshot *s);
};

static const struct br_single_family br_haproxy_families[] = {
	{"lb_haproxy_uptime_seconds", "gauge", "Seconds since the HAProxy worker answering the stats socket started.",
	 br_uptime},
	{"lb_active_connections", "gauge",
	 "Client connections currently open on the TLS listener (HAProxy frontend scur).", br_fe_scur},
	{"lb_total_connections", "counter",
	 "Client connections accepted, TLS handshake completed (HAProxy frontend stot), monotonic.", br_fe_stot},
	{"lb_connection_rate", "gauge", "New client connections per second over the last second.", br_fe_rate},
	{"lb_max_connections", "gauge", "Connection limit of the TLS listener (maxconn).", br_fe_slim},
	{"lb_tls_handshake_failures_total", "counter",
	 "Client connections whose TLS handshake failed (bad client, wrong protocol, scanner), monotonic.",
	 br_fe_sslfail},
	{"lb_limit_refused_connections_total", "counter",
	 "Client connections refused by the per-address rate or concurrency limit (HAProxy dcon), monotonic.",
	 br_fe_dcon},
	{"lb_limit_table_entries", "gauge",
	 "Source addresses in the per-address limit table now (HAProxy stick table used).", br_table_used},
	{"lb_limit_table_size", "gauge", "Capacity of the per-address limit table (MCS_LIMIT_TABLE_SIZE).",
	 br_table_size},
	{"lb_limit_throttled_bytes_total", "counter",
	 "Bytes, both directions, delayed by the per-address bandwidth limit (MCS_LIMIT_BYTES_PER_S), monotonic.",
	 br_bw_throttled},
};

static void br_render_haproxy(const struct bridge_snapshot *s, struct expo_buf *b)
{
	size_t healthy = 0, nodes = 0;
	for (size_t i = 0; i < s->n_nodes; i++) {
		nodes += !s->nodes[i].skip;
		healthy += !s->nodes[i].skip && s->nodes[i].up;
	}
	for (size_t i = 0; i < sizeof(br_haproxy_families) / sizeof(br_haproxy_families[0]); i++) {
		const struct br_single_family *f = &br_haproxy_families[i];
		br_single(b, f->name, f->type, f->help, f->get(s));
	}
	if (!s->be_found)
		return;
	br_single(b, "lb_backends", "gauge", "Chat nodes HAProxy currently has, in any state.", BR_U(nodes));
	br_single(b, "lb_backends_healthy", "gauge", "Chat nodes that pass their health checks (sum of lb_backend_up).",
		  BR_U(healthy));
	br_render_nodes(s, b);
}

/* ---- controller -------------------------------------------------------------------------- */

/* The series of controller.json's table (ctl_file.h), kind by kind: the page's order. */
static void br_render_ctl_fields(const struct ctl_file *v, enum ctl_file_kind kind, struct expo_buf *b)
{
	for (size_t i = 0; i < ctl_file_n_fields; i++) {
		const struct ctl_file_field *f = &ctl_file_fields[i];
		if (f->kind == kind && f->metric != NULL)
			br_single(b, f->metric, f->type, f->help, BR_U(ctl_file_number(v, f)));
	}
}

static void br_render_ctl(const struct bridge_ctl_status *c, struct expo_buf *b)
{
	br_single(b, "lb_controller_up", "gauge",
		  "1 while the controller's status file is fresh and valid, 0 when it is missing, garbled or stale.",
		  BR_U((unsigned)c->up));
	if (!c->up)
		return;
	br_render_ctl_fields(&c->v, CTL_FILE_INT, b);
	br_render_ctl_fields(&c->v, CTL_FILE_BOOL, b);
	br_render_ctl_fields(&c->v, CTL_FILE_COUNT, b);
	if (c->has_refused) {
		expo_write_family(
			b, "lb_limit_refused_by_reason_total", "counter",
			"Client connections refused by the per-address limits, by reason; resets on an HAProxy reload.");
		expo_write_u64(b, "lb_limit_refused_by_reason_total", "reason", "rate",
			       (unsigned long long)c->v.refused_rate_total);
		expo_write_u64(b, "lb_limit_refused_by_reason_total", "reason", "concurrency",
			       (unsigned long long)c->v.refused_concurrency_total);
	}
}

/* ---- the bridge's own series ------------------------------------------------------------- */

static void br_render_info(const struct bridge_info *info, struct expo_buf *b)
{
	static const char *const names[] = {"version", "haproxy_version", "openssl_version"};
	const char *const values[] = {info->version, info->haproxy_version, info->openssl_version};
	expo_write_family(b, "lb_build_info", "gauge",
			  "Versions of the gateway, the HAProxy it reads and OpenSSL; always 1.");
	expo_write_u64_labels(b, "lb_build_info", names, values, 3, 1);
	if (info->has_cert)
		br_single(b, "lb_tls_certificate_expiry_timestamp_seconds", "gauge",
			  "Unix time the served TLS certificate (the leaf of MCS_TLS_DIR/server.cert) expires.",
			  BR_U(info->cert_not_after < 0 ? 0 : (unsigned long long)info->cert_not_after));
}

void bridge_render(const struct bridge_snapshot *snap, const struct bridge_ctl_status *ctl,
		   const struct bridge_info *info, struct expo_buf *b)
{
	br_single(b, "lb_haproxy_up", "gauge",
		  "1 if the last scrape read HAProxy's stats socket, 0 if it could not (no other HAProxy series then).",
		  BR_U(snap != NULL));
	if (snap != NULL)
		br_render_haproxy(snap, b);
	br_render_ctl(ctl, b);
	br_render_info(info, b);
}
