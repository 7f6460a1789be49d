/* PROXY protocol v2 header parser (see proxy_v2.h). */
#include "proxy_v2.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const unsigned char pp2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

#define PP2_TCP4 0x11 /* family byte: AF_INET, STREAM */
#define PP2_TCP6 0x21 /* family byte: AF_INET6, STREAM */

/* Refuses: the reason in err, PP2_BAD returned (a macro so the format is checked). */
#define PP2_BAD_BECAUSE(...) (snprintf(err, errlen, __VA_ARGS__), PP2_BAD)

/* TLVs (type, 16-bit length, value) must tile the bytes after the addresses exactly. */
static int pp2_tlvs_valid(const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t vlen;
		if (n < 3)
			return 0;
		vlen = (size_t)p[1] << 8 | p[2];
		if (vlen > n - 3)
			return 0;
		p += 3 + vlen;
		n -= 3 + vlen;
	}
	return 1;
}

/* Fills src and dst from a TCP4 or TCP6 address block; returns the block's length. */
static size_t pp2_addrs(unsigned fam, const unsigned char *p, struct pp2_header *hdr)
{
	memset(&hdr->src, 0, sizeof(hdr->src));
	memset(&hdr->dst, 0, sizeof(hdr->dst));
	if (fam == PP2_TCP4) {
		struct sockaddr_in *s = (struct sockaddr_in *)&hdr->src, *d = (struct sockaddr_in *)&hdr->dst;
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, p, 4);
		memcpy(&d->sin_addr, p + 4, 4);
		memcpy(&s->sin_port, p + 8, 2);
		memcpy(&d->sin_port, p + 10, 2);
		return 12;
	}
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&hdr->src, *d = (struct sockaddr_in6 *)&hdr->dst;
	s->sin6_family = d->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, p, 16);
	memcpy(&d->sin6_addr, p + 16, 16);
	memcpy(&s->sin6_port, p + 32, 2);
	memcpy(&d->sin6_port, p + 34, 2);
	return 36;
}

enum pp2_result pp2_parse(const unsigned char *buf, size_t n, struct pp2_header *hdr, char *err, size_t errlen)
{
	size_t have = n < sizeof(pp2_sig) ? n : sizeof(pp2_sig), body, used;
	hdr->len = PP2_FIXED_LEN;
	if (memcmp(buf, pp2_sig, have) != 0)
		return PP2_BAD_BECAUSE("no PROXY v2 signature");
	if (n < PP2_FIXED_LEN)
		return PP2_MORE;
	unsigned ver_cmd = buf[12], fam = buf[13];
	if (ver_cmd >> 4 != 2)
		return PP2_BAD_BECAUSE("PROXY protocol version %u, not 2", ver_cmd >> 4);
	if ((ver_cmd & 0x0f) > 1)
		return PP2_BAD_BECAUSE("unknown PROXY v2 command 0x%x", ver_cmd & 0x0f);
	body = (size_t)buf[14] << 8 | buf[15];
	if (body > PP2_MAX_LEN - PP2_FIXED_LEN)
		return PP2_BAD_BECAUSE("PROXY v2 header of %u bytes is too long", (unsigned)(body + PP2_FIXED_LEN));
	hdr->len = PP2_FIXED_LEN + body;
	hdr->local = (ver_cmd & 0x0f) == 0;
	if (hdr->local)
		return n < hdr->len ? PP2_MORE : PP2_DONE; /* the proxy itself: nothing inside is used */
	if (fam != PP2_TCP4 && fam != PP2_TCP6)
		return PP2_BAD_BECAUSE("PROXY v2 family 0x%02x is not TCP over IPv4 or IPv6", fam);
	if (body < (fam == PP2_TCP4 ? 12u : 36u))
		return PP2_BAD_BECAUSE("PROXY v2 address block of %u bytes is too short", (unsigned)body);
	if (n < hdr->len)
		return PP2_MORE;
	used = pp2_addrs(fam, buf + PP2_FIXED_LEN, hdr);
	if (!pp2_tlvs_valid(buf + PP2_FIXED_LEN + used, body - used))
		return PP2_BAD_BECAUSE("PROXY v2 TLVs do not fill the header's %u bytes", (unsigned)body);
	return PP2_DONE;
}
