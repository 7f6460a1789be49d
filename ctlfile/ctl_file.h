/* controller.json, the controller's status file: one table of its keys, shared by the writer
 * (the controller), the readers (the metrics bridge, mcs-lb-status) and the bridge's page. Adding a key is one
 * row of CTL_FILE_FIELDS (and the code that sets its value). */
#ifndef MCS_CTL_FILE_H
#define MCS_CTL_FILE_H

#include <stddef.h>

struct json_t;

/* What a key holds, and the C type of its member of struct ctl_file. */
enum ctl_file_kind {
	CTL_FILE_BOOL,  /* int, 0 or 1; JSON true/false */
	CTL_FILE_INT,   /* long long, >= 0 when read */
	CTL_FILE_COUNT, /* unsigned long long (at most 2^63 - 1: JSON integers are signed) */
	CTL_FILE_KNOWN, /* long long, -1 unknown: left out of the file, and absent reads as -1 */
	CTL_FILE_TEXT,  /* char[CTL_FILE_TEXT_MAX], UTF-8 */
};

/* Whether a reader refuses a file without the key. */
enum ctl_file_need {
	CTL_FILE_REQ, /* required: the file is not the controller's without it */
	CTL_FILE_OPT, /* optional: absent (older controllers) reads as 0, "" or -1 */
};

#define CTL_FILE_TEXT_MAX 192

/* The keys of controller.json, in the order the file has them (the "draining" list of
 * ctl_status.c comes last and is not a row):
 *   X(key, kind, need, metric, type, help)
 * key: the JSON key and the member of struct ctl_file; metric, type, help: the bridge's
 * lb_* series of it, NULL when it has none (the page has the INT rows' series first, then the
 * BOOL rows', then the COUNT rows', each in the table's order). The bridge reads this file as an interface: add keys,
 * never rename or drop one. */
#define CTL_FILE_FIELDS(X)                                                                                             \
	X(pid, INT, OPT, NULL, NULL, NULL)                                                                             \
	X(time, INT, REQ, NULL, NULL, NULL)                                                                            \
	X(last_sync, INT, REQ, "lb_controller_last_sync_timestamp_seconds", "gauge",                                   \
	  "Unix time of the controller's last step that matched HAProxy to Redis (0: none yet).")                      \
	X(redis_ok, BOOL, REQ, "lb_controller_redis_up", "gauge", "1 if the controller's last Redis poll succeeded.")  \
	X(redis_error, TEXT, OPT, NULL, NULL, NULL)                                                                    \
	X(haproxy_ok, BOOL, REQ, "lb_controller_haproxy_up", "gauge",                                                  \
	  "1 if the controller's last exchange with HAProxy succeeded.")                                               \
	X(haproxy_error, TEXT, OPT, NULL, NULL, NULL)                                                                  \
	X(live_nodes, COUNT, REQ, "lb_controller_live_nodes", "gauge",                                                 \
	  "Live members of the Redis set mcs:node as the controller last read them.")                                  \
	X(servers, COUNT, REQ, NULL, NULL, NULL)                                                                       \
	X(leaving, COUNT, REQ, "lb_controller_leaving_nodes", "gauge",                                                 \
	  "Chat nodes draining on their way out of HAProxy.")                                                          \
	X(kept_on_empty, BOOL, REQ, "lb_controller_kept_on_empty", "gauge",                                            \
	  "1 while mcs:node looks empty and the controller keeps every server.")                                       \
	X(held_by_operator, COUNT, REQ, "lb_controller_held_nodes", "gauge",                                           \
	  "Live chat nodes held in drain or maintenance by an operator.")                                              \
	X(rejected_members_total, COUNT, REQ, "lb_controller_rejected_members_total", "counter",                       \
	  "Members of mcs:node refused as invalid addresses (since the controller started).")                          \
	X(redis_errors_total, COUNT, REQ, "lb_controller_redis_errors_total", "counter",                               \
	  "Failed Redis polls (since the controller started).")                                                        \
	X(haproxy_errors_total, COUNT, REQ, "lb_controller_haproxy_errors_total", "counter",                           \
	  "Failed exchanges with HAProxy's admin socket (since the controller started).")                              \
	X(actions_total, COUNT, REQ, "lb_controller_actions_total", "counter",                                         \
	  "Runtime API changes the controller made (add, drain, remove, ...).")                                        \
	X(action_errors_total, COUNT, REQ, "lb_controller_action_errors_total", "counter",                             \
	  "Runtime API changes HAProxy refused or that failed.")                                                       \
	X(removal_held, COUNT, OPT, "lb_controller_removal_held", "gauge",                                             \
	  "Chat nodes whose removal is held: more than MCS_MASS_REMOVAL_PCT vanished at once (0: none).")              \
	X(agent, BOOL, OPT, NULL, NULL, NULL)                                                                          \
	X(notifications, BOOL, OPT, NULL, NULL, NULL)                                                                  \
	X(notified_steps_total, COUNT, OPT, "lb_controller_notified_steps_total", "counter",                           \
	  "Reconcile steps started at once by a Redis keyspace notification (since the controller started).")          \
	X(cert_swaps_total, COUNT, OPT, "lb_controller_cert_swaps_total", "counter",                                   \
	  "Certificates swapped into HAProxy at run time (since the controller started).")                             \
	X(refused_rate_total, KNOWN, OPT, NULL, NULL, NULL)                                                            \
	X(refused_concurrency_total, KNOWN, OPT, NULL, NULL, NULL)

#define CTL_FILE_MEMBER_BOOL(key) int key;
#define CTL_FILE_MEMBER_INT(key) long long key;
#define CTL_FILE_MEMBER_COUNT(key) unsigned long long key;
#define CTL_FILE_MEMBER_KNOWN(key) long long key;
#define CTL_FILE_MEMBER_TEXT(key) char key[CTL_FILE_TEXT_MAX];
#define CTL_FILE_MEMBER(key, kind, need, metric, type, help) CTL_FILE_MEMBER_##kind(key)

/* The values of controller.json, one member per row. */
struct ctl_file {
	CTL_FILE_FIELDS(CTL_FILE_MEMBER)
};

/* One row of the table. */
struct ctl_file_field {
	const char *key;
	enum ctl_file_kind kind;
	enum ctl_file_need need;
	size_t offset;                    /* of the member in struct ctl_file */
	const char *metric, *type, *help; /* the bridge's series; metric NULL: none */
};

extern const struct ctl_file_field ctl_file_fields[];
extern const size_t ctl_file_n_fields;

/* The value of a BOOL, INT, COUNT or KNOWN field of f as a metric's value (a KNOWN -1 as 0). */
unsigned long long ctl_file_number(const struct ctl_file *f, const struct ctl_file_field *field);

/* A new JSON object with every key of f in the table's order (a KNOWN field below 0 left
 * out), for json_dumps; NULL when out of memory or a TEXT is not UTF-8. The caller
 * json_decrefs it. */
struct json_t *ctl_file_to_json(const struct ctl_file *f) __attribute__((warn_unused_result));

/* Reads every key of root (a JSON object, untrusted) into f. Returns 0, or -1 with *bad the
 * key that is required and missing, of the wrong type, or a negative number. */
int ctl_file_from_json(const struct json_t *root, struct ctl_file *f, const char **bad)
	__attribute__((warn_unused_result));

#endif
