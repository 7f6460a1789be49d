/* Integration-test harness: processes, Redis, HAProxy's runtime socket, heartbeats and TLS
 * clients for the check suites in this folder (see harness.h). Every wait has a deadline. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef H_CONTROLLER_BIN
#error "meson defines H_CONTROLLER_BIN, H_TLS_CHECK_BIN, H_DEMO_NODE_BIN, H_HAPROXY_CFG"
#endif

#define H_NODE_KEY "mcs:node"
#define H_STOP_TIMEOUT_MS 5000
#define H_READY_TIMEOUT_MS 10000
#define H_HB_PERIOD_MS 1000
#define H_HB_LIFETIME_MS 120000
#define H_HB_MAX 32
#define H_LOG_TAIL_LINES 150

extern char **environ;

struct h_env H;
static struct h_proc h_procs[H_MAX_PROCS];
static char h_errbuf[1024];
static int h_child_cleanup_registered;

static void h_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void h_fail(const char *fmt, ...)
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
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- processes */

/* Finds an executable in PATH or the sbin directories (haproxy lives in /usr/sbin). */
static int h_which(const char *prog, char *out, size_t outlen)
{
	if (strchr(prog, '/') != NULL) {
		snprintf(out, outlen, "%s", prog);
		return access(out, X_OK) == 0 ? 0 : -1;
	}
	const char *path = getenv("PATH");
	char dirs[4096];
	snprintf(dirs, sizeof(dirs), "%s:/usr/local/sbin:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, outlen, "%s/%s", d, prog);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -1;
}

int h_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* environ plus the overrides, as a malloc'd NULL-terminated array of borrowed strings. */
static char **h_build_env(const char *const extra[])
{
	size_t n = 0, m = 0;
	while (environ[n] != NULL)
		n++;
	while (extra != NULL && extra[m] != NULL)
		m++;
	char **envp = calloc(n + m + 1, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int overridden = 0;
		for (size_t j = 0; j < m && !overridden; j++) {
			size_t kl = strcspn(extra[j], "=");
			overridden = strncmp(environ[i], extra[j], kl) == 0 && environ[i][kl] == '=';
		}
		if (!overridden)
			envp[o++] = environ[i];
	}
	/* Of two extra entries with one name the later wins (getenv would take the first). */
	for (size_t j = 0; j < m; j++) {
		size_t kl = strcspn(extra[j], "=");
		int later = 0;
		for (size_t k = j + 1; k < m && !later; k++)
			later = strncmp(extra[k], extra[j], kl + 1) == 0;
		if (!later)
			envp[o++] = (char *)extra[j];
	}
	return envp;
}

static void h_child_cleanup(void);

/* Only async-signal-safe calls between fork and exec: the heartbeat thread may hold locks. */
static void h_exec_child(const char *path, const char *const argv[], char **envp, int out_fd, int new_session,
			 pid_t parent)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (new_session)
		setsid();
	int nul = open("/dev/null", O_RDONLY);
	if (nul == -1 || dup2(nul, 0) == -1 || dup2(out_fd, 1) == -1 || dup2(out_fd, 2) == -1)
		_exit(127);
	execve(path, (char *const *)argv, envp);
	static const char msg[] = "harness: exec failed\n";
	ssize_t ignored = write(2, msg, sizeof(msg) - 1);
	(void)ignored;
	_exit(127);
}

static struct h_proc *h_proc_slot(void)
{
	for (int i = 0; i < H_MAX_PROCS; i++)
		if (h_procs[i].pid == 0 && h_procs[i].name[0] == '\0')
			return &h_procs[i];
	for (int i = 0; i < H_MAX_PROCS; i++)
		if (h_procs[i].pid == 0)
			return &h_procs[i];
	return NULL;
}

struct h_proc *h_spawn(const char *name, const char *const argv[], const char *const env[])
{
	char path[H_PATH_MAX];
	struct h_proc *p = h_proc_slot();
	if (p == NULL) {
		h_fail("%s: no free process slot", name);
		return NULL;
	}
	if (h_which(argv[0], path, sizeof(path)) == -1) {
		h_fail("%s: %s is not installed or not built", name, argv[0]);
		return NULL;
	}
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", H.dir, name);
	int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	char **envp = h_build_env(env);
	pid_t parent = getpid();
	if (fd == -1 || envp == NULL) {
		h_fail("%s: cannot open %s: %s", name, p->log, strerror(errno));
		goto fail;
	}
	p->pid = fork();
	if (p->pid == 0)
		h_exec_child(path, argv, envp, fd, 0, parent);
	if (p->pid == -1) {
		h_fail("%s: fork: %s", name, strerror(errno));
		p->pid = 0;
		goto fail;
	}
	p->owner = parent;
	if (parent != H.main_pid && !h_child_cleanup_registered) {
		atexit(h_child_cleanup);
		h_child_cleanup_registered = 1;
	}
	close(fd);
	free(envp);
	return p;
fail:
	if (fd != -1)
		close(fd);
	free(envp);
	return NULL;
}

/* Reaps p if it has exited. Returns 1 when it is gone. */
static int h_proc_reap(struct h_proc *p, int flags)
{
	int status;
	pid_t r = waitpid(p->pid, &status, flags);
	if (r == p->pid) {
		p->status = status;
		p->pid = 0;
		return 1;
	}
	return 0;
}

int h_proc_running(struct h_proc *p)
{
	if (p == NULL || p->pid == 0)
		return 0;
	if (p->owner == getpid())
		return !h_proc_reap(p, WNOHANG);
	/* Not our child (a test looking at a suite server): ask /proc. */
	char path[64], stat[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	const char *paren = strrchr(stat, ')');
	return paren != NULL && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* A process another one spawned (a suite server seen from a test): signal it and watch it go;
 * its owner reaps it later. */
static int h_proc_stop_foreign(struct h_proc *p, unsigned timeout_ms)
{
	kill(p->pid, SIGTERM);
	if (!H_WAIT(timeout_ms, !h_proc_running(p))) {
		kill(p->pid, SIGKILL);
		H_WAIT(timeout_ms, !h_proc_running(p));
	}
	p->pid = 0;
	return 0;
}

int h_proc_stop(struct h_proc *p, unsigned timeout_ms)
{
	if (p == NULL || p->pid == 0)
		return -1;
	if (p->owner != getpid())
		return h_proc_stop_foreign(p, timeout_ms);
	kill(p->pid, SIGTERM);
	uint64_t end = h_now_ms() + timeout_ms;
	while (h_now_ms() < end) {
		if (h_proc_reap(p, WNOHANG))
			return p->status;
		h_sleep_ms(10);
	}
	fprintf(stderr, "harness: %s (pid %d) ignored SIGTERM for %u ms: SIGKILL\n", p->name, (int)p->pid, timeout_ms);
	kill(p->pid, SIGKILL);
	h_proc_reap(p, 0);
	return p->status;
}

/* Stops everything the calling process started, newest first. */
static void h_stop_owned(void)
{
	for (int i = H_MAX_PROCS - 1; i >= 0; i--)
		if (h_procs[i].pid != 0 && h_procs[i].owner == getpid())
			h_proc_stop(&h_procs[i], H_STOP_TIMEOUT_MS);
}

/* Reads a child's output into out until EOF or the deadline. */
static void h_read_all(int fd, char *out, size_t outlen, uint64_t end)
{
	size_t len = 0;
	for (;;) {
		long left = (long)(end - h_now_ms());
		struct pollfd pfd = {fd, POLLIN, 0};
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		char tmp[4096];
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r <= 0)
			break;
		size_t take = (size_t)r < outlen - 1 - len ? (size_t)r : outlen - 1 - len;
		memcpy(out + len, tmp, take);
		len += take;
	}
	out[len] = '\0';
}

int h_run(const char *const argv[], char *out, size_t outlen, unsigned timeout_ms)
{
	char path[H_PATH_MAX], scratch[64];
	int pfd[2];
	if (out == NULL || outlen == 0) {
		out = scratch;
		outlen = sizeof(scratch);
	}
	out[0] = '\0';
	if (h_which(argv[0], path, sizeof(path)) == -1) {
		h_fail("%s is not installed or not built", argv[0]);
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		h_fail("pipe: %s", strerror(errno));
		return -1;
	}
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		h_exec_child(path, argv, environ, pfd[1], 1, parent);
	close(pfd[1]);
	if (pid == -1) {
		close(pfd[0]);
		h_fail("fork: %s", strerror(errno));
		return -1;
	}
	uint64_t end = h_now_ms() + timeout_ms;
	h_read_all(pfd[0], out, outlen, end);
	close(pfd[0]);
	int status = 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (h_now_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			h_fail("%s timed out after %u ms", argv[0], timeout_ms);
			return -1;
		}
		h_sleep_ms(5);
	}
	if (!WIFEXITED(status)) {
		h_fail("%s died of signal %d", argv[0], WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

/* Reads a whole (small) file into a malloc'd string, or NULL. */
char *h_read_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		if (len + 4096 > cap) {
			char *b = realloc(buf, cap *= 2);
			if (b == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (buf != NULL) {
		buf[len] = '\0';
		if (len_out)
			*len_out = len;
	}
	return buf;
}

int h_log_has(const struct h_proc *p, const char *a, const char *b, const char *c)
{
	char *text = h_read_file(p->log, NULL);
	int found = 0;
	for (char *line = text, *next; line != NULL && *line != '\0' && !found; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		found = (a == NULL || strstr(line, a)) && (b == NULL || strstr(line, b)) && (c == NULL || strstr(line, c));
	}
	free(text);
	return found;
}

/* ---------------------------------------------------------------- redis */

static redisContext *h_redis_connect(unsigned timeout_ms)
{
	struct timeval tv = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", H.redis_port, tv);
	if (c != NULL && c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK)
		return c;
	redisFree(c);
	return NULL;
}

static int h_redis_ping(void)
{
	redisContext *c = h_redis_connect(500);
	redisReply *r = c ? redisCommand(c, "PING") : NULL;
	int ok = r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return ok;
}

int h_redis_start(void)
{
	char port[16];
	if (H.redis_port == 0)
		H.redis_port = h_free_port();
	snprintf(port, sizeof(port), "%d", H.redis_port);
	const char *argv[48] = {"redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
				"--dir", H.dir, NULL};
	for (size_t i = 0, n = 11; H.opts.redis_args != NULL && H.opts.redis_args[i] != NULL && n + 1 < 48; i++)
		argv[n++] = H.opts.redis_args[i];
	H.redis = h_spawn("redis", argv, NULL);
	if (H.redis == NULL)
		return -1;
	if (!H_WAIT(H_READY_TIMEOUT_MS, h_redis_ping() || !h_proc_running(H.redis)) || !h_proc_running(H.redis)) {
		h_fail("redis-server on port %d did not answer PING (see %s)", H.redis_port, H.redis->log);
		return -1;
	}
	return 0;
}

int h_redis_stop(void) { return h_proc_stop(H.redis, H_STOP_TIMEOUT_MS) == -1 ? -1 : 0; }

/* This process's connection: check forks each test, and a forked copy must not be shared. */
static redisContext *h_rc;
static pid_t h_rc_pid;
/* The parent's connection, inherited by a forked test: not ours to close (the parent still
 * uses its socket), kept reachable so leak checkers do not report it. */
static redisContext *volatile h_rc_inherited; /* volatile: a store never read is otherwise dropped */

static redisReply *h_redis_vcmd(const char *fmt, va_list ap)
{
	if (h_rc != NULL && (h_rc_pid != getpid() || h_rc->err != 0)) {
		if (h_rc_pid == getpid())
			redisFree(h_rc);
		else
			h_rc_inherited = h_rc;
		h_rc = NULL;
	}
	if (h_rc == NULL && (h_rc = h_redis_connect(1000)) == NULL) {
		h_fail("cannot connect to redis on port %d", H.redis_port);
		return NULL;
	}
	h_rc_pid = getpid();
	redisReply *r = redisvCommand(h_rc, fmt, ap);
	if (r == NULL)
		h_fail("redis: %s", h_rc->errstr);
	return r;
}

redisReply *h_redis_cmd(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = h_redis_vcmd(fmt, ap);
	va_end(ap);
	if (r == NULL && h_rc != NULL) {
		/* A connection that died while idle (Redis restarted): once more on a fresh one. */
		va_start(ap, fmt);
		r = h_redis_vcmd(fmt, ap);
		va_end(ap);
	}
	return r;
}

static long long h_time_reply(redisReply *r)
{
	long long t = -1;
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING)
		t = strtoll(r->element[0]->str, NULL, 10);
	if (r != NULL)
		freeReplyObject(r);
	return t;
}

long long h_redis_time(void) { return h_time_reply(h_redis_cmd("TIME")); }

/* Redis TIME as a score with microseconds ("1700000000.123456"), as a careful chat node sends
 * it: whole seconds would age a score by up to one more second, and with the short TTLs of the
 * tests every node would drop out of the live set for a moment each second. 0, or -1. */
static int h_time_score(redisReply *r, char *out, size_t outlen)
{
	int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		 r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING;
	if (ok)
		snprintf(out, outlen, "%s.%06ld", r->element[0]->str, strtol(r->element[1]->str, NULL, 10));
	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

int h_zadd(const char *member, size_t len, long long score)
{
	char text[48];
	if (score != 0)
		snprintf(text, sizeof(text), "%lld", score);
	else if (h_time_score(h_redis_cmd("TIME"), text, sizeof(text)) == -1)
		return -1;
	redisReply *r = h_redis_cmd("ZADD %s %s %b", H_NODE_KEY, text, member, len);
	int ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
	if (r != NULL && !ok)
		h_fail("ZADD: %s", r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* ---------------------------------------------------------------- heartbeats */

struct h_hb {
	pthread_mutex_t mu;     /* held for a whole round, so a removed member is never beaten again */
	pthread_t thread;
	pid_t pid;              /* process that owns the thread (check forks each test) */
	int running;
	volatile int stop;      /* read by the thread between rounds without the lock */
	uint64_t until;
	int n;
	char member[H_HB_MAX][H_NAME_MAX];
	uint64_t last_ok[H_HB_MAX];
	/* The thread's Redis connection, held here rather than on its stack: a test process forked
	 * while the thread runs (heartbeats started by a suite's setup) inherits the memory without
	 * the thread, and LeakSanitizer would call the connection a leak. */
	redisContext *conn;
};

static struct h_hb h_hb = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* One round: Redis TIME, then a ZADD per member. Drops the connection on any error. */
static void h_hb_round(redisContext **c)
{
	if (*c == NULL && (*c = h_redis_connect(500)) == NULL)
		return;
	char now[48];
	int ok = h_time_score(redisCommand(*c, "TIME"), now, sizeof(now)) == 0;
	for (int i = 0; i < h_hb.n && ok; i++) {
		redisReply *r = redisCommand(*c, "ZADD %s %s %s", H_NODE_KEY, now, h_hb.member[i]);
		if (r != NULL && r->type == REDIS_REPLY_INTEGER)
			h_hb.last_ok[i] = h_now_ms();
		if (r != NULL)
			freeReplyObject(r);
		else
			ok = 0;
	}
	if (!ok || (*c)->err != 0) {
		redisFree(*c);
		*c = NULL;
	}
}

static void *h_hb_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&h_hb.mu);
		int stop = h_hb.stop || h_now_ms() > h_hb.until;
		if (!stop)
			h_hb_round(&h_hb.conn);
		pthread_mutex_unlock(&h_hb.mu);
		if (stop)
			break;
		for (int t = 0; t < H_HB_PERIOD_MS / H_STEP_MS && !h_hb.stop; t++)
			h_sleep_ms(H_STEP_MS);
	}
	pthread_mutex_lock(&h_hb.mu);
	redisFree(h_hb.conn);
	h_hb.conn = NULL;
	pthread_mutex_unlock(&h_hb.mu);
	return NULL;
}

static void h_hb_shutdown(void)
{
	if (!h_hb.running || h_hb.pid != getpid())
		return;
	pthread_mutex_lock(&h_hb.mu);
	h_hb.stop = 1;
	pthread_mutex_unlock(&h_hb.mu);
	pthread_join(h_hb.thread, NULL);
	h_hb.running = 0;
}

int h_hb_add(const char *member)
{
	if (h_hb.running && h_hb.pid != getpid()) {
		/* A copy inherited through fork: the thread is not ours, nor is its connection (its
		 * socket is shared with the parent: closed here, never written to). */
		h_hb.running = 0;
		redisFree(h_hb.conn);
		h_hb.conn = NULL;
	}
	int rc = h_zadd(member, strlen(member), 0);
	pthread_mutex_lock(&h_hb.mu);
	if (h_hb.n < H_HB_MAX) {
		snprintf(h_hb.member[h_hb.n], H_NAME_MAX, "%s", member);
		h_hb.last_ok[h_hb.n++] = rc == 0 ? h_now_ms() : 0;
	}
	pthread_mutex_unlock(&h_hb.mu);
	if (!h_hb.running) {
		h_hb.stop = 0;
		h_hb.until = h_now_ms() + H_HB_LIFETIME_MS;
		h_hb.pid = getpid();
		if (pthread_create(&h_hb.thread, NULL, h_hb_main, NULL) == 0)
			h_hb.running = 1;
		if (!h_child_cleanup_registered && getpid() != H.main_pid) {
			atexit(h_child_cleanup);
			h_child_cleanup_registered = 1;
		}
	}
	return rc;
}

uint64_t h_hb_remove(const char *member)
{
	uint64_t last = 0;
	pthread_mutex_lock(&h_hb.mu);
	for (int i = 0; i < h_hb.n; i++) {
		if (strcmp(h_hb.member[i], member) != 0)
			continue;
		last = h_hb.last_ok[i];
		h_hb.n--;
		memmove(h_hb.member[i], h_hb.member[h_hb.n], H_NAME_MAX);
		h_hb.last_ok[i] = h_hb.last_ok[h_hb.n];
		break;
	}
	pthread_mutex_unlock(&h_hb.mu);
	return last;
}

/* atexit of a test process: stop its heartbeats and the processes it started. */
static void h_child_cleanup(void)
{
	if (getpid() == H.main_pid)
		return;
	h_hb_shutdown();
	h_stop_owned();
}

/* ---------------------------------------------------------------- demo nodes */

int h_node_start(struct h_node *n) { return h_node_start_with(n, NULL); }

int h_node_start_with(struct h_node *n, const char *option)
{
	char name[H_NAME_MAX];
	static int seq;
	snprintf(name, sizeof(name), "node-%d-%d", (int)getpid(), ++seq);
	const char *argv[] = {H_DEMO_NODE_BIN, "--listen", "127.0.0.1:0", option, NULL};
	memset(n, 0, sizeof(*n));
	n->proc = h_spawn(name, argv, NULL);
	if (n->proc == NULL)
		return -1;
	/* stdout and stderr share the log: look for the line, not just the first line. */
	uint64_t end = h_now_ms() + H_READY_TIMEOUT_MS;
	while (n->port == 0 && h_now_ms() < end && h_proc_running(n->proc)) {
		char *text = h_read_file(n->proc->log, NULL);
		const char *l = text ? strstr(text, "listening on 127.0.0.1:") : NULL;
		if (l != NULL && strchr(l, '\n') != NULL)
			n->port = atoi(l + strlen("listening on 127.0.0.1:"));
		free(text);
		if (n->port == 0)
			h_sleep_ms(10);
	}
	if (n->port <= 0) {
		h_fail("demo node did not print its port (see %s)", n->proc->log);
		return -1;
	}
	snprintf(n->name, sizeof(n->name), "127.0.0.1:%d", n->port);
	return 0;
}

int h_nodes_up(struct h_node *v, int n, unsigned timeout_ms)
{
	for (int i = 0; i < n; i++)
		if (h_node_start(&v[i]) == -1 || h_hb_add(v[i].name) == -1)
			return -1;
	for (int i = 0; i < n; i++) {
		if (!H_WAIT(timeout_ms, h_srv_ready(v[i].name))) {
			h_fail("%s is not a ready server of backend mcs after %u ms", v[i].name, timeout_ms);
			return -1;
		}
	}
	return 0;
}

int h_node_index(const struct h_node *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return i;
	return -1;
}

/* ---------------------------------------------------------------- certificates */

static int h_run_quiet(const char *const argv[], const char *what)
{
	char out[2048];
	int rc = h_run(argv, out, sizeof(out), 30000);
	if (rc != 0) {
		if (rc > 0)
			h_fail("%s failed (exit %d): %.300s", what, rc, out);
		return -1;
	}
	return 0;
}

int h_make_cert(const char *cert, const char *key, enum h_key_fmt fmt)
{
	static const char *const headers[] = {"-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----",
					      "-----BEGIN RSA PRIVATE KEY-----"};
	const char *pkcs8[] = {"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
			       key, NULL};
	const char *sec1[] = {"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key, NULL};
	const char *pkcs1[] = {"openssl", "genrsa", "-traditional", "-out", key, "2048", NULL};
	const char *const *gen = fmt == H_KEY_EC_PKCS8 ? pkcs8 : fmt == H_KEY_EC_SEC1 ? sec1 : pkcs1;
	const char *req[] = {"openssl", "req", "-new", "-x509", "-key", key, "-sha256", "-days", "30",
			     "-subj", "/CN=localhost", "-out", cert, NULL};
	if (h_run_quiet(gen, "openssl key generation") == -1 || h_run_quiet(req, "openssl req") == -1)
		return -1;
	char *text = h_read_file(key, NULL);
	int ok = text != NULL && strncmp(text, headers[fmt], strlen(headers[fmt])) == 0;
	free(text);
	if (!ok)
		h_fail("%s does not start with %s", key, headers[fmt]);
	return ok ? 0 : -1;
}

int h_tls_check(const char *cert, const char *key, const char *out, char *msg, size_t msglen)
{
	const char *argv[] = {H_TLS_CHECK_BIN, cert, key, out, NULL};
	return h_run(argv, msg, msglen, 30000);
}

/* ---------------------------------------------------------------- haproxy */

static int h_unix_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd != -1 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

char *h_hap_cmd(const char *sock, const char *cmd)
{
	int fd = h_unix_connect(sock);
	if (fd == -1) {
		h_fail("cannot connect to %s: %s", sock, strerror(errno));
		return NULL;
	}
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	char line[4096];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	/* Keep our side open: HAProxy closes once the whole reply is written. */
	if (buf == NULL || write(fd, line, (size_t)n) != n)
		goto fail;
	uint64_t end = h_now_ms() + 5000;
	for (;;) {
		long left = (long)(end - h_now_ms());
		struct pollfd pfd = {fd, POLLIN, 0};
		if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
			goto fail;
		if (len + 4096 > cap) {
			char *b = realloc(buf, cap *= 2);
			if (b == NULL)
				goto fail;
			buf = b;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r == 0)
			break;
		if (r < 0)
			goto fail;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	h_fail("%s on %s: no complete reply", cmd, sock);
	free(buf);
	close(fd);
	return NULL;
}

static int h_hap_ready(const char *admin_sock)
{
	char *r = h_hap_cmd(admin_sock, "show info");
	int ok = r != NULL && strstr(r, "Pid: ") != NULL;
	free(r);
	return ok;
}

/* 1 once process pid has a handler for sig (SigCgt in /proc): the master of `haproxy -W` takes
 * a moment after its worker answers before SIGTERM stops it cleanly rather than killing it. */
static int h_catches(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "SigCgt: %llx", &mask) == 1)
			break;
	fclose(f);
	return (mask >> (sig - 1)) & 1;
}

/* Writes text to path (replacing it). 0, or -1 (h_error). */
static int h_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int bad = f == NULL || fputs(text, f) == EOF;
	if ((f != NULL && fclose(f) != 0) || bad) {
		h_fail("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

const char *h_haproxy_cfg(void) { return H_HAPROXY_CFG; }

struct h_proc *h_haproxy_start(const char *name, const char *run_dir, int port)
{
	char e_run[H_PATH_MAX + 16], e_port[32], sock[H_PATH_MAX + 16], servers[H_PATH_MAX + 16];
	char e_servers[H_PATH_MAX + 40], state[H_PATH_MAX + 16], e_dir[H_PATH_MAX + 16], e_bind[H_NAME_MAX + 16];
	snprintf(e_run, sizeof(e_run), "MCS_RUN_DIR=%s", run_dir);
	/* haproxy/bwlim.lua beside haproxy.cfg, as docker/entry/haproxy.sh exports it. */
	snprintf(e_dir, sizeof(e_dir), "MCS_HAPROXY_DIR=%.*s", (int)(strrchr(H_HAPROXY_CFG, '/') - H_HAPROXY_CFG),
		 H_HAPROXY_CFG);
	snprintf(e_bind, sizeof(e_bind), "MCS_BIND_ADDR=%s", H.opts.bind_addr ? H.opts.bind_addr : "127.0.0.1");
	snprintf(e_port, sizeof(e_port), "MCS_PORT=%d", port);
	snprintf(sock, sizeof(sock), "%s/admin.sock", run_dir);
	/* As docker/entry/haproxy.sh does: the controller's servers file as a second -f. */
	snprintf(servers, sizeof(servers), "%s/servers.cfg", run_dir);
	snprintf(e_servers, sizeof(e_servers), "MCS_SERVERS_FILE=%s", servers);
	snprintf(state, sizeof(state), "%s/servers.state", run_dir);
	if ((access(servers, F_OK) == -1 && h_write_file(servers, "backend mcs\n") == -1) ||
	    h_write_file(state, "1\n") == -1) /* a cold start: no server state carried over */
		return NULL;
	const char *env[24] = {e_run, e_port, e_servers, e_dir, e_bind, "MCS_MAXCONN=8000",
			       "MCS_CHECK_TIMEOUT_MS=500", "MCS_IDLE_TIMEOUT_S=21600", NULL};
	/* The suite's own settings after the defaults (later wins), as many as fit. */
	for (size_t i = 8, j = 0; H.opts.haproxy_env != NULL && H.opts.haproxy_env[j] != NULL && i + 1 < 24; i++, j++)
		env[i] = H.opts.haproxy_env[j];
	/* The master CLI as docker/entry/haproxy.sh opens it (mcs-lb-status reads the reload count). */
	char master[H_PATH_MAX + 32];
	snprintf(master, sizeof(master), "%s/master.sock,mode,600", run_dir);
	const char *argv[] = {"haproxy", "-W", "-db", "-S", master, "-f", H_HAPROXY_CFG, "-f", servers, NULL};
	struct h_proc *p = h_spawn(name, argv, env);
	if (p == NULL)
		return NULL;
	if (!H_WAIT(H_READY_TIMEOUT_MS, (h_hap_ready(sock) && h_catches(p->pid, SIGTERM)) || !h_proc_running(p)) ||
	    !h_proc_running(p)) {
		h_fail("haproxy did not answer `show info` on %s (see %s)", sock, p->log);
		h_proc_stop(p, H_STOP_TIMEOUT_MS);
		return NULL;
	}
	return p;
}

/* Splits a line on sep in place; returns the number of fields (at most max). */
static int h_split(char *line, char sep, char **f, int max)
{
	int n = 0;
	for (char *p = line; n < max;) {
		f[n++] = p;
		p = strchr(p, sep);
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

static int h_col(char **hdr, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(hdr[i], name) == 0)
			return i;
	return -1;
}

int h_servers(const char *sock, struct h_srv *v, int max)
{
	char *reply = h_hap_cmd(sock, "show servers state mcs"), *hdr[64], *f[64];
	int nh = 0, count = 0, c[7];
	if (reply == NULL)
		return -1;
	for (char *line = reply, *next; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "# ", 2) == 0) {
			nh = h_split(line + 2, ' ', hdr, 64);
			static const char *const names[] = {"srv_name", "srv_addr", "srv_port", "srv_op_state",
							    "srv_admin_state", "srv_uweight", "srv_agent_state"};
			for (int i = 0; i < 7; i++)
				c[i] = h_col(hdr, nh, names[i]);
			continue;
		}
		int nf = h_split(line, ' ', f, 64);
		if (nh == 0 || nf < nh || count == max || c[0] < 0 || c[3] < 0 || c[4] < 0)
			continue;
		struct h_srv *s = &v[count++];
		snprintf(s->name, sizeof(s->name), "%s", f[c[0]]);
		snprintf(s->addr, sizeof(s->addr), "%s", c[1] >= 0 ? f[c[1]] : "");
		s->port = c[2] >= 0 ? atoi(f[c[2]]) : 0;
		s->op_state = atoi(f[c[3]]);
		s->admin_state = atoi(f[c[4]]);
		s->uweight = c[5] >= 0 ? atoi(f[c[5]]) : -1;
		s->agent_state = c[6] >= 0 ? atoi(f[c[6]]) : -1;
	}
	int ok = nh > 0 || strstr(reply, "Can't find") == NULL;
	if (!ok)
		h_fail("show servers state mcs: %.200s", reply);
	free(reply);
	return ok ? count : -1;
}

const struct h_srv *h_srv_find(const struct h_srv *v, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

int h_srv_ready(const char *name)
{
	struct h_srv v[H_MAX_SERVERS];
	int n = h_servers(H.stats_sock, v, H_MAX_SERVERS);
	const struct h_srv *s = n > 0 ? h_srv_find(v, n, name) : NULL;
	return s != NULL && s->op_state == 2 && s->admin_state == 0;
}

int h_stat(const char *proxy, const char *server, const char *field, char *out, size_t outlen)
{
	char *reply = h_hap_cmd(H.stats_sock, "show stat"), *hdr[256], *f[256];
	int nh = 0, col = -1, found = 0;
	if (reply == NULL)
		return -1;
	for (char *line = reply, *next; line != NULL && *line != '\0' && !found; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "# ", 2) == 0) {
			nh = h_split(line + 2, ',', hdr, 256);
			col = h_col(hdr, nh, field);
			continue;
		}
		int nf = h_split(line, ',', f, 256);
		if (col >= 0 && nf > col && nf >= 2 && strcmp(f[0], proxy) == 0 && strcmp(f[1], server) == 0) {
			snprintf(out, outlen, "%s", f[col]);
			found = 1;
		}
	}
	free(reply);
	if (!found)
		h_fail("show stat: no %s of %s/%s", field, proxy, server);
	return found ? 0 : -1;
}

long h_stat_num(const char *proxy, const char *server, const char *field)
{
	char v[64];
	if (h_stat(proxy, server, field, v, sizeof(v)) == -1 || v[0] < '0' || v[0] > '9')
		return -1;
	return strtol(v, NULL, 10);
}

/* ---------------------------------------------------------------- controller */

struct h_proc *h_controller_start(const struct h_opts *o)
{
	char url[64], run[H_PATH_MAX + 16], tls[H_PATH_MAX + 16], ttl[48], poll_ms[48], inter[48];
	snprintf(tls, sizeof(tls), "MCS_TLS_DIR=%s", H.tls_dir);
	snprintf(url, sizeof(url), "REDIS_URL=redis://127.0.0.1:%d", H.redis_port);
	snprintf(run, sizeof(run), "MCS_RUN_DIR=%s", H.run_dir);
	snprintf(ttl, sizeof(ttl), "MCS_NODE_TTL_MS=%u", o->ttl_ms ? o->ttl_ms : 5000);
	snprintf(poll_ms, sizeof(poll_ms), "MCS_POLL_MS=%u", o->poll_ms ? o->poll_ms : 1000);
	snprintf(inter, sizeof(inter), "MCS_CHECK_INTER_MS=%u", o->check_inter_ms ? o->check_inter_ms : 500);
	const char *env[32] = {url, run, "MCS_NODE_KEY=" H_NODE_KEY, ttl, poll_ms, inter, "MCS_CHECK_FALL=3",
			       "MCS_CHECK_RISE=2", "MCS_DRAIN_TIMEOUT_S=300", "MCS_LOG_LEVEL=debug", tls,
			       /* Equal weights from the start: the suites count clients per node. The
				* warm-up ramp has its own suite (live). */
			       "MCS_WARMUP_S=0"};
	size_t n_env = 12;
	/* A suite's own settings come last: the environment's later entry of a name wins. */
	for (size_t i = 0; o->controller_env != NULL && o->controller_env[i] != NULL && n_env + 1 < 32; i++)
		env[n_env++] = o->controller_env[i];
	const char *argv[] = {H_CONTROLLER_BIN, NULL};
	struct h_proc *p = h_spawn("controller", argv, env);
	/* No protocol to ask: tests wait for its effects in HAProxy. Catch an immediate exit. */
	if (p != NULL && H_WAIT(300, !h_proc_running(p))) {
		h_fail("controller exited at start-up (status %d, see %s)", p->status, p->log);
		return NULL;
	}
	return p;
}

/* ---------------------------------------------------------------- the gateway */

void h_gateway_start(const struct h_opts *opts)
{
	char cert[H_PATH_MAX + 16], key[H_PATH_MAX + 16], pem[H_PATH_MAX + 16], msg[1024];
	H.opts = *opts;
	snprintf(cert, sizeof(cert), "%s/server.cert", H.tls_dir);
	snprintf(key, sizeof(key), "%s/server.key", H.tls_dir);
	snprintf(pem, sizeof(pem), "%s/server.pem", H.run_dir);
	if (h_redis_start() == -1)
		ck_abort_msg("%s", h_error());
	if (h_make_cert(cert, key, H_KEY_EC_PKCS8) == -1)
		ck_abort_msg("%s", h_error());
	int rc = h_tls_check(cert, key, pem, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "mcs-lb-tls-check refused the dev certificate (%d): %s%s", rc, msg,
		      rc == -1 ? h_error() : "");
	H.mcs_port = h_free_port();
	/* A new gateway: no servers file or drain list left by the previous test's controller. */
	static const char *const leftovers[] = {"servers.cfg", "controller.json"};
	for (size_t i = 0; i < sizeof(leftovers) / sizeof(leftovers[0]); i++) {
		char path[H_PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/%s", H.run_dir, leftovers[i]);
		if (unlink(path) == -1 && errno != ENOENT)
			ck_abort_msg("unlink %s: %s", path, strerror(errno));
	}
	if ((H.haproxy = h_haproxy_start("haproxy", H.run_dir, H.mcs_port)) == NULL)
		ck_abort_msg("%s", h_error());
	if (!opts->without_controller && (H.controller = h_controller_start(opts)) == NULL)
		ck_abort_msg("%s", h_error());
}

void h_gateway_stop(void)
{
	h_proc_stop(H.controller, H_STOP_TIMEOUT_MS);
	h_stop_owned();
}

/* ---------------------------------------------------------------- TLS clients */

static void h_ssl_errstr(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_peek_last_error();
	char text[256] = "no OpenSSL error";
	if (e != 0)
		ERR_error_string_n(e, text, sizeof(text));
	snprintf(err, errlen, "%s: %s", what, text);
	ERR_clear_error();
}

/* Waits for what SSL asked for after a non-blocking call returned ret. 0 to retry, -1 to stop. */
static int h_ssl_wait(struct h_client *c, int ret, uint64_t end)
{
	int e = SSL_get_error(c->ssl, ret);
	struct pollfd pfd = {c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0};
	long left = (long)(end - h_now_ms());
	if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || left <= 0)
		return -1;
	return poll(&pfd, 1, (int)left) == 1 ? 0 : -1;
}

/* A non-blocking TCP connection to addr (a numeric IPv4 or IPv6 address) and port. */
static int h_tcp_connect(const char *addr, int port, uint64_t end, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t alen = sizeof(*a4);
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		alen = sizeof(*a6);
	} else {
		snprintf(err, errlen, "connect: \"%s\" is not an IP address", addr);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), soerr = 0;
	socklen_t len = sizeof(soerr);
	if (fd == -1 || (connect(fd, (struct sockaddr *)&ss, alen) == -1 && errno != EINPROGRESS)) {
		snprintf(err, errlen, "connect %s port %d: %s", addr, port, strerror(errno));
		goto fail;
	}
	long left = (long)(end - h_now_ms());
	struct pollfd pfd = {fd, POLLOUT, 0};
	if (left <= 0 || poll(&pfd, 1, (int)left) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 ||
	    soerr != 0) {
		snprintf(err, errlen, "connect %s port %d: %s", addr, port, soerr ? strerror(soerr) : "timed out");
		goto fail;
	}
	return fd;
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

static SSL_CTX *h_tls_ctx(int min_ver, int max_ver)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (min_ver != 0 && min_ver < TLS1_2_VERSION) {
		/* Let the client really offer old versions: only the server may refuse them. */
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	}
	if ((min_ver != 0 && !SSL_CTX_set_min_proto_version(ctx, min_ver)) ||
	    (max_ver != 0 && !SSL_CTX_set_max_proto_version(ctx, max_ver))) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct h_client *h_tls_open(int port, int min_ver, int max_ver, char *err, size_t errlen)
{
	return h_tls_open_addr("127.0.0.1", port, min_ver, max_ver, err, errlen);
}

struct h_client *h_tls_open_addr(const char *addr, int port, int min_ver, int max_ver, char *err, size_t errlen)
{
	uint64_t end = h_now_ms() + 5000;
	struct h_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = -1;
	c->fd = h_tcp_connect(addr, port, end, err, errlen);
	if (c->fd == -1)
		goto fail;
	if ((c->ctx = h_tls_ctx(min_ver, max_ver)) == NULL || (c->ssl = SSL_new(c->ctx)) == NULL ||
	    !SSL_set_fd(c->ssl, c->fd) || !SSL_set_tlsext_host_name(c->ssl, "localhost")) {
		h_ssl_errstr("TLS set-up", err, errlen);
		goto fail;
	}
	int ret;
	while ((ret = SSL_connect(c->ssl)) != 1) {
		if (h_ssl_wait(c, ret, end) == -1) {
			h_ssl_errstr("TLS handshake", err, errlen);
			goto fail;
		}
	}
	return c;
fail:
	h_client_close(c);
	return NULL;
}

/* Reads up to len bytes (at least one) before the deadline. Returns the count, 0 on EOF, -1. */
static int h_ssl_read(struct h_client *c, char *buf, int len, uint64_t end)
{
	for (;;) {
		int r = SSL_read(c->ssl, buf, len);
		if (r > 0)
			return r;
		int e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
			return 0;
		if (h_ssl_wait(c, r, end) == -1)
			return -1;
	}
}

int h_client_hello(struct h_client *c, unsigned timeout_ms, char *err, size_t errlen)
{
	uint64_t end = h_now_ms() + timeout_ms;
	char line[192];
	int len = 0;
	/* Byte by byte: nothing after the greeting may be swallowed. */
	while (len < (int)sizeof(line) - 1) {
		int r = h_ssl_read(c, line + len, 1, end);
		if (r <= 0) {
			line[len] = '\0';
			snprintf(err, errlen, "no greeting (%s after \"%s\")", r == 0 ? "closed" : "timeout or error", line);
			ERR_clear_error();
			return -1;
		}
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	if (strncmp(line, "HELLO ", 6) != 0 || line[len - 1] != '\n') {
		snprintf(err, errlen, "bad greeting \"%s\"", line);
		return -1;
	}
	line[len - 1] = '\0';
	/* "HELLO <node>", or "HELLO <node> for <client>" from a node reading PROXY v2 headers */
	char *seen = strstr(line + 6, " for ");
	c->seen_as[0] = '\0';
	if (seen != NULL) {
		*seen = '\0';
		snprintf(c->seen_as, sizeof(c->seen_as), "%s", seen + 5);
	}
	snprintf(c->node, sizeof(c->node), "%s", line + 6);
	return 0;
}

struct h_client *h_client_connect(int port, char *err, size_t errlen)
{
	return h_client_connect_addr("127.0.0.1", port, err, errlen);
}

struct h_client *h_client_connect_addr(const char *addr, int port, char *err, size_t errlen)
{
	struct h_client *c = h_tls_open_addr(addr, port, 0, 0, err, errlen);
	if (c != NULL && h_client_hello(c, 5000, err, errlen) == -1) {
		h_client_close(c);
		c = NULL;
	}
	return c;
}

int h_client_echo(struct h_client *c, const char *msg, unsigned timeout_ms, char *err, size_t errlen)
{
	uint64_t end = h_now_ms() + timeout_ms;
	int len = (int)strlen(msg), got = 0, r;
	char buf[4096];
	if (len == 0 || len > (int)sizeof(buf)) {
		snprintf(err, errlen, "echo: message must be 1 to %zu bytes", sizeof(buf));
		return -1;
	}
	while ((r = SSL_write(c->ssl, msg, len)) <= 0) {
		if (h_ssl_wait(c, r, end) == -1) {
			h_ssl_errstr("echo: write", err, errlen);
			return -1;
		}
	}
	while (got < len) {
		r = h_ssl_read(c, buf + got, len - got, end);
		if (r <= 0) {
			snprintf(err, errlen, "echo from %s: %s after %d of %d bytes", c->node,
				 r == 0 ? "closed" : "timeout or error", got, len);
			ERR_clear_error();
			return -1;
		}
		got += r;
	}
	if (memcmp(buf, msg, (size_t)len) != 0) {
		snprintf(err, errlen, "echo from %s: different bytes came back", c->node);
		return -1;
	}
	return 0;
}

void h_client_close(struct h_client *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl); /* non-blocking: one attempt, no waiting */
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	ERR_clear_error();
	free(c);
}

int h_client_cert_is(const struct h_client *c, const char *pem_path)
{
	X509 *peer = SSL_get1_peer_certificate(c->ssl), *want = NULL;
	FILE *f = fopen(pem_path, "r");
	unsigned char *a = NULL, *b = NULL;
	int same = 0;
	if (f != NULL) {
		want = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (peer != NULL && want != NULL) {
		int la = i2d_X509(peer, &a), lb = i2d_X509(want, &b);
		same = la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
	}
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_free(peer);
	X509_free(want);
	return same;
}

/* ---------------------------------------------------------------- suite life cycle */

static void h_dump_log(const char *path)
{
	size_t len = 0;
	char *text = h_read_file(path, &len);
	if (text == NULL)
		return;
	const char *start = text + len;
	int lines = 0;
	while (start > text && lines <= H_LOG_TAIL_LINES)
		if (*--start == '\n')
			lines++;
	if (*start == '\n')
		start++;
	fprintf(stderr, "\n===== %s (last %d lines) =====\n%s", path, H_LOG_TAIL_LINES, start);
	free(text);
}

/* On failure: the servers' logs (redis, haproxy, controller) in full-ish, other logs by name. */
static void h_dump_logs(void)
{
	DIR *d = opendir(H.dir);
	struct dirent *e;
	char path[H_PATH_MAX * 2];
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".log") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", H.dir, e->d_name);
		if (strncmp(e->d_name, "redis", 5) == 0 || strncmp(e->d_name, "haproxy", 7) == 0 ||
		    strncmp(e->d_name, "controller", 10) == 0)
			h_dump_log(path);
		else
			fprintf(stderr, "(also kept: %s)\n", path);
	}
	closedir(d);
}

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
