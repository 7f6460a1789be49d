/* Integration-test harness, the suite's life cycle: the shared state H, errors and time, the
 * temp dir made and removed around check's run, and the cleanup at a test process's exit. The
 * other concerns are in harness_*.c (see harness.h). Every wait has a deadline. */
#include "harness_private.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct h_env H;
static char h_errbuf[1024];
static int h_child_cleanup_registered;

void h_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h_errbuf, sizeof(h_errbuf), fmt, ap);
	va_end(ap);
}

const char *h_error(void) { return h_errbuf; }

uint64_t h_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void h_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR) /* poll step: the pause H_WAIT's deadline loops take */
		;
}

/* atexit of a test process: stop its heartbeats and the processes it started. */
static void h_child_cleanup(void)
{
	if (getpid() == H.main_pid)
		return;
	h_hb_shutdown();
	h_stop_owned();
}

void h_child_cleanup_arm(void)
{
	if (h_child_cleanup_registered || getpid() == H.main_pid)
		return;
	atexit(h_child_cleanup);
	h_child_cleanup_registered = 1;
}

/* ---------------------------------------------------------------- suite life cycle */

static int h_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Missing haproxy/redis-server: skip (77) on a workstation, fail in CI, which must run them. */
static int h_preflight(void)
{
	static const char *const progs[] = {"haproxy", "redis-server", "openssl"};
	char path[H_PATH_MAX];
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		if (h_which(progs[i], path, sizeof(path)) == 0)
			continue;
		const char *ci = getenv("CI");
		int in_ci = ci != NULL && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
		fprintf(stderr, "%s is not installed: %s\n", progs[i],
			in_ci ? "failing (CI=true: integration tests must run)" : "skipping the integration suite");
		return in_ci ? 1 : 77;
	}
	return 0;
}

static int h_make_dirs(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(H.dir, sizeof(H.dir), "%s/mcs-lb-it.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(H.dir) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", H.dir, strerror(errno));
		return -1;
	}
	snprintf(H.run_dir, sizeof(H.run_dir), "%s/run", H.dir);
	snprintf(H.tls_dir, sizeof(H.tls_dir), "%s/tls", H.dir);
	snprintf(H.admin_sock, sizeof(H.admin_sock), "%s/admin.sock", H.run_dir);
	snprintf(H.stats_sock, sizeof(H.stats_sock), "%s/stats.sock", H.run_dir);
	if (mkdir(H.run_dir, 0700) == -1 || mkdir(H.tls_dir, 0700) == -1) {
		fprintf(stderr, "mkdir in %s: %s\n", H.dir, strerror(errno));
		return -1;
	}
	return 0;
}

int h_main(Suite *s)
{
	int rc = h_preflight();
	if (rc != 0)
		return rc;
	H.main_pid = getpid();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (h_make_dirs() == -1)
		return 1;
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK); /* the fixtures rely on per-test processes */
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	h_stop_owned();
	if (failed != 0) {
		h_dump_logs();
		fprintf(stderr, "\n%d test(s) failed; kept %s\n", failed, H.dir);
		return 1;
	}
	if (getenv("MCS_IT_KEEP") != NULL)
		fprintf(stderr, "MCS_IT_KEEP: kept %s\n", H.dir);
	else
		nftw(H.dir, h_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
