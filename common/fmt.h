/* Formatting into fixed buffers where a cut-short result would be wrong, not just ugly (a
 * request, a channel name, a command): the text fits whole or there is none. */
#ifndef MCS_FMT_H
#define MCS_FMT_H

#include <stddef.h>

/* snprintf that fails instead of truncating: 0, or -1 with buf "" (when len > 0) when the
 * text does not fit or len is 0. */
int fmt_buf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4), warn_unused_result));

#endif
