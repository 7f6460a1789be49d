/* `show stat` CSV: the text is copied once and split in place; quoted fields are unquoted,
 * anything malformed or cut short is refused whole, with one line saying where. */
#include "hap_csv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hap_parse.h"

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
	char shown[HAP_PARSE_SHOWN + 1];
	if (strncmp(*pp, "# ", 2) != 0) {
		hap_parse_quote(shown, sizeof(shown), *pp);
		snprintf(err, errlen, "show stat: no \"# pxname,...\" header, the reply starts \"%s\"", shown);
		return -1;
	}
	*pp += 2;
	if (hap_csv_split(t, pp, 1, err, errlen) == -1)
		return -1;
	t->ncols = t->nfields;
	return 0;
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
	if (hap_parse_tail_empty(p, "show stat", hap_csv_rows(t) + 2, err, errlen) == -1)
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

size_t hap_csv_rows(const struct hap_csv *t) { return t->ncols == 0 ? 0 : t->nfields / t->ncols - 1; }

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
