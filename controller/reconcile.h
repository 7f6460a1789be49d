/* The reconcile plan: a pure function from (live nodes, HAProxy's servers, what the
 * controller is removing) to the runtime commands that bring HAProxy in line. No I/O. */
#ifndef MCS_RECONCILE_H
#define MCS_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "hap_servers.h"
#include "member.h"
#include "names.h"

struct rec_server {
	char name[MCS_SERVER_NAME_MAX]; /* server name: the node's "ip:port" */
	char addr[64];                  /* srv_addr ("" when HAProxy has none) */
	unsigned port;                  /* srv_port */
	unsigned id;                    /* HAProxy's server id */
	unsigned admin_state;           /* srv_admin_state: HAP_ADMF_* bits (hap_servers.h) */
	unsigned check_state;           /* srv_check_state: HAP_CHK_ST_* bits */
	unsigned agent_state;           /* srv_agent_state: HAP_CHK_ST_* bits */
	unsigned agent_port;            /* srv_agent_port */
	char agent_addr[64];            /* srv_agent_addr ("" when HAProxy shows none) */
	unsigned uweight;               /* srv_uweight: the weight now */
	unsigned iweight;               /* srv_iweight: the weight it was added with */
	long long scur;                 /* current sessions, -1 when not read */
};

/* A server on its way out, and who put it there. */
struct rec_leaving {
	char name[MCS_SERVER_NAME_MAX];
	uint64_t since_ms; /* when the drain started (or was first seen) */
	int ours;          /* 1: the controller drained it; 0: found drained or in maintenance */
};

struct rec_memory {
	struct rec_leaving *v;
	size_t n, cap;
	uint64_t mass_since_ms; /* when a mass removal was first held (0: none held) */
};

enum rec_kind {
	REC_ADD,           /* add server, ready, health up, enable health */
	REC_READY,         /* set state ready: finish an add, or a node that came back */
	REC_ENABLE_HEALTH, /* finish an add interrupted before its checks were enabled: health up, enable
			    * health (MCS_CHECK_FALL failures take it down, as for any add) */
	REC_ENABLE_AGENT,  /* a live node's agent check is configured but stopped */
	REC_AGENT_PORT,    /* a live node's agent points at another port (the controller restarted) */
	REC_DISABLE_AGENT, /* a live node's agent has nothing to say: full weight, no warm-up, no override */
	REC_DRAIN,         /* the node left: no new clients */
	REC_SHED,          /* drain timed out: maint, then shut `shed` of its sessions */
	REC_REMOVE,        /* drained and empty (or shedding over): maint, shutdown sessions, del */
};

struct rec_action {
	enum rec_kind kind;
	char name[MCS_SERVER_NAME_MAX];
	const struct node_addr *node; /* REC_ADD only: points into the desired array */
	unsigned id;                  /* REC_ADD only: a free server id */
	int agent_on;                 /* REC_ADD only: start the agent (and the warm-up weight) */
	unsigned long long shed;      /* REC_SHED only: how many sessions to shut this step */
};

struct rec_plan {
	struct rec_action *v;
	size_t n, cap;
	int kept_on_empty;      /* the live set was empty: nothing was taken out */
	size_t held;            /* live nodes left in a drain or maintenance set by an operator */
	size_t leaving;         /* servers draining towards removal */
	size_t needs_scur;      /* leaving servers whose session count was not read (scur -1) */
	size_t removal_held;    /* drains held back: too large a share of the nodes at once */
	size_t drains_deferred; /* drains not started: the live set is settling (in->settling) */
};

struct rec_input {
	const struct node_addr *desired; /* sorted by name, unique (node_list_sort_unique) */
	size_t n_desired;
	struct rec_server *actual; /* sorted in place by reconcile_plan */
	size_t n_actual;
	uint64_t now_ms;
	uint64_t drain_timeout_ms;
	uint64_t drain_spread_ms;          /* after the timeout, sessions are shut over this long */
	uint64_t step_ms;                  /* time between two steps, to size each shed batch */
	unsigned mass_removal_pct;         /* draining more than this share of serving nodes at once is held */
	uint64_t mass_removal_hold_ms;     /* ... until it has been seen this long */
	int mass_removal_confirmed;        /* an operator confirmed the held removal: go ahead now */
	unsigned agent_port;               /* where the controller's agent listens (0: no agent) */
	const char *agent_addr;            /* ... on this address (NULL: not compared); a controller that
					    * restarts elsewhere (a container's new address) re-points them */
	int settling;                      /* the live set may be incomplete (Redis just came back, perhaps
					    * emptied, or the set was empty): start no drain; drains under
					    * way go on, adds happen at once */
	const unsigned char *agent_wanted; /* per desired node: 1 while its agent must answer (warm-up,
					    * an override); NULL: always. A server below the weight it was
					    * added with keeps its agent too, until the agent restores it. */
};

/* 1 when a server whose node left is in drain or maintenance with an unknown session
 * count (scur -1): read the counts (`show stat`) before planning. No side effects. */
int reconcile_needs_scur(const struct rec_input *in);

/* Computes the actions for one step into plan (emptied first) and updates mem: drains
 * started, finished or abandoned. Returns 0, or -1 when out of memory (plan emptied). */
int reconcile_plan(const struct rec_input *in, struct rec_memory *mem, struct rec_plan *plan)
	__attribute__((warn_unused_result));

/* qsort/bsearch order of struct rec_server: by name. */
int rec_server_cmp(const void *a, const void *b);

/* 1 when the controller itself is draining name (its node left). */
int rec_memory_is_ours(const struct rec_memory *mem, const char *name);

/* Remembers name as drained by the controller since since_ms (a drain it started before a
 * restart: see ctl_status_restore_drains). Known names are left as they are. 0, or -1 out of memory. */
int rec_memory_restore(struct rec_memory *mem, const char *name, uint64_t since_ms) __attribute__((warn_unused_result));

/* 1 when name is on its way out (drained by the controller or found drained), else 0. */
int rec_memory_has(const struct rec_memory *mem, const char *name);

/* Forgets a server (after it was deleted); unknown names are ignored. */
void rec_memory_forget(struct rec_memory *mem, const char *name);

void rec_memory_clear(struct rec_memory *mem);
void rec_plan_clear(struct rec_plan *plan);

/* The action's name for log lines: "add", "ready", ... */
const char *rec_kind_name(enum rec_kind kind);

#endif
