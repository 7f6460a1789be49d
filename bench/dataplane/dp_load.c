/* mcs-dp-load: the lean load client of the data-plane benchmark (wrk costs more CPU per TLS
 * handshake than the proxy it measures). Non-blocking OpenSSL over epoll, N connections spread
 * over T threads, a warm-up then a bounded measuring window, loopback only. Prints key=value.
 *   hs    every connection: connect, FULL handshake (no session offered), one echo, reset-close
 *   tput  N established connections each keep WINDOW bytes of BLOCK-byte writes in flight
 *   lat   N established connections send MSG-byte messages (paced to RATE msg/s in all, or
 *         back to back with --rate 0) and time each echo
 *   probe one handshake and echo, retried until --duration: exit 0 once the target answers
 * --cpu PID,...  also reports the CPU seconds (utime+stime) of those processes and their
 * children over the measuring window, read from /proc/PID/stat. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum ld_mode { LD_HS, LD_TPUT, LD_LAT, LD_PROBE };
enum ld_state { ST_CONNECT, ST_HS, ST_RUN };

struct ld_cfg {
	enum ld_mode mode;
	int port, conns, threads, tls, resume;
	double duration, warmup, rate;
	size_t msg, block, window;
	const char *groups, *cpu;
};

struct ld_conn {
	int fd;
	SSL *ssl;
	enum ld_state state;
	size_t woff;       /* lat/hs: bytes of the current message written */
	size_t want;       /* lat/hs: echo bytes still expected */
	int sending;       /* lat/hs: a message is being written */
	size_t inflight;   /* tput: bytes written, not yet echoed */
	uint64_t t_send;   /* ns the current message started */
	uint64_t next_due; /* lat paced: ns the next message is due */
};

struct ld_thread {
	pthread_t tid;
	int id, ep, nconns;
	struct ld_conn *conns;
	SSL_SESSION *sess; /* --resume: the session offered next */
	uint64_t hs_full, hs_resumed, errors, bytes, msgs;
	uint32_t *samples; /* lat: round trips, ns */
	size_t nsamples, cap;
	uint64_t interval; /* lat paced: ns between messages of one connection */
	unsigned seed;     /* rand_r state */
};

static struct ld_cfg cfg = {.mode = LD_HS,
			    .conns = 16,
			    .threads = 1,
			    .tls = 1,
			    .duration = 2,
			    .warmup = 0.5,
			    .msg = 64,
			    .block = 16384,
			    .window = 65536};
static SSL_CTX *ld_ctx;
static atomic_int phase; /* 0 warm-up, 1 measuring, 2 stop */
static char neg_proto[32], neg_cipher[64], neg_group[32];
static pthread_mutex_t neg_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char scratch_out[1 << 16];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void ld_want(struct ld_thread *t, struct ld_conn *c, uint32_t ev)
{
	struct epoll_event e = {.events = ev, .data.ptr = c};

	epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void ld_close(struct ld_thread *t, struct ld_conn *c)
{
	if (c->fd == -1)
		return;
	epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->fd);
	c->fd = -1;
}

/* Opens connection c (non-blocking connect). A connection that cannot even start counts as an
 * error and is retried at the next loop turn. */
static void ld_open(struct ld_thread *t, struct ld_conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.port)};
	struct epoll_event e = {.events = EPOLLOUT};
	int one = 1;

	memset(c, 0, sizeof(*c));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		t->errors++;
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (cfg.mode == LD_HS || cfg.mode == LD_PROBE) {
		/* Reset on close: thousands of connections a second leave no TIME_WAIT behind. */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 && errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		t->errors++;
		return;
	}
	c->state = ST_CONNECT;
	e.data.ptr = c;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &e) == -1) {
		close(c->fd);
		c->fd = -1;
		t->errors++;
	}
}

static void ld_fail(struct ld_thread *t, struct ld_conn *c)
{
	t->errors++;
	ld_close(t, c);
	if (cfg.mode == LD_PROBE)
		usleep(20000);
	if (atomic_load(&phase) < 2)
		ld_open(t, c);
}

/* One read or write: >0 bytes, 0 would block (*ev set), -1 failed or closed. */
static int ld_io(struct ld_conn *c, int writing, void *p, size_t n, uint32_t *ev)
{
	int r;

	if (!c->ssl) {
		ssize_t k = writing ? write(c->fd, p, n) : read(c->fd, p, n);
		if (k > 0)
			return (int)k;
		if (k == -1 && (errno == EAGAIN || errno == EINTR)) {
			*ev = writing ? EPOLLOUT : EPOLLIN;
			return 0;
		}
		return -1;
	}
	r = writing ? SSL_write(c->ssl, p, (int)n) : SSL_read(c->ssl, p, (int)n);
	if (r > 0)
		return r;
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*ev = EPOLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*ev = EPOLLOUT;
		return 0;
	default:
		ERR_clear_error();
		return -1;
	}
}

static void ld_note_negotiated(SSL *ssl)
{
	pthread_mutex_lock(&neg_lock);
	if (!neg_proto[0]) {
		const char *g = SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl));
		snprintf(neg_proto, sizeof(neg_proto), "%s", SSL_get_version(ssl));
		snprintf(neg_cipher, sizeof(neg_cipher), "%s", SSL_get_cipher_name(ssl));
		snprintf(neg_group, sizeof(neg_group), "%s", g ? g : "none");
	}
	pthread_mutex_unlock(&neg_lock);
}

static void ld_sample(struct ld_thread *t, uint64_t ns)
{
	if (t->nsamples < t->cap)
		t->samples[t->nsamples++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* A message's echo is complete: hs counts the handshake and starts a new connection; lat
 * records the round trip and schedules the next message. 1: c was replaced. */
static int ld_msg_done(struct ld_thread *t, struct ld_conn *c, uint64_t now)
{
	int measuring = atomic_load(&phase) == 1;

	if (cfg.mode == LD_HS || cfg.mode == LD_PROBE) {
		if (measuring) {
			if (c->ssl && SSL_session_reused(c->ssl))
				t->hs_resumed++;
			else
				t->hs_full++;
		}
		if (cfg.resume && c->ssl) {
			SSL_SESSION *s = SSL_get1_session(c->ssl);
			if (s && SSL_SESSION_is_resumable(s)) {
				SSL_SESSION_free(t->sess);
				t->sess = s;
			} else {
				SSL_SESSION_free(s);
			}
		}
		if (cfg.resume && c->ssl) /* else SSL_free marks the session not resumable */
			SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		ld_close(t, c);
		if (cfg.mode == LD_PROBE)
			atomic_store(&phase, 2);
		else if (atomic_load(&phase) < 2)
			ld_open(t, c);
		return 1;
	}
	if (measuring) {
		ld_sample(t, now - c->t_send);
		t->msgs++;
	}
	if (cfg.rate > 0) {
		c->next_due += t->interval;
		if (c->next_due < now)
			c->next_due = now;
	} else {
		c->next_due = now;
	}
	return 0;
}

/* Drives an established connection in hs/lat/probe mode. */
static void ld_run_msg(struct ld_thread *t, struct ld_conn *c)
{
	static __thread unsigned char in[1 << 16];
	uint32_t ev = EPOLLIN;
	uint64_t now = now_ns();
	int r;

	for (;;) {
		if (!c->sending && !c->want && c->next_due <= now) {
			c->sending = 1;
			c->woff = 0;
			c->t_send = now;
		}
		while (c->sending) {
			r = ld_io(c, 1, scratch_out, cfg.msg - c->woff, &ev);
			if (r == 0)
				return ld_want(t, c, ev);
			if (r < 0)
				return ld_fail(t, c);
			c->woff += (size_t)r;
			if (c->woff == cfg.msg) {
				c->sending = 0;
				c->want = cfg.msg;
			}
		}
		if (!c->want)
			return ld_want(t, c, EPOLLIN); /* paced: idle until due */
		r = ld_io(c, 0, in, sizeof(in), &ev);
		if (r == 0)
			return ld_want(t, c, ev);
		if (r < 0 || (size_t)r > c->want)
			return ld_fail(t, c);
		c->want -= (size_t)r;
		if (c->want)
			continue;
		now = now_ns();
		if (ld_msg_done(t, c, now))
			return;
	}
}

/* Drives an established connection in tput mode: keep the window full, read every echo. */
static void ld_run_tput(struct ld_thread *t, struct ld_conn *c)
{
	static __thread unsigned char in[1 << 16];
	uint32_t ev = 0, want = 0;
	int r, progress = 1;

	while (progress) {
		progress = 0;
		want = 0;
		while (c->inflight + cfg.block <= cfg.window) {
			r = ld_io(c, 1, scratch_out, cfg.block, &ev);
			if (r < 0)
				return ld_fail(t, c);
			if (r == 0) {
				want |= ev;
				break;
			}
			c->inflight += (size_t)r;
			progress = 1;
		}
		for (int k = 0; k < 8; k++) {
			r = ld_io(c, 0, in, sizeof(in), &ev);
			if (r < 0 || (size_t)r > c->inflight)
				return ld_fail(t, c);
			if (r == 0) {
				want |= ev;
				break;
			}
			c->inflight -= (size_t)r;
			if (atomic_load(&phase) == 1)
				t->bytes += (size_t)r;
			progress = 1;
		}
	}
	ld_want(t, c, want ? want : EPOLLIN);
}

static void ld_drive(struct ld_thread *t, struct ld_conn *c)
{
	if (c->state == ST_CONNECT) {
		int err = 0;
		socklen_t sl = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err)
			return ld_fail(t, c);
		if (cfg.tls) {
			c->ssl = SSL_new(ld_ctx);
			if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
				return ld_fail(t, c);
			SSL_set_connect_state(c->ssl);
			if (cfg.resume && t->sess)
				SSL_set_session(c->ssl, t->sess);
			c->state = ST_HS;
		} else {
			c->state = ST_RUN;
		}
	}
	if (c->state == ST_HS) {
		int r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);
			ERR_clear_error();
			if (e == SSL_ERROR_WANT_READ)
				return ld_want(t, c, EPOLLIN);
			if (e == SSL_ERROR_WANT_WRITE)
				return ld_want(t, c, EPOLLOUT);
			return ld_fail(t, c);
		}
		if (!neg_proto[0])
			ld_note_negotiated(c->ssl);
		c->state = ST_RUN;
	}
	if (!c->next_due) /* established: paced connections start at a random phase */
		c->next_due = now_ns() + (cfg.mode == LD_LAT && cfg.rate > 0
						  ? (uint64_t)(rand_r(&t->seed) % (t->interval / 1000 + 1)) * 1000
						  : 0);
	if (cfg.mode == LD_TPUT)
		ld_run_tput(t, c);
	else
		ld_run_msg(t, c);
}

/* ns until the earliest paced message is due (-1: none waiting). */
static int64_t ld_next_timer(struct ld_thread *t, uint64_t now)
{
	int64_t best = -1;

	if (cfg.mode != LD_LAT)
		return -1;
	for (int i = 0; i < t->nconns; i++) {
		struct ld_conn *c = &t->conns[i];
		if (c->fd == -1 || c->state != ST_RUN || c->sending || c->want)
			continue;
		int64_t d = c->next_due > now ? (int64_t)(c->next_due - now) : 0;
		if (best == -1 || d < best)
			best = d;
	}
	return best;
}

static void *ld_loop(void *arg)
{
	struct ld_thread *t = arg;
	struct epoll_event evs[256];

	for (int i = 0; i < t->nconns; i++)
		ld_open(t, &t->conns[i]);
	while (atomic_load(&phase) < 2) {
		uint64_t now = now_ns();
		int64_t d = ld_next_timer(t, now);
		struct timespec ts;
		int n;

		if (d == -1 || d > 50000000)
			d = 50000000; /* look at the phase at least every 50 ms */
		ts.tv_sec = 0;
		ts.tv_nsec = d;
		n = epoll_pwait2(t->ep, evs, 256, &ts, NULL);
		for (int i = 0; i < n; i++) {
			struct ld_conn *c = evs[i].data.ptr;
			if (c->fd != -1)
				ld_drive(t, c);
		}
		now = now_ns();
		for (int i = 0; i < t->nconns; i++) {
			struct ld_conn *c = &t->conns[i];
			if (c->fd == -1 && atomic_load(&phase) < 2)
				ld_open(t, c); /* an earlier open failed */
			else if (cfg.mode == LD_LAT && c->fd != -1 && c->state == ST_RUN && !c->sending && !c->want &&
				 c->next_due <= now)
				ld_run_msg(t, c);
		}
	}
	for (int i = 0; i < t->nconns; i++)
		ld_close(t, &t->conns[i]);
	return NULL;
}

/* CPU ticks (utime+stime) of pid, or -1. */
static long long ld_pid_ticks(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static int ld_pid_parent(int pid)
{
	char path[64], buf[1024], *p;
	int ppid = -1;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

#define LD_MAX_PIDS 64
static int cpu_pids[LD_MAX_PIDS], ncpu_pids;

/* Fills cpu_pids with the --cpu PIDs and their children. */
static int ld_cpu_collect(void)
{
	char *list = strdup(cfg.cpu), *save = NULL;
	int roots[LD_MAX_PIDS], nroots = 0;
	DIR *d;
	struct dirent *de;

	if (!list)
		return -1;
	for (char *s = strtok_r(list, ",", &save); s && nroots < LD_MAX_PIDS; s = strtok_r(NULL, ",", &save))
		roots[nroots++] = atoi(s);
	free(list);
	for (int i = 0; i < nroots; i++)
		cpu_pids[ncpu_pids++] = roots[i];
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((de = readdir(d)) && ncpu_pids < LD_MAX_PIDS) {
		int pid = atoi(de->d_name), pp;
		if (pid <= 0)
			continue;
		pp = ld_pid_parent(pid);
		for (int i = 0; i < nroots; i++)
			if (pp == roots[i] && pid != roots[i])
				cpu_pids[ncpu_pids++] = pid;
	}
	closedir(d);
	return 0;
}

static long long ld_cpu_ticks(void)
{
	long long sum = 0;

	for (int i = 0; i < ncpu_pids; i++) {
		long long k = ld_pid_ticks(cpu_pids[i]);
		if (k < 0)
			return -1;
		sum += k;
	}
	return sum;
}

static void ld_sleep(double s)
{
	struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

static int ld_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == -1)
		return perror("mcs-dp-load: free port"), 1;
	printf("%d\n", ntohs(sa.sin_port));
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mcs-dp-load --port P [--mode hs|tput|lat|probe] [--conns N] [--threads T]\n"
			"         [--duration S] [--warmup S] [--msg BYTES] [--block BYTES] [--window BYTES]\n"
			"         [--rate MSG_PER_S] [--plain] [--resume] [--groups LIST] [--cpu PID,...]\n"
			"       mcs-dp-load --free-port\n");
}

static int ld_parse(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--plain")) {
			cfg.tls = 0;
			continue;
		}
		if (!strcmp(a, "--resume")) {
			cfg.resume = 1;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--mode")) {
			if (!strcmp(v, "hs"))
				cfg.mode = LD_HS;
			else if (!strcmp(v, "tput"))
				cfg.mode = LD_TPUT;
			else if (!strcmp(v, "lat"))
				cfg.mode = LD_LAT;
			else if (!strcmp(v, "probe"))
				cfg.mode = LD_PROBE;
			else
				return -1;
		} else if (!strcmp(a, "--port")) {
			cfg.port = atoi(v);
		} else if (!strcmp(a, "--conns")) {
			cfg.conns = atoi(v);
		} else if (!strcmp(a, "--threads")) {
			cfg.threads = atoi(v);
		} else if (!strcmp(a, "--duration")) {
			cfg.duration = atof(v);
		} else if (!strcmp(a, "--warmup")) {
			cfg.warmup = atof(v);
		} else if (!strcmp(a, "--rate")) {
			cfg.rate = atof(v);
		} else if (!strcmp(a, "--msg")) {
			cfg.msg = (size_t)atol(v);
		} else if (!strcmp(a, "--block")) {
			cfg.block = (size_t)atol(v);
		} else if (!strcmp(a, "--window")) {
			cfg.window = (size_t)atol(v);
		} else if (!strcmp(a, "--groups")) {
			cfg.groups = v;
		} else if (!strcmp(a, "--cpu")) {
			cfg.cpu = v;
		} else {
			return -1;
		}
	}
	if (cfg.port <= 0 || cfg.port > 65535 || cfg.conns < 1 || cfg.threads < 1 || cfg.threads > 64 ||
	    cfg.duration <= 0 || cfg.duration > 600 || cfg.warmup < 0 || cfg.msg < 1 || cfg.msg > sizeof(scratch_out) ||
	    cfg.block < 1 || cfg.block > sizeof(scratch_out) || cfg.window < cfg.block)
		return -1;
	if (cfg.mode == LD_PROBE)
		cfg.conns = cfg.threads = 1;
	if (cfg.threads > cfg.conns)
		cfg.threads = cfg.conns;
	return 0;
}

static SSL_CTX *ld_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (!cfg.resume)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET); /* never ask for, never offer, a session */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (cfg.groups && SSL_CTX_set1_groups_list(ctx, cfg.groups) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void ld_report(struct ld_thread *th, double window_s, double cpu_s)
{
	uint64_t full = 0, resumed = 0, errors = 0, bytes = 0, msgs = 0;
	size_t ns = 0;
	struct rusage ru;

	for (int t = 0; t < cfg.threads; t++) {
		full += th[t].hs_full;
		resumed += th[t].hs_resumed;
		errors += th[t].errors;
		bytes += th[t].bytes;
		msgs += th[t].msgs;
		ns += th[t].nsamples;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("window_s=%.3f\nconns=%d\nthreads=%d\nerrors=%llu\n", window_s, cfg.conns, cfg.threads,
	       (unsigned long long)errors);
	if (cfg.tls)
		printf("proto=%s\ncipher=%s\ngroup=%s\n", neg_proto[0] ? neg_proto : "none",
		       neg_cipher[0] ? neg_cipher : "none", neg_group[0] ? neg_group : "none");
	printf("client_cpu_s=%.3f\n", (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
					      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if (cpu_s >= 0)
		printf("cpu_s=%.3f\ncpu_pids=%d\n", cpu_s, ncpu_pids);
	if (cfg.mode == LD_HS || cfg.mode == LD_PROBE) {
		printf("hs_full=%llu\nhs_resumed=%llu\nhs_per_s=%.1f\n", (unsigned long long)full,
		       (unsigned long long)resumed, (double)(full + resumed) / window_s);
		if (cpu_s > 0)
			printf("hs_per_cpu_s=%.1f\n", (double)(full + resumed) / cpu_s);
	} else if (cfg.mode == LD_TPUT) {
		printf("bytes=%llu\nmb_per_s=%.1f\n", (unsigned long long)bytes, (double)bytes / window_s / 1e6);
		if (cpu_s > 0)
			printf("mb_per_cpu_s=%.1f\n", (double)bytes / cpu_s / 1e6);
	} else {
		uint32_t *all = malloc((ns ? ns : 1) * sizeof(*all));
		size_t k = 0;
		if (!all)
			return;
		for (int t = 0; t < cfg.threads; t++) {
			memcpy(all + k, th[t].samples, th[t].nsamples * sizeof(*all));
			k += th[t].nsamples;
		}
		qsort(all, ns, sizeof(*all), cmp_u32);
		printf("msgs=%llu\nmsg_per_s=%.1f\np50_us=%.1f\np99_us=%.1f\np999_us=%.1f\nmax_us=%.1f\n",
		       (unsigned long long)msgs, (double)msgs / window_s, pct_us(all, ns, 50), pct_us(all, ns, 99),
		       pct_us(all, ns, 99.9), ns ? all[ns - 1] / 1000.0 : 0.0);
		free(all);
	}
}

int main(int argc, char **argv)
{
	struct ld_thread *th;
	long long t0 = 0, t1 = 0;
	uint64_t w0, w1;
	double cpu_s = -1;

	if (argc == 2 && !strcmp(argv[1], "--free-port"))
		return ld_free_port();
	if (ld_parse(argc, argv) == -1) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(scratch_out, 'x', sizeof(scratch_out));
	if (cfg.tls && !(ld_ctx = ld_ctx_new()))
		return 1;
	if (cfg.cpu && ld_cpu_collect() == -1)
		return fprintf(stderr, "mcs-dp-load: cannot read /proc\n"), 1;
	th = calloc((size_t)cfg.threads, sizeof(*th));
	if (!th)
		return 1;
	for (int t = 0; t < cfg.threads; t++) {
		th[t].id = t;
		th[t].seed = (unsigned)t * 7919u + 1u;
		th[t].nconns = cfg.conns / cfg.threads + (t < cfg.conns % cfg.threads);
		th[t].conns = calloc((size_t)th[t].nconns, sizeof(struct ld_conn));
		th[t].ep = epoll_create1(EPOLL_CLOEXEC);
		if (cfg.mode == LD_LAT) {
			th[t].cap = 4u << 20;
			th[t].samples = malloc(th[t].cap * sizeof(uint32_t));
			if (cfg.rate > 0)
				th[t].interval = (uint64_t)(1e9 * cfg.conns / cfg.rate);
		}
		if (!th[t].conns || th[t].ep == -1 || (cfg.mode == LD_LAT && !th[t].samples))
			return fprintf(stderr, "mcs-dp-load: out of memory\n"), 1;
	}
	if (cfg.mode == LD_PROBE)
		atomic_store(&phase, 1);
	for (int t = 0; t < cfg.threads; t++)
		if (pthread_create(&th[t].tid, NULL, ld_loop, &th[t]) != 0)
			return fprintf(stderr, "mcs-dp-load: pthread_create failed\n"), 1;
	if (cfg.mode == LD_PROBE) {
		uint64_t end = now_ns() + (uint64_t)(cfg.duration * 1e9);
		while (atomic_load(&phase) < 2 && now_ns() < end)
			ld_sleep(0.01);
		w0 = w1 = 1;
	} else {
		ld_sleep(cfg.warmup);
		if (cfg.cpu)
			t0 = ld_cpu_ticks();
		w0 = now_ns();
		atomic_store(&phase, 1);
		ld_sleep(cfg.duration);
		atomic_store(&phase, 2);
		w1 = now_ns();
		if (cfg.cpu)
			t1 = ld_cpu_ticks();
	}
	atomic_store(&phase, 2);
	for (int t = 0; t < cfg.threads; t++)
		pthread_join(th[t].tid, NULL);
	if (cfg.cpu) {
		if (t0 < 0 || t1 < 0)
			return fprintf(stderr, "mcs-dp-load: a --cpu process went away\n"), 1;
		cpu_s = (double)(t1 - t0) / (double)sysconf(_SC_CLK_TCK);
	}
	ld_report(th, cfg.mode == LD_PROBE ? 1.0 : (double)(w1 - w0) / 1e9, cpu_s);
	if (cfg.mode == LD_PROBE)
		return th[0].hs_full + th[0].hs_resumed > 0 ? 0 : 1;
	return 0;
}
