/* `show sess`: one line per session, its id first; only well-formed ids of the wanted server pass. */
#include "hap_sess.h"

#include <stdio.h>
#include <string.h>

#include "hap_cmd.h"

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
		size_t id_len =
			len > 2 && line[0] == '0' && line[1] == 'x' ? strspn(line + 2, "0123456789abcdefABCDEF") : 0;
		if (id_len > 0 && id_len <= HAP_SESS_ID_SIZE - 4 && 2 + id_len < len && line[2 + id_len] == ':' &&
		    memmem(line, len, want, strlen(want)) != NULL) {
			memcpy(ids[n], line, 2 + id_len);
			ids[n++][2 + id_len] = '\0';
		}
		line = eol ? eol + 1 : NULL;
	}
	return n;
}
