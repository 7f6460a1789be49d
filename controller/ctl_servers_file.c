/* The servers file's writer: servers.cfg holds what HAProxy should serve, so a reload or a
 * restart begins with every node (docker/entry/haproxy.sh loads it). Rewritten when that
 * changes, touched after every good step. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "log.h"
#include "names.h"
#include "servers_file.h"

/* Where the servers file is: beside the sockets, where haproxy.sh looks for it. */
static void ctl_servers_path(char *out, size_t len) { snprintf(out, len, "%s/" MCS_SERVERS_FILE, conf.run_dir); }

/* What HAProxy should hold after this step: every server it has that is not on its way out
 * (deleted this step or leaving), plus those added this step. Returns the text (malloc'd), or
 * NULL when out of memory; *skipped counts the servers a configuration cannot hold. */
static char *ctl_servers_file_render(const struct ctl *ctl, const struct rec_server *servers, size_t n,
				     const struct rec_plan *plan, size_t *skipped)
{
	struct servers_file_entry *v = calloc(n + plan->n + 1, sizeof(*v));
	char *deleted = calloc(n + 1, 1);
	size_t k = 0;
	char *text = NULL;
	if (v == NULL || deleted == NULL)
		goto done;
	/* Deleted this step: already forgotten by the leaving memory. servers is sorted by name. */
	for (size_t i = 0; i < plan->n; i++) {
		struct rec_server key;
		snprintf(key.name, sizeof(key.name), "%s", plan->v[i].name);
		const struct rec_server *s = plan->v[i].kind == REC_REMOVE
						     ? bsearch(&key, servers, n, sizeof(*servers), rec_server_cmp)
						     : NULL;
		if (s != NULL)
			deleted[s - servers] = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!deleted[i] && !rec_memory_has(&ctl->leaving, servers[i].name))
			v[k++] = (struct servers_file_entry){servers[i].name, servers[i].addr, servers[i].port,
							     servers[i].id};
	for (size_t i = 0; i < plan->n; i++)
		if (plan->v[i].kind == REC_ADD)
			v[k++] = (struct servers_file_entry){plan->v[i].node->name, plan->v[i].node->addr,
							     plan->v[i].node->port, plan->v[i].id};
	text = servers_file_render(MCS_BACKEND, v, k, &ctl->opts.check, ctl->opts.agent, skipped);
done:
	free(v);
	free(deleted);
	return text;
}

/* A failed write is logged once and retried at the next change; HAProxy goes on serving
 * either way. */
void ctl_servers_file_update(struct ctl *ctl, const struct rec_server *servers, size_t n, const struct rec_plan *plan)
{
	char err[256], path[512];
	size_t skipped = 0;
	char *text = ctl_servers_file_render(ctl, servers, n, plan, &skipped);
	if (text == NULL || (ctl->servers_file.text != NULL && strcmp(text, ctl->servers_file.text) == 0)) {
		free(text);
		return;
	}
	ctl_servers_path(path, sizeof(path));
	if (servers_file_write(path, text, err, sizeof(err)) == -1) {
		ctl_track_error(ctl->servers_file.error, sizeof(ctl->servers_file.error), "servers file", err);
		free(text);
		return;
	}
	ctl_track_error(ctl->servers_file.error, sizeof(ctl->servers_file.error), "servers file", NULL);
	if (skipped > 0)
		log_warn(
			"servers file: %zu server(s) with a name or address HAProxy's configuration cannot hold left out",
			skipped);
	free(ctl->servers_file.text);
	ctl->servers_file.text = text;
}

void ctl_servers_file_touch(const struct ctl *ctl)
{
	if (ctl->servers_file.text == NULL)
		return;
	char path[512];
	ctl_servers_path(path, sizeof(path));
	if (utimensat(AT_FDCWD, path, NULL, 0) == -1)
		log_debug("servers file: touch %s: %s", path, strerror(errno));
}

void ctl_servers_file_forget(struct ctl *ctl)
{
	free(ctl->servers_file.text);
	ctl->servers_file.text = NULL;
}
