/* Environment configuration tables: parse, validate, document. */
#include "cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"

#define CFG_SHOWN 64 /* bytes of a bad value quoted in its message */

const char *const cfg_words_off_on[] = {"off", "on", NULL};

int cfg_check_nonempty(const char *value, char *err, size_t errlen)
{
	if (value[0] != '\0' && strlen(value) < 200)
		return 0;
	snprintf(err, errlen, "must be 1 to 199 characters");
	return -1;
}

/* Writes the words of a CFG_ENUM row as "a or b", "a, b or c" (cut short if outlen is small). */
static void cfg_words_list(const char *const *words, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; words[i] != NULL && used < outlen; i++) {
		const char *sep = i == 0 ? "" : words[i + 1] == NULL ? " or " : ", ";
		int n = snprintf(out + used, outlen - used, "%s%s", sep, words[i]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int cfg_set_uint(const struct cfg_var *v, const char *text, char *err, size_t errlen)
{
	char shown[CFG_SHOWN + 1];
	text_printable_copy(shown, sizeof(shown), text);
	const char *p = text;
	while (*p == ' ' || *p == '\t')
		p++;
	/* strtoul accepts a sign and wraps "-1": insist on digits only. */
	if (*p < '0' || *p > '9') {
		snprintf(err, errlen, "%s: \"%s\" is not a number of %s", v->name, shown, v->unit);
		return -1;
	}
	errno = 0;
	char *end;
	unsigned long value = strtoul(p, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end != '\0') {
		snprintf(err, errlen, "%s: \"%s\" is not a number of %s", v->name, shown, v->unit);
		return -1;
	}
	if (errno == ERANGE || value < v->min || value > v->max) {
		snprintf(err, errlen, "%s: %s is out of range (%lu to %lu %s)", v->name, shown, v->min, v->max,
			 v->unit);
		return -1;
	}
	*(unsigned long *)v->dest = value;
	return 0;
}

static int cfg_set_str(const struct cfg_var *v, const char *text, char *err, size_t errlen)
{
	if (v->check != NULL) {
		char why[192];
		if (v->check(text, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s", v->name, why);
			return -1;
		}
	}
	char *copy = strdup(text);
	if (copy == NULL) {
		snprintf(err, errlen, "%s: out of memory", v->name);
		return -1;
	}
	char **dest = v->dest;
	free(*dest);
	*dest = copy;
	return 0;
}

static int cfg_set_enum(const struct cfg_var *v, const char *text, char *err, size_t errlen)
{
	for (int i = 0; v->words[i] != NULL; i++) {
		if (strcmp(text, v->words[i]) == 0) {
			*(int *)v->dest = i;
			return 0;
		}
	}
	char shown[CFG_SHOWN + 1], words[192];
	text_printable_copy(shown, sizeof(shown), text);
	cfg_words_list(v->words, words, sizeof(words));
	snprintf(err, errlen, "%s: \"%s\" is not %s", v->name, shown, words);
	return -1;
}

int cfg_set(const struct cfg_var *v, const char *text, char *err, size_t errlen)
{
	if (v->type == CFG_UINT)
		return cfg_set_uint(v, text, err, errlen);
	if (v->type == CFG_ENUM)
		return cfg_set_enum(v, text, err, errlen);
	return cfg_set_str(v, text, err, errlen);
}

int cfg_load(const struct cfg_var *vars, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const char *text = getenv(vars[i].name);
		if (text == NULL)
			text = vars[i].def;
		if (cfg_set(&vars[i], text, err, errlen) == -1)
			return -1;
	}
	return 0;
}

void cfg_print_help(FILE *out, const char *program, const char *summary, const struct cfg_var *vars, size_t n)
{
	fprintf(out, "Usage: %s [--help | --print-config | --version]\n%s\n\nEnvironment variables:\n", program,
		summary);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %-26s %s (default: %s", vars[i].name, vars[i].help,
			vars[i].def[0] ? vars[i].def : "empty");
		if (vars[i].type == CFG_UINT)
			fprintf(out, "; %lu to %lu %s", vars[i].min, vars[i].max, vars[i].unit);
		if (vars[i].type == CFG_ENUM) {
			char words[192];
			cfg_words_list(vars[i].words, words, sizeof(words));
			fprintf(out, "; %s", words);
		}
		fprintf(out, ")\n");
	}
}

void cfg_print_effective(FILE *out, const struct cfg_var *vars, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (vars[i].type == CFG_UINT) {
			fprintf(out, "%s=%lu\n", vars[i].name, *(unsigned long *)vars[i].dest);
			continue;
		}
		if (vars[i].type == CFG_ENUM) {
			fprintf(out, "%s=%s\n", vars[i].name, vars[i].words[*(int *)vars[i].dest]);
			continue;
		}
		const char *value = *(char **)vars[i].dest;
		char shown[512];
		if (vars[i].redact != NULL) {
			vars[i].redact(value, shown, sizeof(shown));
			value = shown;
		}
		fprintf(out, "%s=%s\n", vars[i].name, value);
	}
}

void cfg_free(const struct cfg_var *vars, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (vars[i].type != CFG_STR)
			continue;
		char **dest = vars[i].dest;
		free(*dest);
		*dest = NULL;
	}
}

const char *cfg_program_name(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');
	return slash ? slash + 1 : argv0;
}

int cfg_main(int argc, char **argv, const char *summary, const struct cfg_var *vars, size_t n)
{
	int print_config = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cfg_print_help(stdout, argv[0], summary, vars, n);
			return 1;
		}
		if (strcmp(argv[i], "--print-config") == 0) {
			print_config = 1;
			continue;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", cfg_program_name(argv[0]), MCS_VERSION);
			return 1;
		}
		fprintf(stderr, "%s: unknown argument \"%s\" (try --help)\n", argv[0], argv[i]);
		return 2;
	}
	char err[512];
	if (cfg_load(vars, n, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	if (print_config) {
		cfg_print_effective(stdout, vars, n);
		return 1;
	}
	return 0;
}

int cfg_daemon_start(int argc, char **argv, const char *program, const char *summary, const struct cfg_var *vars,
		     size_t n, const int *log_level, const int *log_format)
{
	log_set_program(program);
	int rc = cfg_main(argc, argv, summary, vars, n);
	if (rc != 0) {
		cfg_free(vars, n);
		return rc == 1 ? 0 : 2;
	}
	log_set_level((enum log_level) * log_level);
	log_set_format((enum log_format) * log_format);
	return CFG_RUN;
}
