/* Declarative configuration from environment variables: one table per daemon feeds
 * parsing, --help and --print-config, so a variable cannot be documented but unread. */
#ifndef MCS_CFG_H
#define MCS_CFG_H

#include <stddef.h>
#include <stdio.h>

#include "log.h"

enum cfg_type {
	CFG_UINT, /* unsigned long within [min, max], stored in an unsigned long */
	CFG_STR,  /* string, optionally checked, stored as a malloc'd char * */
	CFG_ENUM, /* one of the row's words, stored as the word's index in an int */
};

struct cfg_var {
	const char *name; /* environment variable */
	enum cfg_type type;
	const char *def;        /* default, parsed by the same code as user input */
	unsigned long min, max; /* CFG_UINT bounds, inclusive */
	const char *unit;       /* CFG_UINT: "milliseconds", "seconds", ... for messages */
	const char *help;
	void *dest; /* unsigned long *, char ** or int * */
	/* CFG_STR: returns 0, or -1 with a reason ("is not a redis:// URL") in err. */
	int (*check)(const char *value, char *err, size_t errlen);
	/* CFG_STR: writes a printable form hiding secrets (NULL: print as is). */
	void (*redact)(const char *value, char *out, size_t outlen);
	/* CFG_ENUM: the allowed words, NULL-terminated; --help lists them, --print-config prints
	 * the one chosen. NULL for the other types. */
	const char *const *words;
};

/* The words of an on/off switch, for CFG_ENUM rows: "off" stores 0, "on" stores 1. */
extern const char *const cfg_words_off_on[];

/* A CFG_STR check: 0 for a value of 1 to 199 bytes (a name, a directory), else -1 with the
 * reason in err. */
int cfg_check_nonempty(const char *value, char *err, size_t errlen);

/* Parses text as the value of v and stores it. Returns 0, or -1 with a one-line message
 * naming the variable and the problem in err. */
int cfg_set(const struct cfg_var *v, const char *text, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Sets every variable from the environment, or from its default when unset.
 * Returns 0, or -1 at the first bad value with its message in err. */
int cfg_load(const struct cfg_var *vars, size_t n, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Prints the usage text: every variable with its default and help. */
void cfg_print_help(FILE *out, const char *program, const char *summary, const struct cfg_var *vars, size_t n);

/* Prints NAME=value for every variable as loaded, secrets redacted. */
void cfg_print_effective(FILE *out, const struct cfg_var *vars, size_t n);

/* Frees the strings cfg_load stored; the table may be loaded again afterwards. */
void cfg_free(const struct cfg_var *vars, size_t n);

/* The program's name without its directory (argv[0] as run). Points into argv0. */
const char *cfg_program_name(const char *argv0);

/* Handles --help, --print-config and --version ("<program> <MCS_VERSION>") around cfg_load.
 * Returns 0 to run, 1 when the program should exit successfully (help or version printed),
 * 2 on a bad value or argument (message printed). */
int cfg_main(int argc, char **argv, const char *summary, const struct cfg_var *vars, size_t n);

#define CFG_RUN (-1) /* cfg_daemon_start: the daemon runs on */

/* A daemon's start-up: names it in the log (log_set_program, program kept), runs cfg_main on
 * vars, then sets the log level and format from *log_level and *log_format, the destinations
 * of its MCS_LOG_LEVEL and MCS_LOG_FORMAT rows, as loaded. Returns CFG_RUN, or the exit status
 * for main to return at once (0 after --help, --print-config or --version, 2 on a bad value
 * or argument), vars' strings then freed. */
int cfg_daemon_start(int argc, char **argv, const char *program, const char *summary, const struct cfg_var *vars,
		     size_t n, const int *log_level, const int *log_format);

/* The two rows every daemon's table has, MCS_LOG_LEVEL and MCS_LOG_FORMAT (their words are
 * common/log's), stored in the ints level and format point at: one wording for both daemons. */
/* clang-format off */
#define CFG_LOG_ROWS(level, format) \
	{"MCS_LOG_LEVEL", CFG_ENUM, "info", 0, 0, NULL, "the least severe level logged", (level), NULL, NULL, log_level_words}, \
	{"MCS_LOG_FORMAT", CFG_ENUM, "text", 0, 0, NULL, "json: every log line one JSON object (time, program, level, msg)", (format), NULL, NULL, log_format_words}
/* clang-format on */

#endif
