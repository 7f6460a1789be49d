/* Address literals to socket addresses, with inet_pton's notion of a literal. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

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

int addr_listen(struct sockaddr_storage *ss, socklen_t len, int backlog)
{
	int one = 1;
	socklen_t bound_len = sizeof(*ss);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)ss, len) == -1 || listen(fd, backlog) == -1 ||
	    getsockname(fd, (struct sockaddr *)ss, &bound_len) == -1) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

unsigned addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}
