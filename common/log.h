/* One-line stderr logging shared by every daemon: level and subject first, never compiled out. */
#ifndef MCS_LOG_H
#define MCS_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the lowest level printed (default LOG_LVL_INFO). */
void log_set_level(enum log_level level);

/* The levels' names, indexed by enum log_level, NULL-terminated: the words of MCS_LOG_LEVEL
 * (a CFG_ENUM row of common/cfg.h) and the level field of every line. */
extern const char *const log_level_words[];

enum log_format {
	LOG_FMT_TEXT, /* "<time> <program> <level>: <message>" */
	LOG_FMT_JSON, /* {"time":...,"program":...,"level":...,"msg":...}, one object a line */
};

/* Sets the line format (default LOG_FMT_TEXT). */
void log_set_format(enum log_format format);

/* The formats' names, indexed by enum log_format, NULL-terminated: the words of
 * MCS_LOG_FORMAT. */
extern const char *const log_format_words[];

/* Sets the program name printed before each line (the pointer is kept, not copied). */
void log_set_program(const char *name);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
