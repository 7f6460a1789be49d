/* mcs-lb-status: one screen about a running gateway from its read-only stats socket and
 * controller.json. Gathering (I/O) is separate from judging and rendering (pure). */
#ifndef MCS_STATUS_H
#define MCS_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "ctl_file.h"
#include "names.h"

#define ST_MAX_NODES 20000          /* MCS_MAX_NODES: the most nodes a gateway serves */
#define ST_CTL_STALE_S 60           /* controller.json's last sync older than this: not syncing */
#define ST_CTL_MAX_BYTES (1u << 20) /* a bigger controller.json is refused unread */

enum st_node_state { ST_UP, ST_WARMING, ST_DRAINING, ST_MAINT, ST_DOWN };

struct st_node {
	char name[MCS_SERVER_NAME_MAX]; /* ip:port */
	enum st_node_state state;
	unsigned long long sessions; /* scur */
	unsigned weight;             /* effective weight now */
	unsigned iweight;            /* the weight it was added with (0: unknown) */
	char check[32];              /* last check's status (L4OK, L4CON, ...), "" when none */
	unsigned long long check_ms; /* its duration */
	unsigned long long failures; /* chkfail */
};

struct st_facts {
	time_t now;
	int hap_up;          /* the stats socket answered */
	char hap_error[160]; /* why not, when !hap_up */
	long hap_pid;
	unsigned long long uptime_s;
	long reloads, reloads_failed;             /* the master's counts since it started; -1: unknown */
	char reloads_error[160];                  /* why unknown: master.sock missing or not ours */
	unsigned long long clients, client_limit; /* frontend mcs_tls scur / slim */
	struct st_node *nodes;                    /* malloc'd, n_nodes of them (st_facts_free) */
	size_t n_nodes;
	enum { ST_CTL_MISSING, ST_CTL_BAD, ST_CTL_OK } ctl;
	char ctl_error[200];      /* ST_CTL_MISSING / ST_CTL_BAD: one line naming the file */
	struct ctl_file ctl_file; /* ST_CTL_OK: every key of controller.json (ctlfile/ctl_file.h) */
};

/* Fills f from <run_dir>/stats.sock (timeout_ms per command) and <run_dir>/controller.json;
 * a part that cannot be read is recorded as such, never fatal. Free with st_facts_free. */
void st_gather(const char *run_dir, int timeout_ms, struct st_facts *f);
void st_facts_free(struct st_facts *f);

/* Pure parts, unit-testable. */
/* Parses controller.json text into f's ctl fields with ctlfile's reader, the metrics bridge's
 * too (ST_CTL_OK, or ST_CTL_BAD with the reason). */
void st_parse_controller(const char *path, const char *text, size_t len, struct st_facts *f);
/* Reads the master's reload counts from `show proc` on the master CLI ("<pid> master <reloads>
 * [failed: <n>] ..."). 0, or -1 when text has no such line. */
int st_parse_proc(const char *text, long *reloads, long *failed) __attribute__((warn_unused_result));
/* 1 when the controller's last sync is at most ST_CTL_STALE_S old. */
int st_ctl_synced(const struct st_facts *f);
/* 0 serving with at least one node up or warming, 1 not serving, 2 nothing runs (no HAProxy
 * and no synced controller). */
int st_exit_code(const struct st_facts *f);
const char *st_state_name(enum st_node_state s);

/* The screen, each line cut at width columns (0: no limit). */
void st_render_text(FILE *out, const struct st_facts *f, const char *run_dir, unsigned width);
/* The same facts as one JSON object and a newline. 0, or -1 on OOM. */
int st_render_json(FILE *out, const struct st_facts *f, const char *run_dir);

#endif
