/* REDIS_URL parsing: curl_url() does the RFC 3986 work, we check what Redis can use. */
#include "redis_url.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_conn.h"

/* Reads one URL part; returns 0 and *out (curl-allocated, NULL when absent), or -1. */
static int redis_url_part(CURLU *u, CURLUPart part, unsigned flags, char **out)
{
	*out = NULL;
	CURLUcode rc = curl_url_get(u, part, out, flags);
	if (rc == CURLUE_OK)
		return 0;
	if (rc == CURLUE_NO_USER || rc == CURLUE_NO_PASSWORD || rc == CURLUE_NO_PORT || rc == CURLUE_NO_QUERY ||
	    rc == CURLUE_NO_FRAGMENT || rc == CURLUE_NO_OPTIONS)
		return 0;
	return -1;
}

static int redis_url_set_db(const char *path, struct redis_url *out, char *err, size_t errlen)
{
	if (path == NULL || strcmp(path, "") == 0 || strcmp(path, "/") == 0)
		return 0;
	const char *p = path[0] == '/' ? path + 1 : path;
	if (strlen(p) > 5 || strspn(p, "0123456789") != strlen(p)) {
		snprintf(err, errlen, "database \"%.32s\" is not a number from 0 to 99999", p);
		return -1;
	}
	out->db = (unsigned)atoi(p);
	return 0;
}

static int redis_url_set_host(const char *host, struct redis_url *out, char *err, size_t errlen)
{
	size_t len = host ? strlen(host) : 0;
	if (len == 0) {
		snprintf(err, errlen, "no host");
		return -1;
	}
	if (host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len >= sizeof(out->host)) {
		snprintf(err, errlen, "host is longer than %zu bytes", sizeof(out->host) - 1);
		return -1;
	}
	memcpy(out->host, host, len);
	out->host[len] = '\0';
	return 0;
}

static int redis_url_fill(CURLU *u, struct redis_url *out, char *err, size_t errlen)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *fragment = NULL;
	int rc = -1;
	if (redis_url_part(u, CURLUPART_SCHEME, 0, &scheme) == -1 ||
	    redis_url_part(u, CURLUPART_HOST, 0, &host) == -1 || redis_url_part(u, CURLUPART_PORT, 0, &port) == -1 ||
	    redis_url_part(u, CURLUPART_PATH, 0, &path) == -1 || redis_url_part(u, CURLUPART_QUERY, 0, &query) == -1 ||
	    redis_url_part(u, CURLUPART_FRAGMENT, 0, &fragment) == -1 ||
	    redis_url_part(u, CURLUPART_USER, CURLU_URLDECODE, &out->user) == -1 ||
	    redis_url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE, &out->password) == -1) {
		snprintf(err, errlen, "cannot be split into its parts");
		goto done;
	}
	if (scheme == NULL || (strcmp(scheme, "redis") != 0 && strcmp(scheme, "rediss") != 0)) {
		snprintf(err, errlen, "scheme \"%.16s\" is not redis:// or rediss:// (TLS)", scheme ? scheme : "");
		goto done;
	}
	out->tls = strcmp(scheme, "rediss") == 0;
	if (query != NULL || fragment != NULL) {
		snprintf(err, errlen, "has a ?query or #fragment, which Redis URLs do not use");
		goto done;
	}
	if (redis_url_set_host(host, out, err, errlen) == -1 || redis_url_set_db(path, out, err, errlen) == -1)
		goto done;
	out->port = port ? (unsigned)atoi(port) : 6379;
	if (out->port == 0 || out->port > 65535) {
		snprintf(err, errlen, "port %.16s is out of range", port);
		goto done;
	}
	rc = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(fragment);
	return rc;
}

/* curl allocates user and password; keep our own malloc'd copies so callers use free().
 * "redis://:secret@h" gives an empty user: that means no user (AUTH with the password alone). */
static int redis_url_own_strings(struct redis_url *out)
{
	char *user = out->user, *password = out->password;
	out->user = user && user[0] ? strdup(user) : NULL;
	out->password = password ? strdup(password) : NULL;
	int failed = (user && user[0] && out->user == NULL) || (password && out->password == NULL);
	curl_free(user);
	curl_free(password);
	return failed ? -1 : 0;
}

int redis_url_parse(const char *url, struct redis_url *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	CURLU *u = curl_url();
	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	int result = -1;
	if (rc != CURLUE_OK) {
		snprintf(err, errlen, "not a URL (%s)", curl_url_strerror(rc));
	} else if (redis_url_fill(u, out, err, errlen) == 0) {
		result = 0;
	}
	if (redis_url_own_strings(out) == -1 && result == 0) {
		snprintf(err, errlen, "out of memory");
		result = -1;
	}
	curl_url_cleanup(u);
	if (result == -1)
		redis_url_clear(out);
	return result;
}

void redis_url_to_opts(const struct redis_url *u, struct redis_conn_opts *o)
{
	o->host = u->host;
	o->port = u->port;
	o->user = u->user;
	o->password = u->password;
	o->db = u->db;
	o->tls = u->tls;
}

void redis_url_clear(struct redis_url *u)
{
	if (u == NULL)
		return;
	free(u->user);
	free(u->password);
	memset(u, 0, sizeof(*u));
}

int redis_url_check(const char *url, char *err, size_t errlen)
{
	struct redis_url parsed;
	char why[160], shown[96];
	if (redis_url_parse(url, &parsed, why, sizeof(why)) == -1) {
		/* The message goes to logs: never with the password in it. */
		redis_url_redact(url, shown, sizeof(shown));
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		snprintf(err, errlen, "\"%s\" is not a usable redis:// or rediss:// URL: %s", shown, why);
		return -1;
	}
	redis_url_clear(&parsed);
	return 0;
}

void redis_url_redact(const char *url, char *out, size_t outlen)
{
	/* The password sits between the scheme's "//", a ':' and the last '@' before the host. */
	const char *start = strstr(url, "//");
	const char *at = start ? strrchr(start, '@') : NULL;
	const char *colon = at ? memchr(start + 2, ':', (size_t)(at - start - 2)) : NULL;
	if (colon == NULL) {
		snprintf(out, outlen, "%s", url);
		return;
	}
	snprintf(out, outlen, "%.*s***%s", (int)(colon + 1 - url), url, at);
}
