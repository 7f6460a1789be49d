/* The environment configuration table: number and string parsing, loading with defaults,
 * --help, --print-config and the one-line messages that name the variable. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"
#include "unit.h"

#define SENTINEL 4242ul

static unsigned long num;
static char *str;

/* ---- CFG_UINT ---- */

static const struct cfg_var ms_var = {"MCS_UT_MS", CFG_UINT, "1000", 50,   60000, "milliseconds",
				      "poll",      &num,     NULL,   NULL, NULL};
static const struct cfg_var zero_var = {"MCS_UT_N", CFG_UINT, "0",  0,    ULONG_MAX, "nodes",
					"any",      &num,     NULL, NULL, NULL};

static const struct {
	const struct cfg_var *var;
	const char *text;
	int rc;
	unsigned long value; /* rc 0 */
	const char *err;     /* rc -1: the exact message */
} uints[] = {
	{&ms_var, "1000", 0, 1000, NULL},
	{&ms_var, "50", 0, 50, NULL},
	{&ms_var, "60000", 0, 60000, NULL},
	{&ms_var, "0050", 0, 50, NULL},
	{&ms_var, " 500 ", 0, 500, NULL}, /* blanks around the digits are skipped */
	{&ms_var, "\t700\t", 0, 700, NULL},
	{&ms_var, "49", -1, 0, "MCS_UT_MS: 49 is out of range (50 to 60000 milliseconds)"},
	{&ms_var, "60001", -1, 0, "MCS_UT_MS: 60001 is out of range (50 to 60000 milliseconds)"},
	{&ms_var, "0", -1, 0, "MCS_UT_MS: 0 is out of range (50 to 60000 milliseconds)"},
	{&ms_var, "99999999999999999999999", -1, 0,
	 "MCS_UT_MS: 99999999999999999999999 is out of range (50 to 60000 milliseconds)"},
	{&ms_var, "abc", -1, 0, "MCS_UT_MS: \"abc\" is not a number of milliseconds"},
	{&ms_var, "-1", -1, 0, "MCS_UT_MS: \"-1\" is not a number of milliseconds"},
	{&ms_var, "+100", -1, 0, "MCS_UT_MS: \"+100\" is not a number of milliseconds"},
	{&ms_var, "12abc", -1, 0, "MCS_UT_MS: \"12abc\" is not a number of milliseconds"},
	{&ms_var, "0x100", -1, 0, "MCS_UT_MS: \"0x100\" is not a number of milliseconds"},
	{&ms_var, "1e3", -1, 0, "MCS_UT_MS: \"1e3\" is not a number of milliseconds"},
	{&ms_var, "100.5", -1, 0, "MCS_UT_MS: \"100.5\" is not a number of milliseconds"},
	{&ms_var, "100 200", -1, 0, "MCS_UT_MS: \"100 200\" is not a number of milliseconds"},
	{&ms_var, "", -1, 0, "MCS_UT_MS: \"\" is not a number of milliseconds"},
	{&ms_var, " ", -1, 0, "MCS_UT_MS: \" \" is not a number of milliseconds"},
	{&ms_var, " -5", -1, 0, "MCS_UT_MS: \" -5\" is not a number of milliseconds"},
	{&zero_var, "0", 0, 0, NULL},
	{&zero_var, "18446744073709551615", 0, ULONG_MAX, NULL},
	{&zero_var, "18446744073709551616", -1, 0,
	 "MCS_UT_N: 18446744073709551616 is out of range (0 to 18446744073709551615 nodes)"},
	{&zero_var, "-0", -1, 0, "MCS_UT_N: \"-0\" is not a number of nodes"},
};

START_TEST(test_uint)
{
	char err[256] = "";
	num = SENTINEL;
	int rc = cfg_set(uints[_i].var, uints[_i].text, err, sizeof(err));
	ck_assert_msg(rc == uints[_i].rc, "\"%s\": rc %d (%s)", uints[_i].text, rc, err);
	if (rc == 0) {
		ck_assert_uint_eq(num, uints[_i].value);
	} else {
		ck_assert_str_eq(err, uints[_i].err);
		ck_assert_uint_eq(num, SENTINEL); /* a refused value changes nothing */
	}
}
END_TEST

/* Long garbage is cut in the message, which stays one bounded line. */
START_TEST(test_uint_long_text)
{
	char text[300], err[256];
	memset(text, 'z', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	ck_assert_int_eq(cfg_set(&ms_var, text, err, sizeof(err)), -1);
	char want[256];
	snprintf(want, sizeof(want), "MCS_UT_MS: \"%.64s\" is not a number of milliseconds", text);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(cfg_set(&ms_var, "abc", err, 10), -1);
	ck_assert_str_eq(err, "MCS_UT_MS");
}
END_TEST

/* The header promises a one-line message: a value with a line break must not split it (the
 * message goes to a log that is read line by line). */
START_TEST(test_uint_message_one_line)
{
	static const char *const texts[] = {"100\n", "1\nMCS_UT_MS: fine", "\r\n"};
	for (size_t i = 0; i < N_ELEMS(texts); i++) {
		char err[256] = "";
		ck_assert_int_eq(cfg_set(&ms_var, texts[i], err, sizeof(err)), -1);
		ck_assert_msg(strpbrk(err, "\r\n") == NULL, "message for value %zu has a line break: %s", i, err);
	}
}
END_TEST

/* ---- CFG_STR ---- */

static int check_short(const char *value, char *err, size_t errlen)
{
	if (value[0] != '\0' && strlen(value) < 8)
		return 0;
	snprintf(err, errlen, "\"%s\" is not 1 to 7 characters", value);
	return -1;
}

static void redact_all(const char *value, char *out, size_t outlen)
{
	snprintf(out, outlen, "<%zu bytes hidden>", strlen(value));
}

static const struct cfg_var short_var = {"MCS_UT_NAME",  CFG_STR, "mcs",       0,    0,   NULL,
					 "a short name", &str,    check_short, NULL, NULL};
static const struct cfg_var free_var = {"MCS_UT_FREE", CFG_STR, "", 0, 0, NULL, "anything", &str, NULL, NULL, NULL};

static const struct {
	const struct cfg_var *var;
	const char *text;
	int rc;
	const char *err; /* rc -1: the exact message */
} strs[] = {
	{&short_var, "abc", 0, NULL},
	{&short_var, "1234567", 0, NULL},
	{&short_var, "", -1, "MCS_UT_NAME: \"\" is not 1 to 7 characters"},
	{&short_var, "12345678", -1, "MCS_UT_NAME: \"12345678\" is not 1 to 7 characters"},
	{&free_var, "", 0, NULL},
	{&free_var, " spaced value ", 0, NULL},
	{&free_var, "redis://u:p@h", 0, NULL},
};

START_TEST(test_str)
{
	char err[256] = "";
	str = strdup("old");
	int rc = cfg_set(strs[_i].var, strs[_i].text, err, sizeof(err));
	ck_assert_msg(rc == strs[_i].rc, "\"%s\": rc %d (%s)", strs[_i].text, rc, err);
	if (rc == 0) {
		ck_assert_str_eq(str, strs[_i].text);
		ck_assert_ptr_ne(str, strs[_i].text); /* a copy */
	} else {
		ck_assert_str_eq(err, strs[_i].err);
		ck_assert_str_eq(str, "old");
	}
	cfg_free(strs[_i].var, 1);
	ck_assert_ptr_null(str);
}
END_TEST

/* ---- CFG_ENUM ---- */

static int choice;
static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
static const struct cfg_var level_var = {"MCS_UT_LEVEL", CFG_ENUM, "info", 0,    0,     NULL,
					 "a level",      &choice,  NULL,   NULL, levels};
static const struct cfg_var switch_var = {"MCS_UT_ON", CFG_ENUM,        "on", 0, 0, NULL, "a switch", &choice, NULL,
					  NULL,        cfg_words_off_on};

static const struct {
	const struct cfg_var *var;
	const char *text;
	int rc;
	int value;       /* rc 0: the word's index */
	const char *err; /* rc -1: the exact message */
} enums[] = {
	{&level_var, "error", 0, 0, NULL},
	{&level_var, "warn", 0, 1, NULL},
	{&level_var, "info", 0, 2, NULL},
	{&level_var, "debug", 0, 3, NULL},
	{&switch_var, "off", 0, 0, NULL},
	{&switch_var, "on", 0, 1, NULL},
	/* The words exactly: no case folding, no blanks, no prefix, no synonyms. */
	{&level_var, "INFO", -1, 0, "MCS_UT_LEVEL: \"INFO\" is not error, warn, info or debug"},
	{&level_var, " info", -1, 0, "MCS_UT_LEVEL: \" info\" is not error, warn, info or debug"},
	{&level_var, "info ", -1, 0, "MCS_UT_LEVEL: \"info \" is not error, warn, info or debug"},
	{&level_var, "inf", -1, 0, "MCS_UT_LEVEL: \"inf\" is not error, warn, info or debug"},
	{&level_var, "", -1, 0, "MCS_UT_LEVEL: \"\" is not error, warn, info or debug"},
	{&level_var, "2", -1, 0, "MCS_UT_LEVEL: \"2\" is not error, warn, info or debug"},
	{&switch_var, "1", -1, 0, "MCS_UT_ON: \"1\" is not off or on"},
	{&switch_var, "true", -1, 0, "MCS_UT_ON: \"true\" is not off or on"},
	{&switch_var, "On", -1, 0, "MCS_UT_ON: \"On\" is not off or on"},
	/* The message stays one line, the value masked and cut. */
	{&switch_var, "on\nMCS_UT_ON: on", -1, 0, "MCS_UT_ON: \"on?MCS_UT_ON: on\" is not off or on"},
	{&switch_var, "on\r", -1, 0, "MCS_UT_ON: \"on?\" is not off or on"},
	{&switch_var, "0123456789012345678901234567890123456789012345678901234567890123456789", -1, 0,
	 "MCS_UT_ON: \"0123456789012345678901234567890123456789012345678901234567890123\" is not off or on"},
};

START_TEST(test_enum)
{
	char err[256] = "";
	choice = -7;
	int rc = cfg_set(enums[_i].var, enums[_i].text, err, sizeof(err));
	ck_assert_msg(rc == enums[_i].rc, "\"%s\": rc %d (%s)", enums[_i].text, rc, err);
	if (rc == 0) {
		ck_assert_int_eq(choice, enums[_i].value);
	} else {
		ck_assert_str_eq(err, enums[_i].err);
		ck_assert_int_eq(choice, -7); /* a refused value changes nothing */
	}
}
END_TEST

/* --print-config prints the word chosen, not its index. */
START_TEST(test_enum_print)
{
	char err[256], *text = NULL;
	size_t size = 0;
	ck_assert_int_eq(cfg_set(&level_var, "debug", err, sizeof(err)), 0);
	FILE *f = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(f);
	cfg_print_effective(f, &level_var, 1);
	cfg_print_help(f, "prog", "summary", &level_var, 1);
	ck_assert_int_eq(fclose(f), 0);
	static const char help[] = "  MCS_UT_LEVEL               a level (default: info; error, warn, info or debug)\n";
	ck_assert_msg(strncmp(text, "MCS_UT_LEVEL=debug\n", 19) == 0, "%s", text);
	ck_assert_msg(strstr(text, help) != NULL, "%s", text);
	free(text);
	cfg_free(&level_var, 1); /* nothing of an enum row to free */
	ck_assert_int_eq(choice, 3);
}
END_TEST

/* ---- cfg_check_nonempty ---- */

START_TEST(test_check_nonempty)
{
	char err[64] = "", v199[200], v200[201];
	memset(v199, 'd', sizeof(v199) - 1);
	v199[sizeof(v199) - 1] = '\0';
	memset(v200, 'd', sizeof(v200) - 1);
	v200[sizeof(v200) - 1] = '\0';
	ck_assert_int_eq(cfg_check_nonempty("run", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_check_nonempty(v199, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(cfg_check_nonempty("", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "must be 1 to 199 characters");
	err[0] = '\0';
	ck_assert_int_eq(cfg_check_nonempty(v200, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "must be 1 to 199 characters");
}
END_TEST

/* ---- cfg_load, print, free, main ---- */

static unsigned long t_ms, t_count;
static char *t_name, *t_secret, *t_empty;
static int t_switch;

static const struct cfg_var table[] = {
	{"MCS_UT_POLL_MS", CFG_UINT, "1000", 50, 60000, "milliseconds", "interval between two steps", &t_ms, NULL, NULL,
	 NULL},
	{"MCS_UT_NAME", CFG_STR, "mcs", 0, 0, NULL, "a short name", &t_name, check_short, NULL, NULL},
	{"MCS_UT_SECRET", CFG_STR, "hunter2", 0, 0, NULL, "a password", &t_secret, NULL, redact_all, NULL},
	{"MCS_UT_COUNT", CFG_UINT, "3", 1, 100, "checks", "failed checks", &t_count, NULL, NULL, NULL},
	{"MCS_UT_EMPTY", CFG_STR, "", 0, 0, NULL, "may be empty", &t_empty, NULL, NULL, NULL},
	{"MCS_UT_SWITCH", CFG_ENUM, "on", 0, 0, NULL, "a switch", &t_switch, NULL, NULL, cfg_words_off_on},
};
#define NTABLE N_ELEMS(table)

static void env_setup(void)
{
	for (size_t i = 0; i < NTABLE; i++)
		unsetenv(table[i].name);
	t_ms = t_count = SENTINEL;
	t_name = t_secret = t_empty = NULL;
	t_switch = -1;
}

static void env_teardown(void)
{
	cfg_free(table, NTABLE);
	env_setup();
}

/* What cfg_print_effective writes for the table, through a memory stream. The caller frees. */
static char *capture_effective(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(f);
	cfg_print_effective(f, table, NTABLE);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

static const struct {
	const char *env[NTABLE]; /* value per table row, NULL: unset */
	int rc;
	unsigned long ms, count; /* rc 0 */
	const char *name, *secret, *empty;
	int on;          /* rc 0: MCS_UT_SWITCH */
	const char *err; /* rc -1 */
} loads[] = {
	{{NULL}, 0, 1000, 3, "mcs", "hunter2", "", 1, NULL},
	{{"250", "edge", "s3cret", "7", "x", "off"}, 0, 250, 7, "edge", "s3cret", "x", 0, NULL},
	{{" 50", NULL, "", "100", NULL, "on"}, 0, 50, 100, "mcs", "", "", 1, NULL},
	{{"abc"}, -1, 0, 0, NULL, NULL, NULL, 0, "MCS_UT_POLL_MS: \"abc\" is not a number of milliseconds"},
	{{""}, -1, 0, 0, NULL, NULL, NULL, 0, "MCS_UT_POLL_MS: \"\" is not a number of milliseconds"},
	{{"60001"}, -1, 0, 0, NULL, NULL, NULL, 0, "MCS_UT_POLL_MS: 60001 is out of range (50 to 60000 milliseconds)"},
	{{NULL, "too long!"}, -1, 0, 0, NULL, NULL, NULL, 0, "MCS_UT_NAME: \"too long!\" is not 1 to 7 characters"},
	{{NULL, NULL, NULL, "0"}, -1, 0, 0, NULL, NULL, NULL, 0, "MCS_UT_COUNT: 0 is out of range (1 to 100 checks)"},
	{{NULL, NULL, NULL, NULL, NULL, "yes"},
	 -1,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 0,
	 "MCS_UT_SWITCH: \"yes\" is not off or on"},
	/* The first bad value stops the load. */
	{{"-1", "", NULL, "0"},
	 -1,
	 0,
	 0,
	 NULL,
	 NULL,
	 NULL,
	 0,
	 "MCS_UT_POLL_MS: \"-1\" is not a number of milliseconds"},
};

START_TEST(test_load)
{
	char err[256] = "";
	for (size_t i = 0; i < NTABLE; i++)
		if (loads[_i].env[i] != NULL)
			ck_assert_int_eq(setenv(table[i].name, loads[_i].env[i], 1), 0);
	int rc = cfg_load(table, NTABLE, err, sizeof(err));
	ck_assert_msg(rc == loads[_i].rc, "rc %d (%s)", rc, err);
	if (rc == -1) {
		ck_assert_str_eq(err, loads[_i].err);
		return;
	}
	ck_assert_uint_eq(t_ms, loads[_i].ms);
	ck_assert_uint_eq(t_count, loads[_i].count);
	ck_assert_str_eq(t_name, loads[_i].name);
	ck_assert_str_eq(t_secret, loads[_i].secret);
	ck_assert_str_eq(t_empty, loads[_i].empty);
	ck_assert_int_eq(t_switch, loads[_i].on);
}
END_TEST

/* A default is parsed like user input: a bad one is reported, not stored. */
START_TEST(test_load_bad_default)
{
	static unsigned long v = SENTINEL;
	static const struct cfg_var bad[] = {
		{"MCS_UT_BAD", CFG_UINT, "10", 50, 100, "seconds", "a default below its minimum", &v, NULL, NULL, NULL},
	};
	char err[256];
	unsetenv("MCS_UT_BAD");
	ck_assert_int_eq(cfg_load(bad, 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "MCS_UT_BAD: 10 is out of range (50 to 100 seconds)");
	ck_assert_uint_eq(v, SENTINEL);
}
END_TEST

START_TEST(test_print_effective)
{
	char err[256];
	ck_assert_int_eq(setenv("MCS_UT_NAME", "edge", 1), 0);
	ck_assert_int_eq(cfg_load(table, NTABLE, err, sizeof(err)), 0);
	char *text = capture_effective();
	ck_assert_str_eq(text, "MCS_UT_POLL_MS=1000\n"
			       "MCS_UT_NAME=edge\n"
			       "MCS_UT_SECRET=<7 bytes hidden>\n"
			       "MCS_UT_COUNT=3\n"
			       "MCS_UT_EMPTY=\n"
			       "MCS_UT_SWITCH=on\n");
	ck_assert_ptr_null(strstr(text, "hunter2"));
	free(text);
}
END_TEST

START_TEST(test_print_help)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(f);
	cfg_print_help(f, "mcs-lb-controller", "Keeps HAProxy in line with Redis.", table, NTABLE);
	ck_assert_int_eq(fclose(f), 0);
	static const char head[] = "Usage: mcs-lb-controller [--help | --print-config | --version]\n"
				   "Keeps HAProxy in line with Redis.\n\nEnvironment variables:\n";
	ck_assert_msg(strncmp(text, head, sizeof(head) - 1) == 0, "%s", text);
	static const char *const lines[] = {
		"  MCS_UT_POLL_MS             interval between two steps (default: 1000; 50 to 60000 milliseconds)\n",
		"  MCS_UT_NAME                a short name (default: mcs)\n",
		"  MCS_UT_SECRET              a password (default: hunter2)\n",
		"  MCS_UT_COUNT               failed checks (default: 3; 1 to 100 checks)\n",
		"  MCS_UT_EMPTY               may be empty (default: empty)\n",
		"  MCS_UT_SWITCH              a switch (default: on; off or on)\n",
	};
	for (size_t i = 0; i < N_ELEMS(lines); i++)
		ck_assert_msg(strstr(text, lines[i]) != NULL, "missing line %s in:\n%s", lines[i], text);
	free(text);
}
END_TEST

START_TEST(test_free)
{
	char err[256];
	cfg_free(table, NTABLE); /* nothing loaded: all NULL, a no-op */
	ck_assert_int_eq(cfg_load(table, NTABLE, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(t_name);
	cfg_free(table, NTABLE);
	ck_assert_ptr_null(t_name);
	ck_assert_ptr_null(t_secret);
	ck_assert_ptr_null(t_empty);
	ck_assert_uint_eq(t_ms, 1000); /* numbers are left as they are */
	/* The table may be loaded again, and loading twice replaces the strings. */
	ck_assert_int_eq(setenv("MCS_UT_NAME", "first", 1), 0);
	ck_assert_int_eq(cfg_load(table, NTABLE, err, sizeof(err)), 0);
	ck_assert_int_eq(setenv("MCS_UT_NAME", "second", 1), 0);
	ck_assert_int_eq(cfg_load(table, NTABLE, err, sizeof(err)), 0);
	ck_assert_str_eq(t_name, "second");
	cfg_free(table, NTABLE);
	cfg_free(table, NTABLE);
	ck_assert_ptr_null(t_name);
}
END_TEST

static const struct {
	const char *argv[4];
	const char *env_ms; /* MCS_UT_POLL_MS, NULL: unset */
	int rc;
	const char *out;    /* a part of stdout, NULL: empty */
	const char *errout; /* a part of stderr, NULL: empty */
} mains[] = {
	{{"prog"}, NULL, 0, NULL, NULL},
	{{"prog"}, "200", 0, NULL, NULL},
	{{"prog", "--help"}, NULL, 1, "Usage: prog [--help | --print-config | --version]\nsummary line\n", NULL},
	{{"/usr/local/bin/prog", "--version"}, "abc", 1, "prog " MCS_VERSION "\n", NULL}, /* no configuration needed */
	{{"prog", "-h"}, "abc", 1, "MCS_UT_POLL_MS", NULL}, /* help needs no valid configuration */
	{{"prog", "--print-config"},
	 "200",
	 1,
	 "MCS_UT_POLL_MS=200\nMCS_UT_NAME=mcs\nMCS_UT_SECRET=<7 bytes hidden>\n",
	 NULL},
	{{"prog", "--print-config", "--help"}, NULL, 1, "Usage: prog", NULL},
	{{"prog", "--bogus"}, NULL, 2, NULL, "prog: unknown argument \"--bogus\" (try --help)\n"},
	{{"prog", "--print-config", "x"}, NULL, 2, NULL, "prog: unknown argument \"x\" (try --help)\n"},
	{{"prog"}, "abc", 2, NULL, "prog: MCS_UT_POLL_MS: \"abc\" is not a number of milliseconds\n"},
	{{"prog", "--print-config"},
	 "1",
	 2,
	 NULL,
	 "prog: MCS_UT_POLL_MS: 1 is out of range (50 to 60000 milliseconds)\n"},
};

/* cfg_main writes to stdout and stderr: point both at memory streams while it runs. */
START_TEST(test_main)
{
	char *out_text = NULL, *err_text = NULL;
	size_t out_size = 0, err_size = 0;
	if (mains[_i].env_ms != NULL)
		ck_assert_int_eq(setenv("MCS_UT_POLL_MS", mains[_i].env_ms, 1), 0);
	int argc = 0;
	char *argv[5] = {NULL};
	while (mains[_i].argv[argc] != NULL) {
		argv[argc] = (char *)mains[_i].argv[argc];
		argc++;
	}
	FILE *saved_out = stdout, *saved_err = stderr;
	stdout = open_memstream(&out_text, &out_size);
	stderr = open_memstream(&err_text, &err_size);
	int rc = -1;
	if (stdout != NULL && stderr != NULL)
		rc = cfg_main(argc, argv, "summary line", table, NTABLE);
	if (stdout != NULL)
		fclose(stdout);
	if (stderr != NULL)
		fclose(stderr);
	stdout = saved_out;
	stderr = saved_err;
	ck_assert_ptr_nonnull(out_text);
	ck_assert_ptr_nonnull(err_text);
	ck_assert_msg(rc == mains[_i].rc, "rc %d; stdout:\n%s\nstderr:\n%s", rc, out_text, err_text);
	if (mains[_i].out == NULL)
		ck_assert_str_eq(out_text, "");
	else
		ck_assert_msg(strstr(out_text, mains[_i].out) != NULL, "stdout lacks \"%s\":\n%s", mains[_i].out,
			      out_text);
	if (mains[_i].errout == NULL)
		ck_assert_str_eq(err_text, "");
	else
		ck_assert_str_eq(err_text, mains[_i].errout);
	if (rc == 0 || (rc == 1 && strcmp(argv[1], "--print-config") == 0 && argc == 2))
		ck_assert_uint_eq(t_ms, mains[_i].env_ms ? strtoul(mains[_i].env_ms, NULL, 10) : 1000);
	free(out_text);
	free(err_text);
}
END_TEST

static int d_level, d_format;
static const struct cfg_var daemon_table[] = {
	{"MCS_UT_LOG_LEVEL", CFG_ENUM, "info", 0, 0, NULL, "level", &d_level, NULL, NULL, log_level_words},
	{"MCS_UT_LOG_FORMAT", CFG_ENUM, "text", 0, 0, NULL, "format", &d_format, NULL, NULL, log_format_words},
};

static const struct {
	const char *argv[3];
	const char *level; /* MCS_UT_LOG_LEVEL */
	int rc;
	int debug_shown; /* CFG_RUN: 1 when a log_debug line reaches stderr afterwards */
} daemons[] = {
	{{"prog"}, "debug", CFG_RUN, 1},        {{"prog"}, "info", CFG_RUN, 0},
	{{"prog", "--version"}, "debug", 0, 0}, {{"prog", "--print-config"}, "debug", 0, 0},
	{{"prog", "--bogus"}, "debug", 2, 0},   {{"prog"}, "loud", 2, 0},
};

/* cfg_daemon_start: the exit status main returns, and the log level it sets when it runs on. */
START_TEST(test_daemon_start)
{
	char *out_text = NULL, *err_text = NULL;
	size_t out_size = 0, err_size = 0;
	ck_assert_int_eq(setenv("MCS_UT_LOG_LEVEL", daemons[_i].level, 1), 0);
	int argc = 0;
	while (daemons[_i].argv[argc] != NULL)
		argc++;
	FILE *saved_out = stdout, *saved_err = stderr;
	stdout = open_memstream(&out_text, &out_size);
	stderr = open_memstream(&err_text, &err_size);
	ck_assert(stdout != NULL && stderr != NULL);
	int rc = cfg_daemon_start(argc, (char **)daemons[_i].argv, "ut-daemon", "summary line", daemon_table,
				  N_ELEMS(daemon_table), &d_level, &d_format);
	if (rc == CFG_RUN)
		log_debug("debug line");
	fclose(stdout);
	fclose(stderr);
	stdout = saved_out;
	stderr = saved_err;
	ck_assert_msg(rc == daemons[_i].rc, "rc %d; stderr:\n%s", rc, err_text);
	ck_assert_int_eq(strstr(err_text, "ut-daemon debug: debug line") != NULL, daemons[_i].debug_shown);
	cfg_free(daemon_table, N_ELEMS(daemon_table));
	free(out_text);
	free(err_text);
}
END_TEST

static Suite *cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("set");
	tcase_add_loop_test(tc, test_uint, 0, N_ELEMS(uints));
	tcase_add_test(tc, test_uint_long_text);
	tcase_add_test(tc, test_uint_message_one_line);
	tcase_add_loop_test(tc, test_str, 0, N_ELEMS(strs));
	tcase_add_loop_test(tc, test_enum, 0, N_ELEMS(enums));
	tcase_add_test(tc, test_enum_print);
	tcase_add_test(tc, test_check_nonempty);
	suite_add_tcase(s, tc);
	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, env_setup, env_teardown);
	tcase_add_loop_test(tc, test_load, 0, N_ELEMS(loads));
	tcase_add_test(tc, test_load_bad_default);
	tcase_add_test(tc, test_print_effective);
	tcase_add_test(tc, test_print_help);
	tcase_add_test(tc, test_free);
	tcase_add_loop_test(tc, test_main, 0, N_ELEMS(mains));
	tcase_add_loop_test(tc, test_daemon_start, 0, N_ELEMS(daemons));
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return unit_run(cfg_suite()); }
