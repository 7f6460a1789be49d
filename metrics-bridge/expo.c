/* Prometheus text exposition format 0.0.4 writer. Hot path of a 10,000-node scrape: samples
 * are appended without printf for integers. */
#include "expo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPO_MIN_CAP 4096u

static int expo_buf_grow(struct expo_buf *b, size_t extra)
{
	if (b->oom)
		return -1;
	if (b->cap - b->len > extra)
		return 0;
	size_t cap = b->cap ? b->cap : EXPO_MIN_CAP;
	while (cap - b->len <= extra) {
		if (cap > (size_t)-1 / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	char *data = realloc(b->data, cap);
	if (data == NULL) {
		b->oom = 1;
		return -1;
	}
	b->data = data;
	b->cap = cap;
	return 0;
}

void expo_buf_append(struct expo_buf *b, const char *s, size_t len)
{
	if (expo_buf_grow(b, len) == -1)
		return;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static void expo_buf_puts(struct expo_buf *b, const char *s) { expo_buf_append(b, s, strlen(s)); }

char *expo_buf_take(struct expo_buf *b, size_t *len)
{
	if (b->oom || expo_buf_grow(b, 0) == -1) {
		expo_buf_clear(b);
		*len = 0;
		return NULL;
	}
	b->data[b->len] = '\0';
	char *text = b->data;
	*len = b->len;
	*b = (struct expo_buf)EXPO_BUF_INIT;
	return text;
}

void expo_buf_clear(struct expo_buf *b)
{
	free(b->data);
	*b = (struct expo_buf)EXPO_BUF_INIT;
}

/* Appends s with \\ and \n escaped, and \" too when quotes is set. */
static void expo_buf_escaped(struct expo_buf *b, const char *s, int quotes)
{
	const char *run = s;
	for (const char *p = s;; p++) {
		const char *esc = NULL;
		if (*p == '\\')
			esc = "\\\\";
		else if (*p == '\n')
			esc = "\\n";
		else if (*p == '"' && quotes)
			esc = "\\\"";
		else if (*p != '\0')
			continue;
		expo_buf_append(b, run, (size_t)(p - run));
		if (esc == NULL)
			return;
		expo_buf_append(b, esc, 2);
		run = p + 1;
	}
}

size_t expo_escape_label(const char *in, char *out, size_t outlen)
{
	size_t need = 0, used = 0;
	int full = outlen == 0;
	for (const char *p = in; *p != '\0'; p++) {
		char two[2] = {'\\', *p};
		size_t n = 2;
		if (*p == '\n')
			two[1] = 'n';
		else if (*p != '\\' && *p != '"')
			two[0] = *p, n = 1;
		need += n;
		/* Once full, stay full: a later, shorter character must not be written. */
		if (!full && used + n < outlen) {
			memcpy(out + used, two, n);
			used += n;
		} else {
			full = 1;
		}
	}
	if (outlen > 0)
		out[used] = '\0';
	return need;
}

int expo_name_valid(const char *name)
{
	if (name == NULL || *name == '\0' || (*name >= '0' && *name <= '9'))
		return 0;
	for (const char *p = name; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == ':'))
			return 0;
	}
	return 1;
}

void expo_write_family(struct expo_buf *b, const char *name, const char *type, const char *help)
{
	expo_buf_puts(b, "# HELP ");
	expo_buf_puts(b, name);
	expo_buf_append(b, " ", 1);
	expo_buf_escaped(b, help, 0);
	expo_buf_puts(b, "\n# TYPE ");
	expo_buf_puts(b, name);
	expo_buf_append(b, " ", 1);
	expo_buf_puts(b, type);
	expo_buf_append(b, "\n", 1);
}

static void expo_write_head(struct expo_buf *b, const char *name, const char *const *labels, const char *const *values,
			    size_t n)
{
	expo_buf_puts(b, name);
	for (size_t i = 0; i < n; i++) {
		expo_buf_append(b, i == 0 ? "{" : ",", 1);
		expo_buf_puts(b, labels[i]);
		expo_buf_append(b, "=\"", 2);
		expo_buf_escaped(b, values[i], 1);
		expo_buf_append(b, "\"", 1);
	}
	if (n > 0)
		expo_buf_append(b, "}", 1);
	expo_buf_append(b, " ", 1);
}

void expo_write_u64_labels(struct expo_buf *b, const char *name, const char *const *labels, const char *const *values,
			   size_t n, unsigned long long v)
{
	char digits[24];
	size_t i = sizeof(digits);
	digits[--i] = '\n';
	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	expo_write_head(b, name, labels, values, n);
	expo_buf_append(b, digits + i, sizeof(digits) - i);
}

void expo_write_u64(struct expo_buf *b, const char *name, const char *label, const char *value, unsigned long long v)
{
	expo_write_u64_labels(b, name, &label, &value, label != NULL, v);
}

void expo_write_double(struct expo_buf *b, const char *name, const char *label, const char *value, double v)
{
	char text[40];
	if (isnan(v))
		snprintf(text, sizeof(text), "NaN\n");
	else if (isinf(v))
		snprintf(text, sizeof(text), "%sInf\n", v > 0 ? "+" : "-");
	else
		snprintf(text, sizeof(text), "%.15g\n", v);
	expo_write_head(b, name, &label, &value, label != NULL);
	expo_buf_puts(b, text);
}
