/* controller.json: the controller's view for operators and the metrics bridge (which reads
 * it every scrape), and the drains a restarted controller takes back from it. Written after
 * every step, atomically. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "ctl.h"
#include "ctl_file.h"
#include "hap_cmd.h"
#include "log.h"
#include "mono.h"
#include "names.h"

/* The values of controller.json: the totals the jobs count (ctl->file), and the rest from the
 * controller's state. */
static void ctl_status_values(const struct ctl *ctl, struct ctl_file *f)
{
	*f = ctl->file;
	f->pid = (long long)getpid();
	f->time = (long long)time(NULL);
	f->last_sync = (long long)ctl->last_sync;
	f->redis_ok = ctl->redis_error[0] == '\0';
	snprintf(f->redis_error, sizeof(f->redis_error), "%s", ctl->redis_error);
	f->haproxy_ok = ctl->hap_error[0] == '\0';
	snprintf(f->haproxy_error, sizeof(f->haproxy_error), "%s", ctl->hap_error);
	f->live_nodes = ctl->live.n_nodes;
	f->servers = ctl->seen.servers;
	f->leaving = ctl->seen.leaving;
	f->kept_on_empty = ctl->seen.kept_on_empty;
	f->held_by_operator = ctl->seen.held;
	f->removal_held = ctl->seen.removal_held;
	f->agent = ctl->opts.agent != NULL;
	f->notifications = ctl->notifications;
}

void ctl_status_write(const struct ctl *ctl)
{
	char path[512];
	struct ctl_file f;
	snprintf(path, sizeof(path), "%s/" MCS_STATUS_FILE, conf.run_dir);
	ctl_status_values(ctl, &f);
	json_t *root = ctl_file_to_json(&f);
	if (root == NULL)
		return;
	/* The drains this controller started, so a restarted one takes them back (ctl_status_restore_drains). */
	json_t *draining = json_array();
	uint64_t now = mono_now_ms();
	for (size_t i = 0; draining != NULL && i < ctl->leaving.n; i++) {
		const struct rec_leaving *l = &ctl->leaving.v[i];
		if (l->ours)
			json_array_append_new(draining, json_pack("{s:s, s:I}", "server", l->name, "for_ms",
								  (json_int_t)(now - l->since_ms)));
	}
	if (draining != NULL)
		json_object_set_new(root, "draining", draining);
	/* Not synced: rewritten every step, and a reader treats a missing or stale file as "unknown". */
	char *text = json_dumps(root, JSON_COMPACT), err[256];
	if (text != NULL && afile_write(path, text, strlen(text), 0666, 0, err, sizeof(err)) == -1)
		log_debug("status: %s", err);
	free(text);
	json_decref(root);
}

/* Reads one "draining" entry: 0 with name and for_ms, or -1 when it is not
 * {"server": <valid server name>, "for_ms": <ms >= 0>}. */
static int ctl_drain_entry(json_t *item, const char **name, uint64_t *for_ms)
{
	json_t *ms = json_object_get(item, "for_ms");
	*name = json_string_value(json_object_get(item, "server"));
	if (*name == NULL || !hap_name_valid(*name) || !json_is_integer(ms) || json_integer_value(ms) < 0)
		return -1;
	*for_ms = (uint64_t)json_integer_value(ms);
	return 0;
}

void ctl_status_restore_drains(struct ctl *ctl)
{
	char path[512];
	struct stat st;
	json_error_t jerr;
	snprintf(path, sizeof(path), "%s/" MCS_STATUS_FILE, conf.run_dir);
	if (stat(path, &st) == -1)
		return;
	/* Drains older than the drain timeout are over anyway; an old file may be another deployment's. */
	if (time(NULL) - st.st_mtime > (time_t)conf.drain_timeout_s) {
		log_info("%s is older than MCS_DRAIN_TIMEOUT_S: no drain of a previous controller taken back", path);
		return;
	}
	json_t *root = json_load_file(path, 0, &jerr), *list = json_object_get(root, "draining"), *item;
	if (root == NULL || (list != NULL && !json_is_array(list))) {
		log_warn("%s: %s: no drain of a previous controller taken back", path,
			 root == NULL ? jerr.text : "\"draining\" is not an array");
		json_decref(root);
		return;
	}
	size_t i, restored = 0;
	uint64_t now = mono_now_ms();
	json_array_foreach(list, i, item) {
		const char *name;
		uint64_t for_ms;
		if (ctl_drain_entry(item, &name, &for_ms) == -1) {
			log_warn("%s: draining entry %zu is not {\"server\": <server name>, \"for_ms\": <ms>}: skipped",
				 path, i);
			continue;
		}
		if (rec_memory_restore(&ctl->leaving, name, for_ms < now ? now - for_ms : 0) == -1)
			break;
		restored++;
	}
	if (restored > 0)
		log_info("took back %zu drain(s) of the previous controller (%s)", restored, path);
	json_decref(root);
}
