/* What the parsers of HAProxy's runtime-API replies share (hap_csv, hap_servers, hap_info,
 * hap_table, hap_bwlim): strict decimal numbers, a bad line quoted in a message, a table's end. */
#ifndef MCS_HAP_PARSE_H
#define MCS_HAP_PARSE_H

#include <stddef.h>

#define HAP_PARSE_SHOWN 40 /* bytes of offending text quoted in messages */

/* Writes at most HAP_PARSE_SHOWN bytes of s, up to its line end, to out, control bytes as '?'.
 * Writes nothing when outlen is 0. */
void hap_parse_quote(char *out, size_t outlen, const char *s);

/* Parses 1..20 decimal digits, nothing else, into *out. Returns 0, or -1 (overflow included)
 * with *out untouched. */
int hap_parse_u64(const char *s, unsigned long long *out) __attribute__((warn_unused_result));

/* Accepts the end of the text at p, or only empty lines there: p follows the empty line number
 * line that ended a table of the reply to what ("show stat"). Returns 0, or -1 with a one-line
 * reason in err quoting the first text found. */
int hap_parse_tail_empty(const char *p, const char *what, size_t line, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
