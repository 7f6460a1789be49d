/* The small helpers of common/: an atomic write replaces the whole file or leaves it alone, a
 * growable array doubles from its first size, a format that does not fit leaves nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "fmt.h"
#include "unit.h"
#include "vec.h"

static void read_all(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

START_TEST(test_write_replaces)
{
	char dir[] = "/tmp/afile-XXXXXX", path[64], tmp[80], err[256], buf[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert_int_eq(afile_write(path, "one", 3, 0600, AFILE_SYNC, err, sizeof(err)), 0);
	ck_assert_int_eq(afile_write(path, "two!", 4, 0600, 0, err, sizeof(err)), 0);
	read_all(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "two!");
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(access(tmp, F_OK), -1); /* renamed away */
	/* A failed write leaves the old file and names the temporary file. */
	char missing[96];
	snprintf(missing, sizeof(missing), "%s/no/f", dir);
	ck_assert_int_eq(afile_write(missing, "x", 1, 0600, AFILE_SYNC, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/no/f.tmp"));
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A secret's file: exactly its mode whatever the umask, through a temporary file of this
 * process's own that a leftover link cannot redirect. */
START_TEST(test_write_private)
{
	char dir[] = "/tmp/afile-XXXXXX", path[64], tmp[96], decoy[80], err[256], buf[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	snprintf(decoy, sizeof(decoy), "%s/decoy", dir);
	FILE *f = fopen(decoy, "w");
	ck_assert_ptr_nonnull(f);
	fputs("decoy", f);
	fclose(f);
	ck_assert_int_eq(symlink(decoy, tmp), 0); /* a leftover, or a trap */
	mode_t old = umask(0777);
	int rc = afile_write(path, "secret", 6, 0600, AFILE_SYNC | AFILE_PRIVATE, err, sizeof(err));
	umask(old);
	ck_assert_msg(rc == 0, "%s", err);
	read_all(path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "secret");
	read_all(decoy, buf, sizeof(buf));
	ck_assert_str_eq(buf, "decoy");
	struct stat st;
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	/* Without the flag the umask applies, as for any file. */
	old = umask(0077);
	ck_assert_int_eq(afile_write(path, "x", 1, 0644, 0, err, sizeof(err)), 0);
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	unlink(path);
	unlink(decoy);
	rmdir(dir);
}
END_TEST

START_TEST(test_vec_grow)
{
	int *v = NULL;
	size_t n = 0, cap = 0;
	for (int i = 0; i < 100; i++) {
		int *grown = vec_grow(v, &cap, n, sizeof(*v), 4);
		ck_assert_ptr_nonnull(grown);
		v = grown;
		v[n++] = i;
	}
	ck_assert_uint_eq(cap, 128); /* 4, 8, ..., 128 */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(v[i], i);
	/* An impossible size fails and leaves the array to its owner. */
	size_t huge = SIZE_MAX / 2 + 1;
	ck_assert_ptr_null(vec_grow(v, &huge, huge, 2, 4));
	free(v);
}
END_TEST

START_TEST(test_fmt_whole_or_nothing)
{
	char buf[8] = "old";
	ck_assert_int_eq(fmt_buf(buf, sizeof(buf), "%s:%d", "ab", 12), 0);
	ck_assert_str_eq(buf, "ab:12");
	ck_assert_int_eq(fmt_buf(buf, sizeof(buf), "%s", "12345678"), -1); /* 8 bytes + NUL: no room */
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(fmt_buf(buf, 0, "x"), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("common");
	tcase_add_test(tc, test_fmt_whole_or_nothing);
	tcase_add_test(tc, test_write_replaces);
	tcase_add_test(tc, test_write_private);
	tcase_add_test(tc, test_vec_grow);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
