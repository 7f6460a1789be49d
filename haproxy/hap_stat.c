/* Parsers of `show stat` CSV, `show servers state` and `show info` replies. Columns are found
 * by header name; anything malformed or cut short is refused whole, with one line saying where. */
#include "hap_stat.h"
#include "hap_cmd.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HAP_SS_COLS_MAX 64 /* show servers state columns: 25 in 2.6 */
#define HAP_SHOWN 40       /* bytes of offending text quoted in messages */

/* Writes at most HAP_SHOWN bytes of s, up to its line end, control bytes as '?'. */
static void hap_quote(char *out, size_t outlen, const char *s)
{
	size_t n = strcspn(s, "\n");
	if (n > HAP_SHOWN)
		n = HAP_SHOWN;
	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[n] = '\0';
}

/* Parses 1..20 decimal digits, nothing else, into *out. 0 or -1 (overflow included). */
static int hap_parse_u64(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* ---- show stat ---------------------------------------------------------------------------- */

struct hap_csv {
	char *text;    /* owned copy; fields are NUL-terminated in place */
	char **fields; /* header names, then each row: ncols entries per line, into text */
	size_t nfields;
	size_t cap;
	size_t ncols;
};

static int hap_csv_push(struct hap_csv *t, char *field)
{
	if (t->nfields == t->cap) {
		size_t cap = t->cap == 0 ? 256 : 2 * t->cap;
		char **fields = realloc(t->fields, cap * sizeof(*fields));
		if (fields == NULL)
			return -1;
		t->fields = fields;
		t->cap = cap;
	}
	t->fields[t->nfields++] = field;
	return 0;
}

/* Unquotes the field at p in place ("a""b" -> a"b); returns the byte after the closing quote,
 * or NULL when the text ends first. */
static char *hap_csv_unquote(char *p)
{
	char *w = p;
	for (p++;; p++) {
		if (*p == '\0')
			return NULL;
		if (*p == '"' && p[1] == '"')
			p++;
		else if (*p == '"')
			break;
		*w++ = *p;
	}
	*w = '\0';
	return p + 1;
}

/* Splits the line at *pp into fields appended to t, moving *pp past its '\n'. Returns 0, or -1
 * with the reason in err: a cut line or quote, a stray quote, OOM. */
static int hap_csv_split(struct hap_csv *t, char **pp, size_t line, char *err, size_t errlen)
{
	char *p = *pp;
	for (;;) {
		char *field = p;
		int quoted = *p == '"';
		if (quoted && (p = hap_csv_unquote(p)) == NULL) {
			snprintf(err, errlen, "show stat: line %zu is truncated inside a quoted field", line);
			return -1;
		}
		if (!quoted)
			p += strcspn(p, ",\n");
		char delim = *p;
		if (delim != ',' && delim != '\n') {
			snprintf(err, errlen, "show stat: line %zu is truncated (%s)", line,
				 delim == '\0' ? "no end of line" : "text after a closing quote");
			return -1;
		}
		*p++ = '\0';
		if (hap_csv_push(t, field) == -1) {
			snprintf(err, errlen, "show stat: out of memory at line %zu", line);
			return -1;
		}
		if (delim == '\n')
			break;
	}
	*pp = p;
	return 0;
}

/* Reads the "# name,name,...\n" header into t. */
static int hap_csv_header(struct hap_csv *t, char **pp, char *err, size_t errlen)
{
	char shown[HAP_SHOWN + 1];
	if (strncmp(*pp, "# ", 2) != 0) {
		hap_quote(shown, sizeof(shown), *pp);
		snprintf(err, errlen, "show stat: no \"# pxname,...\" header, the reply starts \"%s\"", shown);
		return -1;
	}
	*pp += 2;
	if (hap_csv_split(t, pp, 1, err, errlen) == -1)
		return -1;
	t->ncols = t->nfields;
	return 0;
}

/* Accepts the end of the text, or only empty lines after the one that ended the table. */
static int hap_tail_empty(const char *p, const char *what, size_t line, char *err, size_t errlen)
{
	char shown[HAP_SHOWN + 1];
	p += strspn(p, "\n");
	if (*p == '\0')
		return 0;
	hap_quote(shown, sizeof(shown), p);
	snprintf(err, errlen, "%s: text after the empty line %zu: \"%s\"", what, line, shown);
	return -1;
}

struct hap_csv *hap_csv_parse(const char *text, char *err, size_t errlen)
{
	struct hap_csv *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->text = strdup(text)) == NULL)
		goto oom;
	char *p = t->text;
	if (hap_csv_header(t, &p, err, errlen) == -1)
		goto fail;
	for (size_t line = 2; *p != '\0' && *p != '\n'; line++) {
		size_t before = t->nfields;
		if (hap_csv_split(t, &p, line, err, errlen) == -1)
			goto fail;
		if (t->nfields - before != t->ncols) {
			snprintf(err, errlen, "show stat: line %zu has %zu fields, the header has %zu", line,
				 t->nfields - before, t->ncols);
			goto fail;
		}
	}
	if (hap_tail_empty(p, "show stat", hap_csv_rows(t) + 2, err, errlen) == -1)
		goto fail;
	return t;
oom:
	snprintf(err, errlen, "show stat: out of memory");
fail:
	hap_csv_free(t);
	return NULL;
}

void hap_csv_free(struct hap_csv *t)
{
	if (t == NULL)
		return;
	free(t->fields);
	t->fields = NULL;
	free(t->text);
	t->text = NULL;
	free(t);
}

size_t hap_csv_rows(const struct hap_csv *t)
{
	return t->ncols == 0 ? 0 : t->nfields / t->ncols - 1;
}

int hap_csv_col(const struct hap_csv *t, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return -1;
	for (size_t i = 0; i < t->ncols && i < INT_MAX; i++) {
		if (strcmp(t->fields[i], name) == 0)
			return (int)i;
	}
	return -1;
}

const char *hap_csv_get(const struct hap_csv *t, size_t row, int col)
{
	if (col < 0 || (size_t)col >= t->ncols || row >= hap_csv_rows(t))
		return NULL;
	return t->fields[(row + 1) * t->ncols + (size_t)col];
}

int hap_csv_get_u64(const struct hap_csv *t, size_t row, int col, unsigned long long *out)
{
	const char *s = hap_csv_get(t, row, col);
	if (s == NULL)
		return -1;
	if (*s == '\0') {
		*out = 0;
		return 0;
	}
	return hap_parse_u64(s, out);
}

/* ---- show servers state ------------------------------------------------------------------- */

enum hap_ss_kind {
	HAP_SS_NAME, /* copied as is */
	HAP_SS_ADDR, /* copied, "-" becomes "" */
	HAP_SS_UINT, /* decimal within unsigned */
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
	{"srv_name", HAP_SS_NAME, offsetof(struct hap_server_state, name), sizeof(((struct hap_server_state *)0)->name)},
	{"srv_addr", HAP_SS_ADDR, offsetof(struct hap_server_state, addr), sizeof(((struct hap_server_state *)0)->addr)},
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
			snprintf(ps->err, ps->errlen, "show servers state: line %zu: field %d is empty", ps->line, n + 1);
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
	char *line = NULL, *f[HAP_SS_COLS_MAX], shown[HAP_SHOWN + 1];
	int rc = hap_ss_line(ps, &line);
	if (rc == -1)
		return -1;
	if (rc == 0 || strcmp(line, "1") != 0) {
		hap_quote(shown, sizeof(shown), rc == 0 ? "" : line);
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
		if (ps->idx[c] == -1 && hap_ss_cols[c].kind != HAP_SS_UINT_OPT && hap_ss_cols[c].kind != HAP_SS_ADDR_OPT) {
			snprintf(ps->err, ps->errlen, "show servers state: the header lacks column %s", hap_ss_cols[c].name);
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
	char shown[HAP_SHOWN + 1];
	unsigned long long v;
	int is_addr = c->kind == HAP_SS_ADDR || c->kind == HAP_SS_ADDR_OPT;
	if (is_addr && strcmp(s, "-") == 0)
		s = "";
	if (c->kind == HAP_SS_NAME || is_addr) {
		size_t len = strlen(s);
		if (len >= c->size) {
			snprintf(ps->err, ps->errlen, "show servers state: line %zu: %s of %zu bytes exceeds %zu", ps->line,
				 c->name, len, c->size - 1);
			return -1;
		}
		memcpy(dst, s, len + 1);
		return 0;
	}
	if (hap_parse_u64(s, &v) == -1 || v > UINT_MAX) {
		hap_quote(shown, sizeof(shown), s);
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
		snprintf(ps->err, ps->errlen, "show servers state: line %zu has %d fields, the header has %zu", ps->line,
			 nf, ps->ncols);
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
	if (rc == -1 || hap_tail_empty(ps.p, "show servers state", ps.line, err, errlen) == -1)
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

/* ---- show info ---------------------------------------------------------------------------- */

int hap_info_get(const char *text, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key);
	if (outlen == 0)
		return -1;
	out[0] = '\0';
	if (klen == 0 || strpbrk(key, ":\n") != NULL)
		return -1;
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		if (nl == NULL)
			return -1; /* a cut last line could hold a cut value */
		if (strncmp(p, key, klen) == 0 && p[klen] == ':' && (p[klen + 1] == ' ' || p[klen + 1] == '\n')) {
			const char *v = p + klen + (p[klen + 1] == ' ' ? 2 : 1);
			size_t vlen = (size_t)(nl - v);
			if (vlen >= outlen)
				return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 0;
		}
		p = nl + 1;
	}
	return -1;
}

int hap_info_parse(const char *text, struct hap_info *out, char *err, size_t errlen)
{
	char value[64];
	unsigned long long pid;
	memset(out, 0, sizeof(*out));
	if (hap_info_get(text, "Pid", value, sizeof(value)) == -1 || hap_parse_u64(value, &pid) == -1 ||
	    pid > 0x7fffffffull) {
		snprintf(err, errlen, "show info: no numeric Pid");
		return -1;
	}
	if (hap_info_get(text, "Uptime_sec", value, sizeof(value)) == -1 ||
	    hap_parse_u64(value, &out->uptime_s) == -1) {
		snprintf(err, errlen, "show info: no numeric Uptime_sec");
		return -1;
	}
	out->pid = (long)pid;
	out->stopping = hap_info_get(text, "Stopping", value, sizeof(value)) == 0 && strcmp(value, "1") == 0;
	if (hap_info_get(text, "Version", out->version, sizeof(out->version)) == -1)
		out->version[0] = '\0';
	return 0;
}

/* Reads "size:<n>, used:<n>" exactly as HAProxy prints it after the table's type. */
static int hap_table_numbers(const char *p, const char *end, struct hap_table_use *out)
{
	char buf[96], *q;
	size_t len = (size_t)(end - p);
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (strncmp(buf, "size:", 5) != 0 || (q = strstr(buf, ", used:")) == NULL)
		return -1;
	*q = '\0';
	return hap_parse_u64(buf + 5, &out->size) == -1 || hap_parse_u64(q + 7, &out->used) == -1 ? -1 : 0;
}

int hap_table_use_parse(const char *text, const char *table, struct hap_table_use *out, char *err, size_t errlen)
{
	static const char head[] = "# table: ", type[] = ", type: ";
	size_t tlen = strlen(table);
	memset(out, 0, sizeof(*out));
	for (const char *line = text, *end; *line != '\0'; line = end + 1) {
		if ((end = strchr(line, '\n')) == NULL) {
			snprintf(err, errlen, "show table: reply cut short");
			return -1;
		}
		const char *name = line + sizeof(head) - 1;
		if (strncmp(line, head, sizeof(head) - 1) != 0 || strncmp(name, table, tlen) != 0 ||
		    strncmp(name + tlen, type, sizeof(type) - 1) != 0)
			continue;
		/* The type is one word ("ipv6", "string", ...), then ", size:". */
		const char *nums = strstr(name + tlen + sizeof(type) - 1, ", ");
		if (nums == NULL || nums > end || hap_table_numbers(nums + 2, end, out) == -1) {
			snprintf(err, errlen, "show table: malformed line for %.64s", table);
			memset(out, 0, sizeof(*out));
			return -1;
		}
		out->found = 1;
		return 0;
	}
	return 0;
}

int hap_table_get_gpc0(const char *text, const char *key, unsigned long long *out)
{
	char want[64];
	if (snprintf(want, sizeof(want), " key=%s ", key) >= (int)sizeof(want))
		return -1;
	for (const char *line = text; line != NULL && *line != '\0';) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		const char *hit = line[0] == '0' && line[1] == 'x' ? memmem(line, len, want, strlen(want)) : NULL;
		const char *gpc = hit ? memmem(line, len, " gpc0=", 6) : NULL;
		if (gpc != NULL) {
			char num[24];
			size_t n = strspn(gpc + 6, "0123456789");
			if (n == 0 || n >= sizeof(num) || gpc + 6 + n > line + len)
				return -1;
			memcpy(num, gpc + 6, n);
			num[n] = '\0';
			return hap_parse_u64(num, out);
		}
		line = eol ? eol + 1 : NULL;
	}
	return -1;
}

size_t hap_sess_ids(const char *text, const char *backend, const char *server, char (*ids)[HAP_SESS_ID_SIZE],
		    size_t max)
{
	char want[2 * HAP_NAME_MAX + 16];
	size_t n = 0;
	if (snprintf(want, sizeof(want), " be=%s srv=%s ", backend, server) >= (int)sizeof(want))
		return 0;
	for (const char *line = text; line != NULL && *line != '\0' && n < max;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		/* Checked before anything past the first two bytes is read: a short last line is safe. */
		size_t id_len = len > 2 && line[0] == '0' && line[1] == 'x' ? strspn(line + 2, "0123456789abcdefABCDEF") : 0;
		if (id_len > 0 && id_len <= HAP_SESS_ID_SIZE - 4 && 2 + id_len < len && line[2 + id_len] == ':' &&
		    memmem(line, len, want, strlen(want)) != NULL) {
			memcpy(ids[n], line, 2 + id_len);
			ids[n++][2 + id_len] = '\0';
		}
		line = eol ? eol + 1 : NULL;
	}
	return n;
}
