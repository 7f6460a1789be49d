/* libFuzzer target: hap_sess_ids (`show sess` replies, whose ids go back into `shutdown
 * session`): every id returned must pass hap_cmd_shutdown_session, for a fixed server and for
 * one named by the input's first line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hap_cmd.h"
#include "hap_sess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text, const char *server)
{
	char ids[16][HAP_SESS_ID_SIZE], cmd[64];
	size_t n = hap_sess_ids(text, "mcs", server, ids, 16);
	if (n > 16)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if (hap_cmd_shutdown_session(cmd, sizeof(cmd), ids[i]) != 0)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check(text, "10.0.0.5:7000");
	char *nl = strchr(text, '\n');
	if (nl != NULL) {
		*nl = '\0';
		check(nl + 1, text);
	}
	free(text);
	return 0;
}
