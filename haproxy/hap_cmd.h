/* Runtime API command lines for HAProxy 2.6, built only from validated names, addresses and
 * numbers, so text from outside (Redis members) can never add words or commands. Pure. */
#ifndef MCS_HAP_CMD_H
#define MCS_HAP_CMD_H

#include <stddef.h>

#include "names.h"

#define HAP_NAME_MAX 100 /* longest backend or server name accepted */
_Static_assert(HAP_NAME_MAX < MCS_SERVER_NAME_MAX, "a name the commands take must fit MCS_SERVER_NAME_MAX");

/* Returns 1 if s is 1..HAP_NAME_MAX bytes of [A-Za-z0-9._:-] not starting with '-'
 * (so "10.0.0.5:7000" and "2001:db8::1:7000" are valid server names), else 0. */
int hap_name_valid(const char *s) __attribute__((warn_unused_result));

/* Health check and connection settings written on an `add server` line (`default-server` is not
 * applied to servers added at run time). */
struct hap_check_opts {
	unsigned inter_ms; /* `inter`: 1..2147483647 ms between checks */
	unsigned fall;     /* `fall`: 1..2147483647 failed checks before DOWN */
	unsigned rise;     /* `rise`: 1..2147483647 passed checks before UP */
	unsigned weight;   /* `weight`: 0..256 */
	int proxy_v2;      /* 1: `send-proxy-v2 check-send-proxy`: every connection to the server, health
			      checks included, starts with a PROXY protocol v2 header (agent checks never) */
};

/* Every builder below writes one NUL-terminated command line, without a line end, into buf of
 * len bytes and returns 0; or returns -1, with buf set to "" when len > 0, when an argument is
 * invalid (names must pass hap_name_valid) or the line does not fit. */

/* "add server <backend>/<server> <addr>:<port> check inter <i> fall <f> rise <r> weight <w>
 *  [send-proxy-v2 check-send-proxy] id <id>"
 * addr is an IPv4 or IPv6 address (inet_pton) written in its canonical inet_ntop form, IPv6 as
 * "[addr]:port"; port 1..65535; id 1..2147483647 (an explicit id keeps adding fast in large
 * backends). o NULL leaves out "check ... weight <w>": no health check, weight 1.
 * HAProxy adds the server in maintenance, its checks configured but stopped. */
int hap_cmd_add_server(char *buf, size_t len, const char *backend, const char *server, const char *addr, unsigned port,
		       unsigned id, const struct hap_check_opts *o) __attribute__((warn_unused_result));

/* Agent check settings for `add server` (the controller answers the agent). */
struct hap_agent_opts {
	const char *addr;  /* `agent-addr`: an IPv4 or IPv6 address, written in canonical form (no brackets) */
	unsigned port;     /* `agent-port`: 1..65535 */
	unsigned inter_ms; /* `agent-inter`: 1..2147483647 ms; 0 leaves it out (HAProxy's default, 2000 ms) */
	const char *send;  /* `agent-send`: must pass hap_agent_send_valid (e.g. agent_request_format's text) */
};

#define HAP_AGENT_SEND_MAX 128 /* longest agent-send text accepted, in bytes */

/* Returns 1 if s is 1..HAP_AGENT_SEND_MAX bytes of [A-Za-z0-9._:/-] not starting with '-':
 * a word that passes the runtime API and a configuration file unchanged (no space, '#',
 * backslash, quote, '$' or ';'), else 0. Verified on 2.6.12: such a word reaches the agent verbatim. */
int hap_agent_send_valid(const char *s) __attribute__((warn_unused_result));

/* hap_cmd_add_server plus, when a is not NULL, the agent words after the check options:
 * "... weight <w> agent-check agent-addr <a> agent-port <p> [agent-inter <i>] agent-send <s> id <id>".
 * a NULL gives exactly hap_cmd_add_server's line. The agent stays stopped until
 * hap_cmd_enable_agent; while it is enabled, HAProxy 2.6 keeps a new server DOWN ("DOWN (agent)")
 * until the agent has answered "up" once, whatever the health check says. */
int hap_cmd_add_server_agent(char *buf, size_t len, const char *backend, const char *server, const char *addr,
			     unsigned port, unsigned id, const struct hap_check_opts *o, const struct hap_agent_opts *a)
	__attribute__((warn_unused_result));

/* A configuration file's "server <server> <addr>:<port> check ... [agent-check ...] id <id>": the
 * words of hap_cmd_add_server_agent's line after its "add server <backend>/", so a server written
 * to a file starts exactly as the runtime API would have added it, but out of maintenance, with
 * its checks running. Same arguments, same refusals. */
int hap_cmd_cfg_server(char *buf, size_t len, const char *server, const char *addr, unsigned port, unsigned id,
		       const struct hap_check_opts *o, const struct hap_agent_opts *a)
	__attribute__((warn_unused_result));

/* "enable agent <backend>/<server>" (starts the agent check; it also runs in maintenance). */
int hap_cmd_enable_agent(char *buf, size_t len, const char *backend, const char *server)
	__attribute__((warn_unused_result));

/* "disable agent <backend>/<server>" (stops it: do this before the last drain and `del server`,
 * or an agent answer can change the server while it leaves). */
int hap_cmd_disable_agent(char *buf, size_t len, const char *backend, const char *server)
	__attribute__((warn_unused_result));

/* "set server <backend>/<server> agent-addr <addr> port <port>": re-points the agent (e.g. the
 * controller came back on another port). HAProxy 2.6 refuses it while the agent is disabled,
 * answering "[4]: agent checks are not enabled on this server", a warning hap_conn does not
 * class as a refusal: enable the agent first. */
int hap_cmd_set_agent_addr(char *buf, size_t len, const char *backend, const char *server, const char *addr,
			   unsigned port) __attribute__((warn_unused_result));

/* "set server <backend>/<server> state <state>", state one of "ready", "drain", "maint". */
int hap_cmd_set_state(char *buf, size_t len, const char *backend, const char *server, const char *state)
	__attribute__((warn_unused_result));

/* "set server <backend>/<server> weight <pct>%": a share of the weight the server was added
 * with (pct 0..100). 0, or -1 for an invalid name, pct or a short buffer. */
int hap_cmd_set_weight_pct(char *buf, size_t len, const char *backend, const char *server, unsigned pct)
	__attribute__((warn_unused_result));

/* "set server <backend>/<server> health up": the check's health counter at its top (rise + fall - 1)
 * and the server UP. HAProxy 2.6 leaves a server added at run time at health 0, where its first
 * failed check takes it DOWN without counting in chkfail; from the top every failure counts and
 * it takes `fall` of them. Accepted while the checks are still off (verified on 2.6.12). */
int hap_cmd_set_health_up(char *buf, size_t len, const char *backend, const char *server)
	__attribute__((warn_unused_result));

/* "enable health <backend>/<server>" (starts the checks of a server added with check opts). */
int hap_cmd_enable_health(char *buf, size_t len, const char *backend, const char *server)
	__attribute__((warn_unused_result));

/* "shutdown sessions server <backend>/<server>" (closes its client connections). */
int hap_cmd_shutdown_sessions(char *buf, size_t len, const char *backend, const char *server)
	__attribute__((warn_unused_result));

/* "shutdown session <id>", id as hap_sess_ids gives it: "0x" and 1..20 hex digits. */
int hap_cmd_shutdown_session(char *buf, size_t len, const char *id) __attribute__((warn_unused_result));

/* "del server <backend>/<server>" (HAProxy requires maintenance and no connections). */
int hap_cmd_del_server(char *buf, size_t len, const char *backend, const char *server)
	__attribute__((warn_unused_result));

/* "show servers state <backend>" (parse with hap_servers_state_parse). */
int hap_cmd_show_servers_state(char *buf, size_t len, const char *backend) __attribute__((warn_unused_result));

/* "show stat <backend> 4 -1": the CSV header and one line per server of that backend (parse
 * with hap_csv_parse). An all-digit backend name is refused: HAProxy would read it as a proxy id. */
int hap_cmd_show_stat_servers(char *buf, size_t len, const char *backend) __attribute__((warn_unused_result));

#endif
