/* One-line stderr logging shared by every daemon: level and subject first, never compiled out. */
#ifndef MCS_LOG_H
#define MCS_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the lowest level printed (default LOG_LVL_INFO). */
void log_set_level(enum log_level level);

/* Parses "error", "warn", "info" or "debug"; returns 0, or -1 when the text is none of them. */
int log_level_parse(const char *text, enum log_level *out) __attribute__((warn_unused_result));

enum log_format {
	LOG_FMT_TEXT, /* "<time> <program> <level>: <message>" */
	LOG_FMT_JSON, /* {"time":...,"program":...,"level":...,"msg":...}, one object a line */
};

/* Sets the line format (default LOG_FMT_TEXT). */
void log_set_format(enum log_format format);

/* Parses "text" or "json"; returns 0, or -1 when the text is neither. */
int log_format_parse(const char *text, enum log_format *out) __attribute__((warn_unused_result));

/* The configuration tables' checks of MCS_LOG_LEVEL and MCS_LOG_FORMAT (common/cfg.h's check
 * signature): 0, or -1 with the reason in err. */
int log_check_level(const char *value, char *err, size_t errlen);
int log_check_format(const char *value, char *err, size_t errlen);

/* Sets the level and the format from those two settings, checked already; a text that is
 * neither keeps the default. */
void log_configure(const char *level, const char *format);

/* Sets the program name printed before each line (the pointer is kept, not copied). */
void log_set_program(const char *name);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
