/* Integration-test harness, logs: reading a file or a process's log, and on a failed suite the
 * tail of each server's log. */
#include "harness_private.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H_LOG_TAIL_LINES 150

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
		found = (a == NULL || strstr(line, a)) && (b == NULL || strstr(line, b)) &&
			(c == NULL || strstr(line, c));
	}
	free(text);
	return found;
}

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
void h_dump_logs(void)
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
