/* `show servers state`: the version line, a header naming the columns, one space-separated line
 * per server; columns found by name, anything malformed or cut short refused whole. */
#include "hap_servers.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_parse.h"

#define HAP_SS_COLS_MAX 64 /* show servers state columns: 25 in 2.6 */

enum hap_ss_kind {
	HAP_SS_NAME,     /* copied as is */
	HAP_SS_ADDR,     /* copied, "-" becomes "" */
	HAP_SS_UINT,     /* decimal within unsigned */
	HAP_SS_UINT_OPT, /* the same, 0 when the header has no such column */
	HAP_SS_ADDR_OPT, /* an address, "" when "-" or when the header has no such column */
};

/* The columns we keep, found by name in the header. */
static const struct hap_ss_col {
	const char *name;
	enum hap_ss_kind kind;
	size_t off;  /* in struct hap_server_state */
	size_t size; /* of a string member */
} hap_ss_cols[] = {
	{"srv_name", HAP_SS_NAME, offsetof(struct hap_server_state, name),
	 sizeof(((struct hap_server_state *)0)->name)},
	{"srv_addr", HAP_SS_ADDR, offsetof(struct hap_server_state, addr),
	 sizeof(((struct hap_server_state *)0)->addr)},
	{"srv_port", HAP_SS_UINT, offsetof(struct hap_server_state, port), 0},
	{"srv_id", HAP_SS_UINT, offsetof(struct hap_server_state, id), 0},
	{"srv_op_state", HAP_SS_UINT, offsetof(struct hap_server_state, op_state), 0},
	{"srv_admin_state", HAP_SS_UINT, offsetof(struct hap_server_state, admin_state), 0},
	{"srv_uweight", HAP_SS_UINT, offsetof(struct hap_server_state, uweight), 0},
	{"srv_iweight", HAP_SS_UINT_OPT, offsetof(struct hap_server_state, iweight), 0},
	{"srv_check_state", HAP_SS_UINT, offsetof(struct hap_server_state, check_state), 0},
	{"srv_agent_state", HAP_SS_UINT, offsetof(struct hap_server_state, agent_state), 0},
	{"srv_agent_addr", HAP_SS_ADDR_OPT, offsetof(struct hap_server_state, agent_addr),
	 sizeof(((struct hap_server_state *)0)->agent_addr)},
	{"srv_agent_port", HAP_SS_UINT_OPT, offsetof(struct hap_server_state, agent_port), 0},
};
#define HAP_SS_NCOLS (sizeof(hap_ss_cols) / sizeof(hap_ss_cols[0]))

struct hap_ss_parser {
	char *text;                 /* owned copy, split in place */
	char *p;                    /* next line */
	size_t line;                /* number of the line last taken, from 1 */
	size_t ncols;               /* header fields */
	int idx[HAP_SS_NCOLS];      /* header position of each hap_ss_cols entry */
	struct hap_server_state *v; /* result, grown by doubling */
	size_t n, cap;
	char *err;
	size_t errlen;
};

/* Takes the next line, NUL-terminated in place, into *line. 1, 0 at the end of the text, or -1
 * when the text ends without a line end. */
static int hap_ss_line(struct hap_ss_parser *ps, char **line)
{
	if (*ps->p == '\0')
		return 0;
	char *nl = strchr(ps->p, '\n');
	ps->line++;
	if (nl == NULL) {
		snprintf(ps->err, ps->errlen, "show servers state: line %zu is truncated (no end of line)", ps->line);
		return -1;
	}
	*nl = '\0';
	*line = ps->p;
	ps->p = nl + 1;
	return 1;
}

/* Splits line on single spaces into f (at most HAP_SS_COLS_MAX); HAProxy writes "-" for an
 * empty value, so an empty field means a damaged line. Returns the count, or -1. */
static int hap_ss_split(struct hap_ss_parser *ps, char *line, char **f)
{
	int n = 0;
	for (;;) {
		if (n == HAP_SS_COLS_MAX) {
			snprintf(ps->err, ps->errlen, "show servers state: line %zu has over %d fields", ps->line,
				 HAP_SS_COLS_MAX);
			return -1;
		}
		if (*line == ' ' || *line == '\0') {
			snprintf(ps->err, ps->errlen, "show servers state: line %zu: field %d is empty", ps->line,
				 n + 1);
			return -1;
		}
		f[n++] = line;
		char *sp = strchr(line, ' ');
		if (sp == NULL)
			return n;
		*sp = '\0';
		line = sp + 1;
	}
}

/* Reads the version line and the header, and finds every column we keep. */
static int hap_ss_header(struct hap_ss_parser *ps)
{
	char *line = NULL, *f[HAP_SS_COLS_MAX], shown[HAP_PARSE_SHOWN + 1];
	int rc = hap_ss_line(ps, &line);
	if (rc == -1)
		return -1;
	if (rc == 0 || strcmp(line, "1") != 0) {
		hap_parse_quote(shown, sizeof(shown), rc == 0 ? "" : line);
		snprintf(ps->err, ps->errlen, "show servers state: expected format version 1, got \"%s\"", shown);
		return -1;
	}
	rc = hap_ss_line(ps, &line);
	if (rc == -1)
		return -1;
	if (rc == 0 || strncmp(line, "# ", 2) != 0) {
		snprintf(ps->err, ps->errlen, "show servers state: line 2 is not the \"# be_id ...\" header");
		return -1;
	}
	int nf = hap_ss_split(ps, line + 2, f);
	if (nf == -1)
		return -1;
	ps->ncols = (size_t)nf;
	for (size_t c = 0; c < HAP_SS_NCOLS; c++) {
		ps->idx[c] = -1;
		for (int i = 0; i < nf && ps->idx[c] == -1; i++)
			ps->idx[c] = strcmp(f[i], hap_ss_cols[c].name) == 0 ? i : -1;
		if (ps->idx[c] == -1 && hap_ss_cols[c].kind != HAP_SS_UINT_OPT &&
		    hap_ss_cols[c].kind != HAP_SS_ADDR_OPT) {
			snprintf(ps->err, ps->errlen, "show servers state: the header lacks column %s",
				 hap_ss_cols[c].name);
			return -1;
		}
	}
	return 0;
}

/* Stores field s of column c into srv. 0, or -1 with the reason. */
static int hap_ss_store(struct hap_ss_parser *ps, const struct hap_ss_col *c, const char *s,
			struct hap_server_state *srv)
{
	char *dst = (char *)srv + c->off;
	char shown[HAP_PARSE_SHOWN + 1];
	unsigned long long v;
	int is_addr = c->kind == HAP_SS_ADDR || c->kind == HAP_SS_ADDR_OPT;
	if (is_addr && strcmp(s, "-") == 0)
		s = "";
	if (c->kind == HAP_SS_NAME || is_addr) {
		size_t len = strlen(s);
		if (len >= c->size) {
			snprintf(ps->err, ps->errlen, "show servers state: line %zu: %s of %zu bytes exceeds %zu",
				 ps->line, c->name, len, c->size - 1);
			return -1;
		}
		memcpy(dst, s, len + 1);
		return 0;
	}
	if (hap_parse_u64(s, &v) == -1 || v > UINT_MAX) {
		hap_parse_quote(shown, sizeof(shown), s);
		snprintf(ps->err, ps->errlen, "show servers state: line %zu: %s \"%s\" is not an unsigned number",
			 ps->line, c->name, shown);
		return -1;
	}
	*(unsigned *)(void *)dst = (unsigned)v;
	return 0;
}

/* Parses one server line and appends it to the result. */
static int hap_ss_row(struct hap_ss_parser *ps, char *line)
{
	char *f[HAP_SS_COLS_MAX];
	int nf = hap_ss_split(ps, line, f);
	if (nf == -1)
		return -1;
	if ((size_t)nf != ps->ncols) {
		snprintf(ps->err, ps->errlen, "show servers state: line %zu has %d fields, the header has %zu",
			 ps->line, nf, ps->ncols);
		return -1;
	}
	if (ps->n == ps->cap) {
		size_t cap = ps->cap == 0 ? 16 : 2 * ps->cap;
		struct hap_server_state *v = realloc(ps->v, cap * sizeof(*v));
		if (v == NULL) {
			snprintf(ps->err, ps->errlen, "show servers state: out of memory at line %zu", ps->line);
			return -1;
		}
		ps->v = v;
		ps->cap = cap;
	}
	struct hap_server_state *srv = &ps->v[ps->n];
	memset(srv, 0, sizeof(*srv));
	for (size_t c = 0; c < HAP_SS_NCOLS; c++) {
		if (ps->idx[c] != -1 && hap_ss_store(ps, &hap_ss_cols[c], f[ps->idx[c]], srv) == -1)
			return -1;
	}
	ps->n++;
	return 0;
}

int hap_servers_state_parse(const char *text, struct hap_server_state **out, size_t *n, char *err, size_t errlen)
{
	struct hap_ss_parser ps = {.err = err, .errlen = errlen};
	char *line = NULL;
	int rc;
	*out = NULL;
	*n = 0;
	if ((ps.text = strdup(text)) == NULL) {
		snprintf(err, errlen, "show servers state: out of memory");
		goto fail;
	}
	ps.p = ps.text;
	if (hap_ss_header(&ps) == -1)
		goto fail;
	while ((rc = hap_ss_line(&ps, &line)) == 1 && line[0] != '\0') {
		if (line[0] != '#' && hap_ss_row(&ps, line) == -1)
			goto fail;
	}
	if (rc == -1 || hap_parse_tail_empty(ps.p, "show servers state", ps.line, err, errlen) == -1)
		goto fail;
	free(ps.text);
	*out = ps.v;
	*n = ps.n;
	return 0;
fail:
	free(ps.text);
	free(ps.v);
	return -1;
}
