/* Control bytes in outside text: found, or masked as '?' so a message stays one line. */
#include "text.h"

int text_has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (text_is_control((unsigned char)s[i]))
			return 1;
	return 0;
}

size_t text_printable_copy(char *out, size_t outlen, const char *in)
{
	if (outlen == 0)
		return 0;
	size_t i = 0;
	for (; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] = text_is_control((unsigned char)in[i]) ? '?' : in[i];
	out[i] = '\0';
	return i;
}
