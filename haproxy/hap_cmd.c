/* Runtime API command builders: every word is either a constant, a name checked against a
 * strict character set, an address re-printed by inet_ntop, or a number in range. */
#include "hap_cmd.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

#define HAP_WEIGHT_MAX 256u

int hap_name_valid(const char *s)
{
	static const char extra[] = "._:-";
	size_t n = 0;
	if (s == NULL || s[0] == '-')
		return 0;
	for (; s[n] != '\0'; n++) {
		unsigned char ch = (unsigned char)s[n];
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (n == HAP_NAME_MAX || (!alnum && strchr(extra, ch) == NULL))
			return 0;
	}
	return n > 0;
}

/* Empties buf (when it has room) and returns -1: no half-built command is ever left behind. */
static int hap_cmd_refuse(char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
	return -1;
}

/* "<verb> <backend>/<server><tail>", the shape of every per-server command. */
static int hap_cmd_server(char *buf, size_t len, const char *verb, const char *backend, const char *server,
			  const char *tail)
{
	if (!hap_name_valid(backend) || !hap_name_valid(server))
		return hap_cmd_refuse(buf, len);
	return fmt_buf(buf, len, "%s %s/%s%s", verb, backend, server, tail);
}

/* Writes "a.b.c.d:port" or "[v6]:port" in canonical form. 0, or -1 when addr is not an address. */
static int hap_cmd_addr(char *out, size_t outlen, const char *addr, unsigned port)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN];
	int v6 = 0;
	if (addr == NULL || port < 1 || port > 65535)
		return -1;
	if (inet_pton(AF_INET, addr, bin) != 1) {
		if (inet_pton(AF_INET6, addr, bin) != 1)
			return -1;
		v6 = 1;
	}
	if (inet_ntop(v6 ? AF_INET6 : AF_INET, bin, text, sizeof(text)) == NULL)
		return -1;
	return fmt_buf(out, outlen, v6 ? "[%s]:%u" : "%s:%u", text, port);
}

/* Writes " check inter <i> fall <f> rise <r> weight <w>[ send-proxy-v2 check-send-proxy]", or ""
 * for o NULL. */
static int hap_cmd_check_opts(char *out, size_t outlen, const struct hap_check_opts *o)
{
	if (o == NULL) {
		out[0] = '\0';
		return 0;
	}
	if (o->inter_ms < 1 || o->inter_ms > INT_MAX || o->fall < 1 || o->fall > INT_MAX || o->rise < 1 ||
	    o->rise > INT_MAX || o->weight > HAP_WEIGHT_MAX)
		return -1;
	return fmt_buf(out, outlen, " check inter %u fall %u rise %u weight %u%s", o->inter_ms, o->fall, o->rise,
		       o->weight, o->proxy_v2 ? " send-proxy-v2 check-send-proxy" : "");
}

int hap_agent_send_valid(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n == 0 || n > HAP_AGENT_SEND_MAX || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!alnum && strchr("._:/-", ch) == NULL)
			return 0;
	}
	return 1;
}

/* Writes an address alone, canonical and without brackets (agent-addr takes no port). */
static int hap_cmd_bare_addr(char *out, size_t outlen, const char *addr)
{
	unsigned char bin[sizeof(struct in6_addr)];
	int af = AF_INET;
	if (addr == NULL || inet_pton(af, addr, bin) != 1) {
		af = AF_INET6;
		if (addr == NULL || inet_pton(af, addr, bin) != 1)
			return -1;
	}
	return inet_ntop(af, bin, out, (socklen_t)outlen) != NULL ? 0 : -1;
}

/* Writes " agent-check agent-addr <a> agent-port <p>[ agent-inter <i>] agent-send <s>", or "" for a NULL. */
static int hap_cmd_agent_opts(char *out, size_t outlen, const struct hap_agent_opts *a)
{
	char addr[INET6_ADDRSTRLEN], inter[32] = "";
	if (a == NULL) {
		out[0] = '\0';
		return 0;
	}
	if (hap_cmd_bare_addr(addr, sizeof(addr), a->addr) == -1 || a->port < 1 || a->port > 65535 ||
	    a->inter_ms > INT_MAX || !hap_agent_send_valid(a->send))
		return -1;
	if (a->inter_ms > 0)
		snprintf(inter, sizeof(inter), " agent-inter %u", a->inter_ms);
	return fmt_buf(out, outlen, " agent-check agent-addr %s agent-port %u%s agent-send %s", addr, a->port, inter,
		       a->send);
}

/* Writes " <addr>:<port>[ check ...][ agent-check ...] id <id>": what follows the server name on
 * an `add server` line and on a configuration file's `server` line alike. */
static int hap_cmd_server_tail(char *out, size_t outlen, const char *addr, unsigned port, unsigned id,
			       const struct hap_check_opts *o, const struct hap_agent_opts *a)
{
	char where[INET6_ADDRSTRLEN + 16], opts[128], agent[HAP_AGENT_SEND_MAX + 160];
	if (hap_cmd_addr(where, sizeof(where), addr, port) == -1 || hap_cmd_check_opts(opts, sizeof(opts), o) == -1 ||
	    hap_cmd_agent_opts(agent, sizeof(agent), a) == -1 || id < 1 || id > INT_MAX)
		return -1;
	return fmt_buf(out, outlen, " %s%s%s id %u", where, opts, agent, id);
}

int hap_cmd_add_server_agent(char *buf, size_t len, const char *backend, const char *server, const char *addr,
			     unsigned port, unsigned id, const struct hap_check_opts *o, const struct hap_agent_opts *a)
{
	char tail[INET6_ADDRSTRLEN + HAP_AGENT_SEND_MAX + 320];
	if (hap_cmd_server_tail(tail, sizeof(tail), addr, port, id, o, a) == -1)
		return hap_cmd_refuse(buf, len);
	return hap_cmd_server(buf, len, "add server", backend, server, tail);
}

int hap_cmd_cfg_server(char *buf, size_t len, const char *server, const char *addr, unsigned port, unsigned id,
		       const struct hap_check_opts *o, const struct hap_agent_opts *a)
{
	char tail[INET6_ADDRSTRLEN + HAP_AGENT_SEND_MAX + 320];
	if (!hap_name_valid(server) || hap_cmd_server_tail(tail, sizeof(tail), addr, port, id, o, a) == -1)
		return hap_cmd_refuse(buf, len);
	return fmt_buf(buf, len, "server %s%s", server, tail);
}

int hap_cmd_add_server(char *buf, size_t len, const char *backend, const char *server, const char *addr, unsigned port,
		       unsigned id, const struct hap_check_opts *o)
{
	return hap_cmd_add_server_agent(buf, len, backend, server, addr, port, id, o, NULL);
}

int hap_cmd_enable_agent(char *buf, size_t len, const char *backend, const char *server)
{
	return hap_cmd_server(buf, len, "enable agent", backend, server, "");
}

int hap_cmd_disable_agent(char *buf, size_t len, const char *backend, const char *server)
{
	return hap_cmd_server(buf, len, "disable agent", backend, server, "");
}

int hap_cmd_set_agent_addr(char *buf, size_t len, const char *backend, const char *server, const char *addr,
			   unsigned port)
{
	char a[INET6_ADDRSTRLEN], tail[INET6_ADDRSTRLEN + 40];
	if (hap_cmd_bare_addr(a, sizeof(a), addr) == -1 || port < 1 || port > 65535)
		return hap_cmd_refuse(buf, len);
	snprintf(tail, sizeof(tail), " agent-addr %s port %u", a, port);
	return hap_cmd_server(buf, len, "set server", backend, server, tail);
}

int hap_cmd_set_state(char *buf, size_t len, const char *backend, const char *server, const char *state)
{
	static const char *const states[] = {"ready", "drain", "maint"};
	for (size_t i = 0; state != NULL && i < sizeof(states) / sizeof(states[0]); i++) {
		if (strcmp(state, states[i]) == 0) {
			char tail[16];
			snprintf(tail, sizeof(tail), " state %s", states[i]);
			return hap_cmd_server(buf, len, "set server", backend, server, tail);
		}
	}
	return hap_cmd_refuse(buf, len);
}

int hap_cmd_set_weight_pct(char *buf, size_t len, const char *backend, const char *server, unsigned pct)
{
	char tail[24];
	if (pct > 100)
		return hap_cmd_refuse(buf, len);
	snprintf(tail, sizeof(tail), " weight %u%%", pct);
	/* "set server b/s weight" takes the name first: the verb and the tail go around it. */
	return hap_cmd_server(buf, len, "set server", backend, server, tail);
}

int hap_cmd_set_health_up(char *buf, size_t len, const char *backend, const char *server)
{
	return hap_cmd_server(buf, len, "set server", backend, server, " health up");
}

int hap_cmd_enable_health(char *buf, size_t len, const char *backend, const char *server)
{
	return hap_cmd_server(buf, len, "enable health", backend, server, "");
}

int hap_cmd_shutdown_sessions(char *buf, size_t len, const char *backend, const char *server)
{
	return hap_cmd_server(buf, len, "shutdown sessions server", backend, server, "");
}

int hap_cmd_del_server(char *buf, size_t len, const char *backend, const char *server)
{
	return hap_cmd_server(buf, len, "del server", backend, server, "");
}

int hap_cmd_show_servers_state(char *buf, size_t len, const char *backend)
{
	if (!hap_name_valid(backend))
		return hap_cmd_refuse(buf, len);
	return fmt_buf(buf, len, "show servers state %s", backend);
}

int hap_cmd_show_stat_servers(char *buf, size_t len, const char *backend)
{
	if (!hap_name_valid(backend) || strspn(backend, "0123456789") == strlen(backend))
		return hap_cmd_refuse(buf, len);
	return fmt_buf(buf, len, "show stat %s 4 -1", backend);
}

int hap_cmd_shutdown_session(char *buf, size_t len, const char *id)
{
	size_t digits = id != NULL && strncmp(id, "0x", 2) == 0 ? strspn(id + 2, "0123456789abcdefABCDEF") : 0;
	if (digits == 0 || digits > 20 || id[2 + digits] != '\0')
		return hap_cmd_refuse(buf, len);
	return fmt_buf(buf, len, "shutdown session %s", id);
}
