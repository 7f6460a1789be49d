/* mcs-lb-status: prints one screen about a running gateway (HAProxy, the controller, Redis as
 * the controller sees it, clients, every node), as text, as JSON (--json), or refreshed in
 * place (--watch). Reads only the read-only stats socket and controller.json. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "status.h"

#define ST_TIMEOUT_MS 2000
#define ST_WATCH_DEFAULT_S 2
#define ST_WATCH_MAX_S 3600

static volatile sig_atomic_t st_stop;

static void st_on_signal(int sig) { st_stop = sig; }

static void usage(FILE *out)
{
	fprintf(out,
		"usage: mcs-lb-status [--run-dir DIR] [--json] [--watch [SECONDS]]\n"
		"  One screen about a running gateway, from DIR/stats.sock and DIR/controller.json\n"
		"  (DIR: --run-dir, else $MCS_RUN_DIR, else run/$MCS_PORT, MCS_PORT 64400 when unset).\n"
		"  --json            the same facts as one JSON object\n"
		"  --watch [SECONDS] refresh in place every SECONDS (1 to %d, default %d) until Ctrl-C\n"
		"  Exit status: 0 serving with at least one healthy node, 1 not serving,\n"
		"  2 nothing runs (no HAProxy, no synced controller) or bad arguments.\n",
		ST_WATCH_MAX_S, ST_WATCH_DEFAULT_S);
}

/* The terminal's width, or 0 (no cut) when stdout is not a terminal. */
static unsigned st_width(void)
{
	struct winsize ws;
	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}

static int st_once(const char *run_dir, int json)
{
	struct st_facts f;
	st_gather(run_dir, ST_TIMEOUT_MS, &f);
	int code = st_exit_code(&f);
	if (json) {
		if (st_render_json(stdout, &f, run_dir) == -1) {
			fprintf(stderr, "mcs-lb-status: out of memory\n");
			code = 2;
		}
	} else {
		st_render_text(stdout, &f, run_dir, st_width());
	}
	st_facts_free(&f);
	fflush(stdout);
	return code;
}

/* Redraws every interval_s until SIGINT or SIGTERM; returns the last exit status. */
static int st_watch(const char *run_dir, int json, unsigned interval_s)
{
	struct sigaction sa = {.sa_handler = st_on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	int code = 2;
	while (!st_stop) {
		if (!json)
			fputs("\033[H\033[2J", stdout); /* home, clear: the screen is redrawn in place */
		code = st_once(run_dir, json);
		struct timespec left = {.tv_sec = interval_s};
		while (!st_stop && nanosleep(&left, &left) == -1 && errno == EINTR)
			;
	}
	return code;
}

/* SECONDS of --watch: 1..ST_WATCH_MAX_S, digits only. 0 when text is not one. */
static unsigned st_seconds(const char *text)
{
	if (text == NULL || text[0] == '\0' || strspn(text, "0123456789") != strlen(text) || strlen(text) > 4)
		return 0;
	unsigned long v = strtoul(text, NULL, 10);
	return v >= 1 && v <= ST_WATCH_MAX_S ? (unsigned)v : 0;
}

int main(int argc, char **argv)
{
	const char *run_dir = NULL;
	int json = 0, watch = 0;
	unsigned interval = ST_WATCH_DEFAULT_S;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--watch") == 0) {
			watch = 1;
			if (i + 1 < argc && argv[i + 1][0] != '-' && (interval = st_seconds(argv[++i])) == 0) {
				fprintf(stderr, "mcs-lb-status: --watch \"%s\" is not a number of seconds (1 to %d)\n",
					argv[i], ST_WATCH_MAX_S);
				return 2;
			}
		} else if (strcmp(argv[i], "--run-dir") == 0 && i + 1 < argc) {
			run_dir = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "mcs-lb-status: unknown argument \"%s\"\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	char dflt[64];
	if (run_dir == NULL && (run_dir = getenv("MCS_RUN_DIR")) == NULL) {
		const char *port = getenv("MCS_PORT");
		snprintf(dflt, sizeof(dflt), "run/%.8s", port && port[0] ? port : "64400");
		run_dir = dflt;
	}
	return watch ? st_watch(run_dir, json, interval) : st_once(run_dir, json);
}
