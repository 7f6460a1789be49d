/* One-line stderr logging: "<time> <program> <level>: <message>", or the same fields as one JSON
 * object a line for log shippers. */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level log_threshold = LOG_LVL_INFO;
static const char *log_program = "mcs-lb";
static enum log_format log_format = LOG_FMT_TEXT;

const char *const log_level_words[] = {"error", "warn", "info", "debug", NULL};
const char *const log_format_words[] = {"text", "json", NULL};

void log_set_level(enum log_level level) { log_threshold = level; }

void log_set_program(const char *name) { log_program = name; }

void log_set_format(enum log_format format) { log_format = format; }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when the bytes there are not one
 * (overlong forms, surrogates and values past U+10FFFF included). */
static size_t log_utf8_len(const unsigned char *s)
{
	unsigned c = s[0], n, min, v;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, v = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, v = c & 0x07;
	else
		return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	return v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ? 0 : n;
}

/* Replaces every byte that is not part of valid UTF-8 with '?': messages quote outside input
 * (Redis members), and JSON strings must be UTF-8. */
static void log_utf8_clean(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p != '\0';) {
		size_t n = log_utf8_len(p);
		if (n == 0)
			*p++ = '?';
		else
			p += n;
	}
}

/* Writes {"time","program","level","msg"} as one line; the text form when jansson fails (OOM). */
static void log_write_json(const char *time, const char *level, char *msg)
{
	log_utf8_clean(msg);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "time", time, "program", log_program, "level", level, "msg", msg);
	char *line = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (line != NULL)
		fprintf(stderr, "%s\n", line);
	else
		fprintf(stderr, "%s %s %s: %s\n", time, log_program, level, msg);
	free(line);
	json_decref(o);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_threshold)
		return;
	char time[32], msg[2048];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(time, sizeof(time), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One write per line so lines from several processes do not interleave. */
	if (log_format == LOG_FMT_JSON)
		log_write_json(time, log_level_words[level], msg);
	else
		fprintf(stderr, "%s %s %s: %s\n", time, log_program, log_level_words[level], msg);
}
