/* Text from outside (values, file names, replies) on its way into one log line or one command:
 * what a control byte is, the check that refuses them, the copy that masks them. */
#ifndef MCS_TEXT_H
#define MCS_TEXT_H

#include <stddef.h>

/* 1 when c is a control byte: below 0x20 (NUL, tab, CR, LF, ...) or DEL (0x7f). Bytes past
 * 0x7f are not: they may be UTF-8. */
static inline int text_is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

/* 1 when one of the n bytes at s is a control byte, else 0 (n == 0: 0). */
int text_has_control(const char *s, size_t n);

/* Copies the string in into out (outlen bytes, NUL included), cut to outlen - 1 bytes, every
 * control byte written as '?', so it prints on one line. out may be in itself (masks in place).
 * Nothing is written when outlen is 0. Returns the length written. */
size_t text_printable_copy(char *out, size_t outlen, const char *in);

#endif
