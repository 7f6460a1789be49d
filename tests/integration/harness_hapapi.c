/* Integration-test harness, HAProxy's runtime API: one command on a unix socket, and the rows
 * of `show servers state` and `show stat` read by column name. */
#include "harness_private.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
			static const char *const names[] = {"srv_name",       "srv_addr",        "srv_port",
							    "srv_op_state",   "srv_admin_state", "srv_uweight",
							    "srv_agent_state"};
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
