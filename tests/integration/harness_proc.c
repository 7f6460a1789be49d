/* Integration-test harness, processes: spawning with a log file and extra environment, stopping
 * by PID (the owner reaps), running a command to completion with its output, free ports. */
#include "harness_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static struct h_proc h_procs[H_MAX_PROCS];

/* Finds an executable in PATH or the sbin directories (haproxy lives in /usr/sbin). */
int h_which(const char *prog, char *out, size_t outlen)
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
	h_child_cleanup_arm();
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

void h_stop_owned(void)
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
