/* The names the gateway's programs share with HAProxy's configuration (haproxy/haproxy.cfg)
 * and the scripts (docker/entry/, mcs-lb): HAProxy's proxies and tables, and the files of
 * MCS_RUN_DIR and MCS_TLS_DIR. Those spell them too; the names unit suite checks haproxy.cfg. */
#ifndef MCS_NAMES_H
#define MCS_NAMES_H

/* HAProxy's proxies and stick tables (haproxy.cfg). */
#define MCS_BACKEND "mcs"               /* the chat nodes, the servers the controller keeps */
#define MCS_FRONTEND "mcs_tls"          /* the TLS listener; its stick table holds the per-address limits */
#define MCS_REFUSED_TABLE "mcs_refused" /* refusals by reason: key 1 the rate limit, 2 the concurrency limit */

/* Room for a server name with its NUL, in every struct that holds one (a member, a node, a
 * server read back from HAProxy, a plan's action, the status tool's row), so a name that fits
 * one fits all. The controller names a server after its member, "ip:port" or "[ipv6]:port" (at
 * most MEMBER_MAX_LEN, 53 bytes), and acts on names of up to HAP_NAME_MAX (100) bytes; HAProxy
 * itself takes longer ones (an operator's 200-byte name: tests/fixtures/show_stat_long_name.csv),
 * and `show servers state` is refused whole past 127. */
#define MCS_SERVER_NAME_MAX 128

/* In MCS_RUN_DIR. */
#define MCS_ADMIN_SOCK "admin.sock"           /* HAProxy's runtime API, admin level */
#define MCS_STATS_SOCK "stats.sock"           /* HAProxy's runtime API, user level (read-only) */
#define MCS_SERVERS_FILE "servers.cfg"        /* the backend's servers, HAProxy's second -f */
#define MCS_STATUS_FILE "controller.json"     /* the controller's status (ctlfile/ctl_file.h) */
#define MCS_COMBINED_PEM "server.pem"         /* certificate and key as HAProxy loads them */
#define MCS_CONFIRM_REMOVAL "confirm-removal" /* an operator confirms a held mass removal */

/* In MCS_TLS_DIR. */
#define MCS_TLS_CERT "server.cert"
#define MCS_TLS_KEY "server.key"

#endif
