/* Address literals to socket addresses, with inet_pton's notion of a literal. */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

int addr_is_literal(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	return addr_parse(text, 0, &ss, &len) == 0;
}

int addr_parse(const char *literal, unsigned port, struct sockaddr_storage *out, socklen_t *len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	memset(&ss, 0, sizeof(ss));
	if (port > 65535)
		return -1;
	if (inet_pton(AF_INET, literal, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, literal, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
	} else {
		return -1;
	}
	*out = ss;
	return 0;
}

unsigned addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}
