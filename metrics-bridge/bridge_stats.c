/* HAProxy replies to raw metric values: columns found by header name, servers labelled by
 * the address they were registered with, never by their internal name. */
#include "bridge_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "hap_csv.h"
#include "hap_info.h"
#include "hap_servers.h"
#include "hap_table.h"

/* Column indexes of one `show stat` table; -1 where the header lacks an optional one. */
struct stats_cols {
	int px, sv, type, scur, stot, chkfail, status, sid, addr;                            /* required */
	int econ, chkdown, uweight, weight, lastchg, chk, chkdur, rate, slim, sslfail, dcon; /* optional */
};

#define STATS_TYPE_FRONTEND 0ull
#define STATS_TYPE_BACKEND 1ull
#define STATS_TYPE_SERVER 2ull

void bridge_snapshot_clear(struct bridge_snapshot *s)
{
	for (size_t i = 0; i < s->n_nodes; i++)
		free(s->nodes[i].label);
	free(s->nodes);
	memset(s, 0, sizeof(*s));
}

static int stats_parse_ull(const char *text, unsigned long long *out)
{
	if (text[0] < '0' || text[0] > '9' || strlen(text) > 20)
		return -1;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

void bridge_stats_set_info(struct bridge_snapshot *s, const struct hap_info *info)
{
	s->pid = info->pid;
	s->uptime_s = info->uptime_s;
	snprintf(s->version, sizeof(s->version), "%s", info->version);
}

int bridge_stats_label(const char *addr, unsigned port, char *out, size_t outlen)
{
	if (addr == NULL || addr[0] == '\0')
		return -1;
	int n = strchr(addr, ':') != NULL ? snprintf(out, outlen, "[%s]:%u", addr, port)
					  : snprintf(out, outlen, "%s:%u", addr, port);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int stats_find_cols(const struct hap_csv *t, struct stats_cols *c, char *err, size_t errlen)
{
	static const char *const required[] = {"pxname",  "svname", "type", "scur", "stot",
					       "chkfail", "status", "sid",  "addr"};
	static const char *const optional[] = {
		"econ",         "chkdown",        "uweight", "weight", "lastchg",
		"check_status", "check_duration", "rate",    "slim",   "ssl_failed_handshake",
		"dcon"};
	int *req = &c->px, *opt = &c->econ;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if ((req[i] = hap_csv_col(t, required[i])) == -1) {
			snprintf(err, errlen, "show stat: no %s column", required[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		opt[i] = hap_csv_col(t, optional[i]);
	return 0;
}

/* Reads an optional counter column: absent or empty gives 0. */
static int stats_get(const struct hap_csv *t, size_t row, int col, unsigned long long *out)
{
	*out = 0;
	return col == -1 ? 0 : hap_csv_get_u64(t, row, col, out);
}

/* Maps HAProxy's status text ("UP", "UP 1/3", "DOWN 1/2", "MAINT (via)", "DRAIN", ...). */
static void stats_status(const char *status, struct bridge_node *n)
{
	n->maint = strncmp(status, "MAINT", 5) == 0;
	n->drain = strncmp(status, "DRAIN", 5) == 0;
	n->up = !n->maint && strncmp(status, "DOWN", 4) != 0 &&
		(strncmp(status, "UP", 2) == 0 || n->drain || strcmp(status, "NOLB") == 0 ||
		 strcmp(status, "no check") == 0);
}

/* Maps check_status: "L4OK", "* L7OK" (a check running now), "L4CON", "INI", "". */
static int stats_check_ok(const char *text)
{
	static const char *const ok[] = {"L4OK", "L6OK", "L7OK", "L7OKC", "PROCOK"};
	if (strncmp(text, "* ", 2) == 0)
		text += 2;
	if (text[0] == '\0' || strcmp(text, "INI") == 0 || strcmp(text, "UNK") == 0)
		return -1;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(text, ok[i]) == 0)
			return 1;
	return 0;
}

static int stats_state_cmp(const void *a, const void *b)
{
	unsigned x = ((const struct hap_server_state *)a)->id, y = ((const struct hap_server_state *)b)->id;
	return (x > y) - (x < y);
}

/* The server state of sid and name, or NULL. sorted holds the states ordered by id. */
static const struct hap_server_state *stats_state_find(const struct hap_server_state *sorted, size_t n, unsigned sid,
						       const char *name)
{
	struct hap_server_state key = {.id = sid};
	const struct hap_server_state *st = n ? bsearch(&key, sorted, n, sizeof(*sorted), stats_state_cmp) : NULL;
	return st != NULL && strcmp(st->name, name) == 0 ? st : NULL;
}

/* The label of a server named as the controller names them: "ip:port", "ipv6:port" (no
 * brackets) or "[ipv6]:port". Returns 0, or -1 when the name is not an address and port. */
static int stats_label_from_name(const char *name, char *out, size_t outlen)
{
	char addr[64];
	const char *colon = strrchr(name, ':');
	unsigned long long port;
	if (colon == NULL || stats_parse_ull(colon + 1, &port) == -1 || port == 0 || port > 65535)
		return -1;
	size_t len = (size_t)(colon - name);
	if (len >= 2 && name[0] == '[' && name[len - 1] == ']')
		name++, len -= 2;
	if (len == 0 || len >= sizeof(addr))
		return -1;
	memcpy(addr, name, len);
	addr[len] = '\0';
	if (!addr_is_literal(addr))
		return -1;
	return bridge_stats_label(addr, (unsigned)port, out, outlen);
}

/* The label of a server row into out: the addr column (printed at operator level and above),
 * else the matching `show servers state` line, else the server's name when it is an address
 * (the controller's naming). Returns 0, or -1 when none of them tells. */
static int stats_node_label(const struct hap_csv *t, size_t row, const struct stats_cols *c,
			    const struct hap_server_state *sorted, size_t n_sorted, unsigned sid, char *out,
			    size_t outlen)
{
	const char *addr = hap_csv_get(t, row, c->addr), *name = hap_csv_get(t, row, c->sv);
	if (addr[0] != '\0') {
		int n = snprintf(out, outlen, "%s", addr);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	const struct hap_server_state *st = stats_state_find(sorted, n_sorted, sid, name);
	if (st != NULL && bridge_stats_label(st->addr, st->port, out, outlen) == 0)
		return 0;
	return stats_label_from_name(name, out, outlen);
}

static int stats_read_node(const struct hap_csv *t, size_t row, const struct stats_cols *c, struct bridge_node *n)
{
	unsigned long long sid;
	if (hap_csv_get_u64(t, row, c->sid, &sid) == -1 || sid > 0xffffffffull ||
	    hap_csv_get_u64(t, row, c->scur, &n->scur) == -1 || hap_csv_get_u64(t, row, c->stot, &n->stot) == -1 ||
	    hap_csv_get_u64(t, row, c->chkfail, &n->chkfail) == -1 || stats_get(t, row, c->econ, &n->econ) == -1 ||
	    stats_get(t, row, c->chkdown, &n->chkdown) == -1 || stats_get(t, row, c->lastchg, &n->lastchg) == -1 ||
	    stats_get(t, row, c->uweight != -1 ? c->uweight : c->weight, &n->weight) == -1)
		return -1;
	n->sid = (unsigned)sid;
	stats_status(hap_csv_get(t, row, c->status), n);
	n->check_ok = c->chk == -1 ? -1 : stats_check_ok(hap_csv_get(t, row, c->chk));
	n->check_duration_s = -1;
	unsigned long long ms;
	if (c->chkdur != -1 && hap_csv_get(t, row, c->chkdur)[0] != '\0') {
		if (hap_csv_get_u64(t, row, c->chkdur, &ms) == -1)
			return -1;
		n->check_duration_s = (double)ms / 1000.0;
	}
	return 0;
}

static int stats_read_frontend(const struct hap_csv *t, size_t row, const struct stats_cols *c,
			       struct bridge_snapshot *s)
{
	s->fe_found = 1;
	s->fe_has_ssl_fail = c->sslfail != -1;
	s->fe_has_dcon = c->dcon != -1;
	if (hap_csv_get_u64(t, row, c->scur, &s->fe_scur) == -1 ||
	    hap_csv_get_u64(t, row, c->stot, &s->fe_stot) == -1 || stats_get(t, row, c->rate, &s->fe_rate) == -1 ||
	    stats_get(t, row, c->slim, &s->fe_slim) == -1 || stats_get(t, row, c->sslfail, &s->fe_ssl_fail) == -1 ||
	    stats_get(t, row, c->dcon, &s->fe_dcon) == -1)
		return -1;
	return 0;
}

static int stats_label_cmp(const void *a, const void *b)
{
	const struct bridge_node *x = *(const struct bridge_node *const *)a, *y = *(const struct bridge_node *const *)b;
	int c = strcmp(x->label, y->label);
	/* Equal labels: the earlier row (lower address in the array) is kept. */
	return c != 0 ? c : (x > y) - (x < y);
}

/* Marks every repeat of a label skip, keeping its first row. Returns 0, or -1 on OOM. */
static int stats_mark_duplicates(struct bridge_snapshot *s)
{
	if (s->n_nodes < 2)
		return 0;
	struct bridge_node **order = malloc(s->n_nodes * sizeof(*order));
	if (order == NULL)
		return -1;
	for (size_t i = 0; i < s->n_nodes; i++)
		order[i] = &s->nodes[i];
	qsort(order, s->n_nodes, sizeof(*order), stats_label_cmp);
	for (size_t i = 1; i < s->n_nodes; i++)
		order[i]->skip = strcmp(order[i]->label, order[i - 1]->label) == 0;
	free(order);
	return 0;
}

/* Reads every row of interest of t into s. Returns 0, or -1 with the reason in err. */
static int stats_read_rows(const struct hap_csv *t, const struct stats_cols *c, const char *frontend,
			   const char *backend, const struct hap_server_state *sorted, size_t n_sorted,
			   struct bridge_snapshot *s, char *err, size_t errlen)
{
	size_t rows = hap_csv_rows(t);
	s->nodes = calloc(rows ? rows : 1, sizeof(*s->nodes));
	if (s->nodes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t row = 0; row < rows; row++) {
		const char *px = hap_csv_get(t, row, c->px);
		unsigned long long type;
		if (hap_csv_get_u64(t, row, c->type, &type) == -1) {
			snprintf(err, errlen, "show stat: row %zu: type is not a number", row + 1);
			return -1;
		}
		int bad = 0;
		if (type == STATS_TYPE_FRONTEND && strcmp(px, frontend) == 0) {
			bad = stats_read_frontend(t, row, c, s);
		} else if (type == STATS_TYPE_BACKEND && strcmp(px, backend) == 0) {
			s->be_found = 1;
		} else if (type == STATS_TYPE_SERVER && strcmp(px, backend) == 0) {
			struct bridge_node *n = &s->nodes[s->n_nodes];
			char label[160];
			if ((bad = stats_read_node(t, row, c, n)) == 0 &&
			    stats_node_label(t, row, c, sorted, n_sorted, n->sid, label, sizeof(label)) == -1) {
				s->n_unlabelled++;
				memset(n, 0, sizeof(*n));
				continue;
			}
			if (bad == 0 && (n->label = strdup(label)) == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			/* A drained server whose checks fail shows "DOWN": its admin state still says drain. */
			const struct hap_server_state *st =
				bad ? NULL : stats_state_find(sorted, n_sorted, n->sid, hap_csv_get(t, row, c->sv));
			if (st != NULL && (st->admin_state & HAP_ADMF_DRAIN) && !n->maint)
				n->drain = 1;
			s->n_nodes += bad == 0;
		}
		if (bad) {
			snprintf(err, errlen, "show stat: row %zu (%.40s/%.60s): a number is not one", row + 1, px,
				 hap_csv_get(t, row, c->sv));
			return -1;
		}
	}
	return 0;
}

int bridge_stats_parse_stat(const char *csv, const char *frontend, const char *backend,
			    const struct hap_server_state *states, size_t n_states, struct bridge_snapshot *s,
			    char *err, size_t errlen)
{
	long pid = s->pid;
	unsigned long long uptime = s->uptime_s;
	char version[sizeof(s->version)];
	memcpy(version, s->version, sizeof(version));
	bridge_snapshot_clear(s);
	s->pid = pid, s->uptime_s = uptime;
	memcpy(s->version, version, sizeof(version));
	struct hap_server_state *sorted = NULL;
	struct stats_cols cols;
	int rc = -1;
	struct hap_csv *t = hap_csv_parse(csv, err, errlen);
	if (t == NULL || stats_find_cols(t, &cols, err, errlen) == -1)
		goto done;
	if (n_states > 0) {
		if ((sorted = malloc(n_states * sizeof(*sorted))) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		memcpy(sorted, states, n_states * sizeof(*sorted));
		qsort(sorted, n_states, sizeof(*sorted), stats_state_cmp);
	}
	if (stats_read_rows(t, &cols, frontend, backend, sorted, n_states, s, err, errlen) == -1)
		goto done;
	if (stats_mark_duplicates(s) == -1) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	if (rc == -1) {
		bridge_snapshot_clear(s);
		s->pid = pid, s->uptime_s = uptime;
		memcpy(s->version, version, sizeof(version));
	}
	free(sorted);
	hap_csv_free(t);
	return rc;
}

int bridge_stats_parse_table(const char *text, const char *table, struct bridge_snapshot *s, char *err, size_t errlen)
{
	struct hap_table_use use;
	int rc = hap_table_use_parse(text, table, &use, err, errlen);
	s->table_found = use.found;
	s->table_size = use.size;
	s->table_used = use.used;
	return rc;
}
