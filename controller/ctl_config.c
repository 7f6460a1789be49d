/* The controller's configuration table: every environment variable it reads, with its
 * default, bounds and help (the same table feeds --help and --print-config). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "ctl.h"
#include "log.h"
#include "redis_sentinel.h"
#include "redis_url.h"

struct ctl_config conf;

static int ctl_check_ip(const char *value, char *err, size_t errlen)
{
	if (addr_is_literal(value))
		return 0;
	snprintf(err, errlen, "\"%.64s\" is not an IPv4 or IPv6 address", value);
	return -1;
}

static const char *const ctl_send_proxy_words[] = {[CTL_SEND_PROXY_OFF] = "off", [CTL_SEND_PROXY_V2] = "v2", NULL};

/* An optional PEM file: "" (none), or a path this process can read now. */
static int ctl_check_readable(const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0' || access(value, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "\"%.200s\" cannot be read", value);
	return -1;
}

/* "" (the URL's host), or a DNS name or IP address to verify the server's certificate against. */
static int ctl_check_server_name(const char *value, char *err, size_t errlen)
{
	size_t len = strlen(value);
	if (len < 254 && strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:*") == len)
		return 0;
	snprintf(err, errlen, "\"%.64s\" is not a host name or IP address", value);
	return -1;
}

void ctl_redis_opts(struct redis_conn_opts *o)
{
	*o = (struct redis_conn_opts){
		.ca_file = conf.redis_ca_file[0] ? conf.redis_ca_file : NULL,
		.cert_file = conf.redis_cert_file[0] ? conf.redis_cert_file : NULL,
		.key_file = conf.redis_key_file[0] ? conf.redis_key_file : NULL,
		.server_name = conf.redis_server_name[0] ? conf.redis_server_name : NULL,
		.timeout_ms = (unsigned)conf.io_timeout_ms,
	};
	/* The biggest legitimate replies: the live members with scores, the override hash. */
	resp_limits_for_pairs(&o->limits, conf.max_nodes > CTL_OVERRIDES_MAX ? conf.max_nodes : CTL_OVERRIDES_MAX);
}

static int ctl_check_sentinels(const char *value, char *err, size_t errlen)
{
	struct redis_sentinel_addr v[REDIS_SENTINEL_MAX];
	size_t n;
	return value[0] == '\0' ? 0 : redis_sentinel_parse(value, v, REDIS_SENTINEL_MAX, &n, err, errlen);
}

/* A Sentinel resolver from MCS_REDIS_SENTINELS* into *out, NULL when none is configured. 0, or
 * -1 when out of memory. */
static int ctl_redis_sentinel(const struct redis_url *url, struct redis_sentinel **out)
{
	*out = NULL;
	if (conf.redis_sentinels[0] == '\0')
		return 0;
	struct redis_sentinel_addr v[REDIS_SENTINEL_MAX];
	size_t n;
	char err[160];
	if (redis_sentinel_parse(conf.redis_sentinels, v, REDIS_SENTINEL_MAX, &n, err, sizeof(err)) == -1)
		return -1;
	struct redis_conn_opts opts;
	ctl_redis_opts(&opts);
	opts.tls = url->tls; /* the sentinels speak what the master does */
	*out = redis_sentinel_new(v, n, conf.redis_sentinel_master,
				  conf.redis_sentinel_password[0] ? conf.redis_sentinel_password : NULL, &opts);
	return *out != NULL ? 0 : -1;
}

int ctl_redis_data(const struct redis_url *url, struct redis_conn_opts *opts, struct redis_sentinel **sentinel)
{
	ctl_redis_opts(opts);
	redis_url_to_opts(url, opts);
	return ctl_redis_sentinel(url, sentinel);
}

static void ctl_redact_secret(const char *value, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", value[0] ? "***" : "");
}

#define MS "milliseconds"
/* One variable per row, however long: the formatter leaves the table alone. */
/* clang-format off */
const struct cfg_var ctl_vars[] = {
	{"REDIS_URL", CFG_STR, "redis://redis:6379", 0, 0, NULL, "Redis holding the chat nodes: redis://[user:password@]host[:port][/db], rediss:// for TLS", &conf.redis_url, redis_url_check, redis_url_redact, NULL},
	{"MCS_REDIS_SENTINELS", CFG_STR, "", 0, 0, NULL, "host:port[,host:port...] of Redis Sentinels to ask where the master is (empty: REDIS_URL's host is the master)", &conf.redis_sentinels, ctl_check_sentinels, NULL, NULL},
	{"MCS_REDIS_SENTINEL_MASTER", CFG_STR, "mymaster", 0, 0, NULL, "the master's name in the sentinels' configuration", &conf.redis_sentinel_master, cfg_check_nonempty, NULL, NULL},
	{"MCS_REDIS_SENTINEL_PASSWORD", CFG_STR, "", 0, 0, NULL, "AUTH password of the sentinels (empty: none)", &conf.redis_sentinel_password, NULL, ctl_redact_secret, NULL},
	{"MCS_REDIS_CA_FILE", CFG_STR, "", 0, 0, NULL, "rediss://: PEM CA certificates the server's certificate is verified against (empty: the system's CA store)", &conf.redis_ca_file, ctl_check_readable, NULL, NULL},
	{"MCS_REDIS_CERT_FILE", CFG_STR, "", 0, 0, NULL, "rediss://: PEM client certificate for mutual TLS (empty: none)", &conf.redis_cert_file, ctl_check_readable, NULL, NULL},
	{"MCS_REDIS_KEY_FILE", CFG_STR, "", 0, 0, NULL, "rediss://: the client certificate's PEM key (empty: in MCS_REDIS_CERT_FILE)", &conf.redis_key_file, ctl_check_readable, NULL, NULL},
	{"MCS_REDIS_TLS_SERVER_NAME", CFG_STR, "", 0, 0, NULL, "rediss://: the name the server's certificate must carry, and SNI (empty: the URL's host)", &conf.redis_server_name, ctl_check_server_name, NULL, NULL},
	{"MCS_NODE_KEY", CFG_STR, "mcs:node", 0, 0, NULL, "sorted set the chat nodes heartbeat into", &conf.node_key, cfg_check_nonempty, NULL, NULL},
	{"MCS_NODE_TTL_MS", CFG_UINT, "5000", 500, 3600000, MS, "a node is live while its heartbeat is younger than this", &conf.ttl_ms, NULL, NULL, NULL},
	{"MCS_POLL_MS", CFG_UINT, "1000", 50, 60000, MS, "interval between two reconcile steps", &conf.poll_ms, NULL, NULL, NULL},
	{"MCS_NODE_MAX_FUTURE_MS", CFG_UINT, "30000", 0, 3600000, MS, "heartbeats further ahead of Redis TIME are refused", &conf.max_future_ms, NULL, NULL, NULL},
	{"MCS_MAX_NODES", CFG_UINT, "20000", 1, 1000000, "nodes", "at most this many live nodes are served (the freshest)", &conf.max_nodes, NULL, NULL, NULL},
	{"MCS_RUN_DIR", CFG_STR, "run", 0, 0, NULL, "directory of HAProxy's admin.sock and of controller.json", &conf.run_dir, cfg_check_nonempty, NULL, NULL},
	{"MCS_CHECK_INTER_MS", CFG_UINT, "3000", 100, 3600000, MS, "TCP health check interval per node", &conf.check_inter_ms, NULL, NULL, NULL},
	{"MCS_CHECK_FALL", CFG_UINT, "3", 1, 100, "checks", "failed checks that mark a node down", &conf.check_fall, NULL, NULL, NULL},
	{"MCS_CHECK_RISE", CFG_UINT, "2", 1, 100, "checks", "passed checks that mark a node up again", &conf.check_rise, NULL, NULL, NULL},
	{"MCS_NODE_WEIGHT", CFG_UINT, "100", 1, 256, "weight", "HAProxy weight of every node", &conf.weight, NULL, NULL, NULL},
	{"MCS_DRAIN_TIMEOUT_S", CFG_UINT, "300", 0, 86400, "seconds", "a leaving node's sessions are cut after this", &conf.drain_timeout_s, NULL, NULL, NULL},
	{"MCS_DRAIN_SPREAD_S", CFG_UINT, "5", 0, 3600, "seconds", "after the drain timeout, remaining sessions are shut over this long", &conf.drain_spread_s, NULL, NULL, NULL},
	{"MCS_MASS_REMOVAL_PCT", CFG_UINT, "50", 1, 100, "percent", "draining more than this share of serving nodes in one step is held (100: never)", &conf.mass_removal_pct, NULL, NULL, NULL},
	{"MCS_MASS_REMOVAL_HOLD_S", CFG_UINT, "30", 0, 86400, "seconds", "a held mass removal goes ahead once seen this long (or touch $MCS_RUN_DIR/confirm-removal)", &conf.mass_removal_hold_s, NULL, NULL, NULL},
	{"MCS_FULL_SYNC_S", CFG_UINT, "10", 0, 3600, "seconds", "with nothing changing, HAProxy's servers are re-read at least this often (0: every step)", &conf.full_sync_s, NULL, NULL, NULL},
	{"MCS_AGENT", CFG_ENUM, "on", 0, 0, NULL, "on: HAProxy's agent check asks the controller about each node (warm-up, overrides, drain)", &conf.agent, NULL, NULL, cfg_words_off_on},
	{"MCS_AGENT_ADDR", CFG_STR, "127.0.0.1", 0, 0, NULL, "address the agent listens on and HAProxy connects to", &conf.agent_addr, ctl_check_ip, NULL, NULL},
	{"MCS_AGENT_PORT", CFG_UINT, "0", 0, 65535, "port", "agent port (0: any free port; servers are re-pointed when it changes)", &conf.agent_port, NULL, NULL, NULL},
	{"MCS_AGENT_INTER_MS", CFG_UINT, "1000", 100, 3600000, MS, "agent check interval per node", &conf.agent_inter_ms, NULL, NULL, NULL},
	{"MCS_WARMUP_S", CFG_UINT, "10", 0, 3600, "seconds", "a new node's weight ramps up over this long (0: full weight at once)", &conf.warmup_s, NULL, NULL, NULL},
	{"MCS_WARMUP_START_PCT", CFG_UINT, "10", 1, 100, "percent", "a new node's weight at the start of its warm-up", &conf.warmup_start_pct, NULL, NULL, NULL},
	{"MCS_AGENT_OVERRIDE_KEY", CFG_STR, "mcs:node:agent", 0, 0, NULL, "hash of per-node overrides: field ip:port, value drain, maint or NN%", &conf.override_key, cfg_check_nonempty, NULL, NULL},
	{"MCS_REDIS_NOTIFY", CFG_ENUM, "on", 0, 0, NULL, "on: react at once to keyspace notifications of the node key when Redis sends them", &conf.notify, NULL, NULL, cfg_words_off_on},
	{"MCS_NOTIFY_MIN_GAP_MS", CFG_UINT, "25", 0, 10000, MS, "notifications are looked at no more often than this (coalescing)", &conf.notify_gap_ms, NULL, NULL, NULL},
	{"MCS_TLS_DIR", CFG_STR, "tls", 0, 0, NULL, "where server.cert and server.key are watched for hot reload", &conf.tls_dir, cfg_check_nonempty, NULL, NULL},
	{"MCS_CERT_RELOAD", CFG_ENUM, "on", 0, 0, NULL, "on: a changed, valid certificate pair is swapped into HAProxy at run time", &conf.cert_reload, NULL, NULL, cfg_words_off_on},
	{"MCS_SEND_PROXY", CFG_ENUM, "off", 0, 0, NULL, "v2: every connection to a node, health checks included, starts with a PROXY protocol v2 header (the client's address)", &conf.send_proxy, NULL, NULL, ctl_send_proxy_words},
	{"MCS_IO_TIMEOUT_MS", CFG_UINT, "3000", 100, 60000, MS, "timeout of one Redis or runtime-API exchange", &conf.io_timeout_ms, NULL, NULL, NULL},
	CFG_LOG_ROWS(&conf.log_level, &conf.log_format),
};
/* clang-format on */
#undef MS
const size_t ctl_nvars = sizeof(ctl_vars) / sizeof(ctl_vars[0]);
