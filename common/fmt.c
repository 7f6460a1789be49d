/* Whole-or-nothing formatting (see fmt.h). */
#include "fmt.h"

#include <stdarg.h>
#include <stdio.h>

int fmt_buf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = len > 0 ? vsnprintf(buf, len, fmt, ap) : -1;
	va_end(ap);
	if (n >= 0 && (size_t)n < len)
		return 0;
	if (len > 0)
		buf[0] = '\0';
	return -1;
}
