/* `show table`: the "# table: ..." line of each table, and the entry lines that follow it at
 * operator or admin level. */
#include "hap_table.h"

#include <stdio.h>
#include <string.h>

#include "hap_parse.h"

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
