/* libFuzzer target: hap_csv_parse (`show stat` CSV) and every accessor over what it returns. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hap_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char err[160];
	struct hap_csv *t = hap_csv_parse(text, err, sizeof(err));
	if (t != NULL) {
		static const char *const cols[] = {"pxname", "svname", "scur", "status", "stot", "chkfail", "weight"};
		size_t rows = hap_csv_rows(t);
		for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
			int col = hap_csv_col(t, cols[c]);
			for (size_t r = 0; r <= rows; r++) {
				unsigned long long v;
				const char *s = hap_csv_get(t, r, col);
				if (s != NULL)
					(void)strlen(s);
				(void)hap_csv_get_u64(t, r, col, &v);
			}
		}
		(void)hap_csv_get(t, 0, 1 << 20);
		hap_csv_free(t);
	}
	free(text);
	return 0;
}
