/* Member parsing: only a strict, canonical IPv4:port or [IPv6]:port becomes a node. */
#include "member.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static int member_parse_port(const char *p, size_t len, unsigned *port, char *err, size_t errlen)
{
	if (len == 0) {
		snprintf(err, errlen, "no port after ':'");
		return -1;
	}
	if (len > 5 || (len > 1 && p[0] == '0')) {
		snprintf(err, errlen, "port \"%.*s\" is not a number from 1 to 65535", (int)(len > 8 ? 8 : len), p);
		return -1;
	}
	unsigned value = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			snprintf(err, errlen, "port is not a decimal number");
			return -1;
		}
		value = value * 10 + (unsigned)(p[i] - '0');
	}
	if (value == 0 || value > 65535) {
		snprintf(err, errlen, "port %u is out of range (1 to 65535)", value);
		return -1;
	}
	*port = value;
	return 0;
}

/* A chat node must be a unicast host: these addresses would send clients nowhere useful. */
static int member_addr_is_usable(int family, const void *bin)
{
	if (family == AF_INET) {
		const unsigned char *b = bin;
		return !(b[0] == 0 || b[0] >= 224); /* 0/8, multicast, reserved, broadcast */
	}
	const struct in6_addr *a = bin;
	return !(IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_MULTICAST(a) || IN6_IS_ADDR_V4MAPPED(a));
}

static int member_parse_host(const char *host, size_t len, int family, struct node_addr *out, char *err, size_t errlen)
{
	char text[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	if (len == 0 || len >= sizeof(text)) {
		snprintf(err, errlen, "address has a bad length");
		return -1;
	}
	memcpy(text, host, len);
	text[len] = '\0';
	if (inet_pton(family, text, bin) != 1) {
		snprintf(err, errlen, "\"%s\" is not an %s address", text, family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)bin)) {
		/* One node, one name: the IPv4 spelling is the only one. */
		snprintf(err, errlen, "%s is IPv4-mapped: register it as a.b.c.d:port", text);
		return -1;
	}
	if (!member_addr_is_usable(family, bin)) {
		snprintf(err, errlen, "%s is not a unicast host address", text);
		return -1;
	}
	if (inet_ntop(family, bin, out->addr, sizeof(out->addr)) == NULL) {
		snprintf(err, errlen, "address cannot be formatted");
		return -1;
	}
	out->family = family;
	return 0;
}

int member_parse(const char *text, size_t len, struct node_addr *out, char *err, size_t errlen)
{
	if (len == 0 || len > MEMBER_MAX_LEN) {
		snprintf(err, errlen, "length %zu is not 1 to %d bytes", len, MEMBER_MAX_LEN);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
		      c == ':' || c == '[' || c == ']')) {
			snprintf(err, errlen, "byte %zu is not allowed in ip:port", i);
			return -1;
		}
	}
	const char *colon = memrchr(text, ':', len);
	if (colon == NULL) {
		snprintf(err, errlen, "no ':port'");
		return -1;
	}
	size_t host_len = (size_t)(colon - text);
	if (member_parse_port(colon + 1, len - host_len - 1, &out->port, err, errlen) == -1)
		return -1;
	if (text[0] == '[') {
		if (host_len < 2 || text[host_len - 1] != ']') {
			snprintf(err, errlen, "IPv6 address must be written [addr]:port");
			return -1;
		}
		if (member_parse_host(text + 1, host_len - 2, AF_INET6, out, err, errlen) == -1)
			return -1;
	} else if (member_parse_host(text, host_len, AF_INET, out, err, errlen) == -1) {
		return -1;
	}
	/* IPv4 must already be canonical (no other spelling of the same node may exist). */
	if (out->family == AF_INET && (strlen(out->addr) != host_len || memcmp(out->addr, text, host_len) != 0)) {
		snprintf(err, errlen, "IPv4 address is not in canonical dotted-decimal form");
		return -1;
	}
	snprintf(out->name, sizeof(out->name), "%s:%u", out->addr, out->port);
	return 0;
}

void member_quote(const char *text, size_t len, char *out, size_t outlen)
{
	if (outlen < 8) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	size_t o = 0, i = 0;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		int plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
		/* Keep room for "..." and the NUL. */
		if (o + (plain ? 1 : 4) > outlen - 4)
			break;
		if (plain)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
