/* Parsers of HAProxy 2.6's `show table` replies: a stick table's size and use (any level), and
 * one entry's gpc0 counter (operator or admin level). Pure. */
#ifndef MCS_HAP_TABLE_H
#define MCS_HAP_TABLE_H

#include <stddef.h>

/* One stick table's size and use, from `show table` without a name. */
struct hap_table_use {
	int found;               /* 1: the reply lists the table */
	unsigned long long size; /* its capacity in entries */
	unsigned long long used; /* entries in it now */
};

/* Reads table's line of a `show table` reply: "# table: <name>, type: <type>, size:<n>,
 * used:<n>" per table (entries follow at operator or admin level; the user level prints none).
 * Returns 0 with *out (found 0 when the table is not listed), or -1 with out->found 0 and a
 * one-line reason in err when that line is malformed or the reply is cut short. */
int hap_table_use_parse(const char *text, const char *table, struct hap_table_use *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* From a `show table <name>` reply (admin or operator level), the gpc0 of the entry whose key
 * is key ("1"): lines like "0x55..: key=1 use=0 exp=0 gpc0=3". Returns 0 with *out, or -1 when
 * no such entry (or its gpc0 is not a number). Pure. */
int hap_table_get_gpc0(const char *text, const char *key, unsigned long long *out) __attribute__((warn_unused_result));

#endif
