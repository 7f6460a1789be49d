/* Prometheus text exposition format 0.0.4: a growing output buffer, # HELP / # TYPE lines,
 * samples with one optional label, escaping. Pure: no I/O, no knowledge of HAProxy. */
#ifndef MCS_EXPO_H
#define MCS_EXPO_H

#include <stddef.h>

/* Output buffer. Writes never fail one by one: the first allocation failure sets oom, later
 * writes are ignored, and expo_buf_take reports it (hiredis sds style, without the checks at
 * every call site). */
struct expo_buf {
	char *data; /* NUL-terminated text, malloc'd; NULL before the first write */
	size_t len; /* bytes of text, the NUL not counted */
	size_t cap; /* bytes allocated */
	int oom;    /* 1 once an allocation failed */
};

#define EXPO_BUF_INIT                                                                                                  \
	{                                                                                                              \
		NULL, 0, 0, 0                                                                                          \
	}

/* Appends len bytes of s. */
void expo_buf_append(struct expo_buf *b, const char *s, size_t len);

/* Hands the text over: returns it (malloc'd, caller frees; "" when nothing was written) with
 * its length in *len and leaves b empty. Returns NULL, b emptied, when a write ran out of memory. */
char *expo_buf_take(struct expo_buf *b, size_t *len) __attribute__((warn_unused_result));

/* Frees the text and empties b. */
void expo_buf_clear(struct expo_buf *b);

/* Writes "# HELP name help\n# TYPE name type\n"; help is escaped (\\ and \n). type is one of
 * "counter", "gauge", "untyped". */
void expo_write_family(struct expo_buf *b, const char *name, const char *type, const char *help);

/* Writes one sample "name{label="value"} v\n", or "name v\n" when label is NULL. value is
 * escaped (\\, \" and \n). The _u64 form prints integers exactly; the _double form prints
 * NaN, +Inf, -Inf as the format spells them. */
void expo_write_u64(struct expo_buf *b, const char *name, const char *label, const char *value, unsigned long long v);
void expo_write_double(struct expo_buf *b, const char *name, const char *label, const char *value, double v);

/* Writes one sample with n labels: "name{l0="v0",l1="v1"} v\n" (values escaped as above). */
void expo_write_u64_labels(struct expo_buf *b, const char *name, const char *const *labels, const char *const *values,
			   size_t n, unsigned long long v);

/* Escapes a label value into out (NUL-terminated, cut to outlen - 1 bytes but never inside an
 * escape). Returns the length the whole escaped text needs, NUL not counted. */
size_t expo_escape_label(const char *in, char *out, size_t outlen);

/* 1 when name is a valid metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*), else 0. */
int expo_name_valid(const char *name);

#endif
