/* Rendering and writing the servers file (see servers_file.h). */
#include "servers_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "agent.h"

#define SF_LINE_MAX 1024

char *servers_file_render(const char *backend, const struct servers_file_entry *v, size_t n,
			  const struct hap_check_opts *o, const struct hap_agent_opts *agent, size_t *skipped)
{
	char *text = NULL, line[SF_LINE_MAX], send[HAP_AGENT_SEND_MAX + 1];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	*skipped = 0;
	if (f == NULL)
		return NULL;
	fprintf(f,
		"# Written by mcs-lb-controller after every change: the chat nodes HAProxy serves,\n"
		"# loaded at start so a reload or restart keeps them. Do not edit: it is rewritten.\n"
		"backend %s\n",
		backend);
	for (size_t i = 0; i < n; i++) {
		struct hap_agent_opts a = agent != NULL ? *agent : (struct hap_agent_opts){0};
		a.send = send;
		if ((agent != NULL && agent_request_format(send, sizeof(send), v[i].name) == -1) ||
		    hap_cmd_cfg_server(line, sizeof(line), v[i].name, v[i].addr, v[i].port, v[i].id, o,
				       agent != NULL ? &a : NULL) == -1) {
			(*skipped)++;
			continue;
		}
		fprintf(f, "    %s\n", line);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int servers_file_write(const char *path, const char *text, char *err, size_t errlen)
{
	/* Synced: HAProxy trusts the file at a restart, which may follow a crash of the machine. */
	return afile_write(path, text, strlen(text), 0644, AFILE_SYNC, err, errlen);
}
