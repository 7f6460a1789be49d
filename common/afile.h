/* Atomic file replacement: readers of the file (HAProxy, haproxy.sh, the metrics bridge, an
 * operator) see the old content or the whole new one, never a half-written file. */
#ifndef MCS_AFILE_H
#define MCS_AFILE_H

#include <stddef.h>

#define AFILE_SYNC 0x1u /* fsync before the rename: the new content survives a crash of the machine */
#define AFILE_PRIVATE                                                                                                  \
	0x2u /* a secret another process may write too: the temporary file is this                                     \
	      * process's own ("<path>.tmp.<pid>", created exclusively, never through a                                \
	      * link; a leftover of a crashed run with the same pid is removed once) and                               \
	      * gets exactly mode, whatever the umask */

/* Writes len bytes of data to "<path>.tmp" (created with mode, less the umask; see
 * AFILE_PRIVATE), optionally fsyncs it (flags AFILE_SYNC), and renames it over path. On failure the temporary file is
 * removed, no descriptor is left open, path is untouched, and err holds one line naming the
 * file and the reason. Returns 0 or -1. */
int afile_write(const char *path, const void *data, size_t len, unsigned mode, unsigned flags, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
