/* Parser of HAProxy 2.6's `show stat` reply: the CSV table of proxies and servers, columns
 * found by header name. Pure: text in, table out; no I/O. */
#ifndef MCS_HAP_CSV_H
#define MCS_HAP_CSV_H

#include <stddef.h>

struct hap_csv;

/* Parses a `show stat` reply: a "# name,name,...\n" header, then one line per proxy or server
 * with exactly as many fields as the header (quoted fields with "" escapes are unquoted).
 * Every line must end with "\n"; an empty line ends the table and nothing may follow it.
 * Returns a table (free with hap_csv_free; it copies what it keeps), or NULL with a one-line
 * reason in err: missing header, wrong field count, truncated line or quote, OOM. */
struct hap_csv *hap_csv_parse(const char *text, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Frees t. NULL is a no-op. */
void hap_csv_free(struct hap_csv *t);

/* Number of data rows (the header not counted; 0 for a backend without servers). */
size_t hap_csv_rows(const struct hap_csv *t);

/* Index of the column named name ("scur", "svname", ...), or -1 if the header lacks it.
 * Look columns up by name: their number and order change between HAProxy versions. */
int hap_csv_col(const struct hap_csv *t, const char *name);

/* The field at row, col ("" when empty), valid until hap_csv_free; NULL when out of range. */
const char *hap_csv_get(const struct hap_csv *t, size_t row, int col);

/* Reads the field at row, col as an unsigned decimal into *out. An empty field gives 0 and
 * returns 0: HAProxy leaves counters that do not apply empty (chkfail of a server without
 * checks). Returns -1, *out untouched, for anything else that is not 1..20 digits within
 * unsigned long long, or when row or col is out of range. */
int hap_csv_get_u64(const struct hap_csv *t, size_t row, int col, unsigned long long *out)
	__attribute__((warn_unused_result));

#endif
