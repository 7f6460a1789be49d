/* Parsers of HAProxy 2.6 runtime API replies: `show stat` CSV, `show servers state`,
 * `show info`, `show table` and `show sess`. Pure functions over text, as hap_conn_cmd returns it; no I/O. */
#ifndef MCS_HAP_STAT_H
#define MCS_HAP_STAT_H

#include <stddef.h>

/* ---- show stat ---------------------------------------------------------------------------- */

struct hap_csv;

/* Parses a `show stat` reply: a "# name,name,...\n" header, then one line per proxy or server
 * with exactly as many fields as the header (quoted fields with "" escapes are unquoted).
 * Every line must end with "\n"; an empty line ends the table and nothing may follow it.
 * Returns a table (free with hap_csv_free; it copies what it keeps), or NULL with a one-line
 * reason in err: missing header, wrong field count, truncated line or quote, OOM. */
struct hap_csv *hap_csv_parse(const char *text, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Frees t. NULL is a no-op. */
void hap_csv_free(struct hap_csv *t);

/* Number of data rows (the header not counted; 0 for a backend without servers). */
size_t hap_csv_rows(const struct hap_csv *t);

/* Index of the column named name ("scur", "svname", ...), or -1 if the header lacks it.
 * Look columns up by name: their number and order change between HAProxy versions. */
int hap_csv_col(const struct hap_csv *t, const char *name);

/* The field at row, col ("" when empty), valid until hap_csv_free; NULL when out of range. */
const char *hap_csv_get(const struct hap_csv *t, size_t row, int col);

/* Reads the field at row, col as an unsigned decimal into *out. An empty field gives 0 and
 * returns 0: HAProxy leaves counters that do not apply empty (chkfail of a server without
 * checks). Returns -1, *out untouched, for anything else that is not 1..20 digits within
 * unsigned long long, or when row or col is out of range. */
int hap_csv_get_u64(const struct hap_csv *t, size_t row, int col, unsigned long long *out)
	__attribute__((warn_unused_result));

/* ---- show servers state ------------------------------------------------------------------- */

/* srv_op_state */
#define HAP_SRV_ST_STOPPED 0u
#define HAP_SRV_ST_STARTING 1u
#define HAP_SRV_ST_RUNNING 2u
#define HAP_SRV_ST_STOPPING 3u

/* srv_admin_state bits (HAProxy 2.6 include/haproxy/server-t.h, enum srv_admin) */
#define HAP_ADMF_FMAINT 0x01u /* forced into maintenance (`state maint`; every new dynamic server) */
#define HAP_ADMF_IMAINT 0x02u /* maintenance inherited from a tracked server */
#define HAP_ADMF_CMAINT 0x04u /* maintenance from the configuration (`disabled`) */
#define HAP_ADMF_FDRAIN 0x08u /* forced into drain (`state drain`) */
#define HAP_ADMF_IDRAIN 0x10u /* drain inherited from a tracked server */
#define HAP_ADMF_RMAINT 0x20u /* maintenance after a failed address resolution */
#define HAP_ADMF_HMAINT 0x40u /* maintenance after `set server fqdn` */
#define HAP_ADMF_MAINT (HAP_ADMF_FMAINT | HAP_ADMF_IMAINT | HAP_ADMF_CMAINT | HAP_ADMF_RMAINT | HAP_ADMF_HMAINT)
#define HAP_ADMF_DRAIN (HAP_ADMF_FDRAIN | HAP_ADMF_IDRAIN)

/* srv_check_state and srv_agent_state bits (HAProxy 2.6 include/haproxy/check-t.h, CHK_ST_*) */
#define HAP_CHK_ST_INPROGRESS 0x01u /* a check is running right now */
#define HAP_CHK_ST_CONFIGURED 0x02u /* configured (`check` / `agent-check`), may be enabled */
#define HAP_CHK_ST_ENABLED 0x04u    /* administratively enabled (`enable health` / `enable agent`) */
#define HAP_CHK_ST_PAUSED 0x08u     /* paused by maintenance (health checks only) */
#define HAP_CHK_ST_AGENT 0x10u      /* an agent check (set in srv_agent_state when configured) */

struct hap_server_state {
	char name[128];       /* srv_name */
	char addr[64];        /* srv_addr; "" when HAProxy prints "-" (no address, e.g. an FQDN server) */
	unsigned port;        /* srv_port */
	unsigned id;          /* srv_id */
	unsigned op_state;    /* srv_op_state: HAP_SRV_ST_* */
	unsigned admin_state; /* srv_admin_state: HAP_ADMF_* bits */
	unsigned uweight;     /* srv_uweight */
	unsigned iweight;     /* srv_iweight: the weight it was added with; 0 without the column */
	unsigned check_state; /* srv_check_state: HAP_CHK_ST_* bits */
	unsigned agent_state; /* srv_agent_state: HAP_CHK_ST_* bits */
	unsigned agent_port;  /* srv_agent_port: 0 without an agent check */
	char agent_addr[64];  /* srv_agent_addr: "" without an agent address (or column) */
};

/* Parses a `show servers state [<backend>]` reply: the format version "1", a "# be_id ..."
 * header, then one space-separated line per server with as many fields as the header; fields
 * are found by header name. Lines starting with '#' after the header are comments; an empty
 * line ends the table. On success returns 0 with *out a malloc'd array of *n servers in reply
 * order (caller frees with free(); NULL when *n is 0, which is valid). Returns -1 with *out NULL,
 * *n 0 and a one-line reason in err on: another version, missing header or column, wrong field
 * count, a number that is not decimal or exceeds unsigned, a name or address too long for its
 * field, a truncated line, OOM. */
int hap_servers_state_parse(const char *text, struct hap_server_state **out, size_t *n, char *err,
			    size_t errlen) __attribute__((warn_unused_result));

/* ---- show info ---------------------------------------------------------------------------- */

/* Finds the line "<key>: <value>" of a `show info` reply (key matched whole and case-sensitive,
 * e.g. "Pid", "Uptime_sec") and copies value, without the line end, to out. Returns 0, or -1
 * when the key is absent or the value does not fit in outlen (out is then ""). */
int hap_info_get(const char *text, const char *key, char *out, size_t outlen) __attribute__((warn_unused_result));

/* What `show info` says of the worker that answered. */
struct hap_info {
	long pid;                    /* Pid */
	unsigned long long uptime_s; /* Uptime_sec */
	int stopping;                /* 1: "Stopping: 1", an old worker finishing after a reload */
	char version[64];            /* Version, "" when absent or longer */
};

/* Parses a `show info` reply into *out. "Stopping" absent (older versions) reads as a live
 * worker. Returns 0, or -1 with a one-line reason in err when Pid (1..2^31-1 digits' worth)
 * or Uptime_sec is missing or not a decimal number. */
int hap_info_parse(const char *text, struct hap_info *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/* ---- show table --------------------------------------------------------------------------- */

/* One stick table's size and use, from `show table` without a name. */
struct hap_table_use {
	int found;               /* 1: the reply lists the table */
	unsigned long long size; /* its capacity in entries */
	unsigned long long used; /* entries in it now */
};

/* Reads table's line of a `show table` reply: "# table: <name>, type: <type>, size:<n>,
 * used:<n>" per table (entries follow at operator or admin level; the user level prints none).
 * Returns 0 with *out (found 0 when the table is not listed), or -1 with out->found 0 and a
 * one-line reason in err when that line is malformed or the reply is cut short. */
int hap_table_use_parse(const char *text, const char *table, struct hap_table_use *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* From a `show table <name>` reply (admin or operator level), the gpc0 of the entry whose key
 * is key ("1"): lines like "0x55..: key=1 use=0 exp=0 gpc0=3". Returns 0 with *out, or -1 when
 * no such entry (or its gpc0 is not a number). Pure. */
int hap_table_get_gpc0(const char *text, const char *key, unsigned long long *out) __attribute__((warn_unused_result));

/* ---- show sess ---------------------------------------------------------------------------- */

#define HAP_SESS_ID_SIZE 24 /* "0x" + at most 20 hex digits + NUL */

/* From a `show sess` reply (lines like "0x55d0c1a0f0e0: proto=tcpv4 ... be=mcs srv=10.0.0.5:7000
 * ..."), copies into ids the ids ("0x" and 1..20 hex digits) of at most max sessions of
 * backend/server, in reply order. A line is taken only when it starts with a well-formed id and a
 * ':' and holds " be=<backend> srv=<server> ": the ids go back into `shutdown session`, so nothing
 * else passes. Returns how many were copied. Pure. */
size_t hap_sess_ids(const char *text, const char *backend, const char *server, char (*ids)[HAP_SESS_ID_SIZE],
		    size_t max);

#endif
