/* libFuzzer target: hap_info_get (`show info` replies): the keys the daemons read, and a key
 * taken from the input's first line, with a roomy and a tight output buffer; hap_info_parse,
 * hap_table_use_parse (`show table`) and hap_bwlim_parse (`show mcs bwlim`) over the same text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hap_bwlim.h"
#include "hap_info.h"
#include "hap_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	static const char *const keys[] = {"Pid", "Uptime_sec", "Stopping", "Version", "CurrConns", "Maxconn", ""};
	char out[128], tiny[4];
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (hap_info_get(text, keys[k], out, sizeof(out)) == 0 && strlen(out) >= sizeof(out))
			__builtin_trap();
		(void)hap_info_get(text, keys[k], tiny, sizeof(tiny));
	}
	struct hap_info info;
	struct hap_table_use use;
	char err[128];
	if (hap_info_parse(text, &info, err, sizeof(err)) == 0 &&
	    (info.pid < 0 || strlen(info.version) >= sizeof(info.version)))
		__builtin_trap();
	if (hap_table_use_parse(text, "mcs_tls", &use, err, sizeof(err)) == -1 && use.found)
		__builtin_trap();
	struct hap_bwlim bw;
	if (hap_bwlim_parse(text, &bw, err, sizeof(err)) == -1 && (bw.found || bw.throttled))
		__builtin_trap();
	char *nl = strchr(text, '\n');
	if (nl != NULL) {
		*nl = '\0';
		(void)hap_info_get(nl + 1, text, out, sizeof(out));
	}
	free(text);
	return 0;
}
