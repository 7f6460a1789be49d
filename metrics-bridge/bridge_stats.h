/* From HAProxy's replies (`show info`, `show servers state`, `show stat`) to the raw values
 * the bridge exports: the TLS frontend, the chat backend and one record per chat node.
 * Pure: text in, struct out; the I/O lives in bridge_scrape.c. */
#ifndef MCS_BRIDGE_STATS_H
#define MCS_BRIDGE_STATS_H

#include <stddef.h>

struct hap_info;
struct hap_server_state;

/* One chat node (a server of the backend). */
struct bridge_node {
	char *label;  /* "ip:port" or "[ipv6]:port" (the series' backend label), malloc'd, owned by the snapshot */
	unsigned sid; /* HAProxy's server id; a change means a new server */
	unsigned long long scur;    /* current sessions */
	unsigned long long chkfail; /* failed checks (raw, then monotonic after bridge_counters_apply) */
	unsigned long long stot;    /* cumulative sessions (raw, then monotonic) */
	unsigned long long econ;    /* connection errors to the node (raw, then monotonic) */
	unsigned long long chkdown; /* UP to DOWN transitions (raw, then monotonic) */
	unsigned long long weight;  /* user weight (uweight): kept through drain and maintenance */
	unsigned long long lastchg; /* seconds since the last UP/DOWN transition */
	int up;                     /* 1: passes its checks (UP, UP going down, DRAIN, NOLB, no check) */
	int maint;                  /* 1: in maintenance (MAINT, MAINT(via), ...) */
	int drain;                  /* 1: drained (status DRAIN, or admin state drain while DOWN) */
	int check_ok;               /* last health check: 1 passed, 0 failed, -1 none yet */
	double check_duration_s;    /* duration of the last check, -1 when unknown */
	int skip;                   /* 1: a duplicate label, not exported */
};

/* What one scrape read from HAProxy. */
struct bridge_snapshot {
	long pid;                        /* worker pid (show info Pid) */
	unsigned long long uptime_s;     /* show info Uptime_sec */
	char version[64];                /* show info Version, "" when absent */
	int fe_found;                    /* 1: the frontend row was present */
	unsigned long long fe_scur;      /* frontend current sessions */
	unsigned long long fe_stot;      /* frontend cumulative sessions (raw, then monotonic) */
	unsigned long long fe_rate;      /* frontend sessions per second over the last second */
	unsigned long long fe_slim;      /* frontend session limit (maxconn) */
	unsigned long long fe_ssl_fail;  /* failed TLS handshakes (raw, then monotonic) */
	int fe_has_ssl_fail;             /* 1: the ssl_failed_handshake column was present */
	unsigned long long fe_dcon;      /* connections refused by tcp-request connection rules (raw, then monotonic) */
	int fe_has_dcon;                 /* 1: the dcon column was present */
	int table_found;                 /* 1: `show table` listed the frontend's stick table */
	unsigned long long table_size;   /* its capacity in entries (stick-table size) */
	unsigned long long table_used;   /* entries in it now (tracked source addresses) */
	int bw_found;                    /* 1: `show mcs bwlim` answered (the Lua bandwidth limit runs) */
	unsigned long long bw_throttled; /* bytes that waited for their address's bucket (raw, then monotonic) */
	int be_found;                    /* 1: the backend row was present */
	struct bridge_node *nodes;       /* malloc'd array, in `show stat` order */
	size_t n_nodes;
	size_t n_unlabelled; /* servers skipped: no address known for them */
};

/* Copies the worker's pid, uptime and version, as `show info` gave them (hap_worker_info), into s. */
void bridge_stats_set_info(struct bridge_snapshot *s, const struct hap_info *info);

/* Reads the frontend row of `frontend` and the backend and server rows of `backend` from a
 * `show stat` reply (any other proxy is ignored). Each server's label comes from the `addr`
 * column when HAProxy printed it (operator or admin level), else from states (the matching
 * srv_id and srv_name of `show servers state`, may be NULL), else from the server's name when
 * it is an address and port (the controller names servers so): a server none of them labels
 * is skipped and counted in n_unlabelled. Labels that repeat are marked skip. Returns 0, or -1
 * with a one-line reason in err (truncated or malformed CSV, a missing column, a number that
 * is not one, OOM); s is then cleared. Replaces what s held. */
int bridge_stats_parse_stat(const char *csv, const char *frontend, const char *backend,
			    const struct hap_server_state *states, size_t n_states, struct bridge_snapshot *s,
			    char *err, size_t errlen) __attribute__((warn_unused_result));

/* Reads the size and use of stick table `table` from a `show table` reply (hap_table_use_parse).
 * Sets s->table_found (0 when the table is not listed: no limits configured), table_size and
 * table_used; leaves the rest of s alone. Returns 0, or -1 with a one-line reason in err when
 * the table's line is malformed or the reply is cut short (table_found is then 0). */
int bridge_stats_parse_table(const char *text, const char *table, struct bridge_snapshot *s, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Formats the label of an address and port: "1.2.3.4:80", "[::1]:80". Returns 0, or -1 when
 * addr is empty or the result does not fit in outlen. */
int bridge_stats_label(const char *addr, unsigned port, char *out, size_t outlen) __attribute__((warn_unused_result));

/* Frees the nodes and zeroes s. */
void bridge_snapshot_clear(struct bridge_snapshot *s);

#endif
