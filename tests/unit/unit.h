/* What the unit suites share: the size of a case table, captured replies from tests/fixtures,
 * and check's runner. */
#ifndef MCS_UNIT_H
#define MCS_UNIT_H

#include <check.h>

/* Number of elements of the array a (not a pointer). */
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Reads tests/fixtures/<name> (FIXTURES_DIR) whole, NUL-terminated; the caller frees. Fails
 * the running test when the file cannot be read. */
char *fixture(const char *name);

/* Fails the running test unless err contains want and is one line, as every parser's message
 * must be. */
void unit_assert_err_has(const char *err, const char *want);

/* Runs every test of s in check's forking mode and frees it. Returns main's exit status:
 * 0 when every test passed, 1 otherwise. */
int unit_run(Suite *s);

#endif
