/* Atomic file replacement (see afile.h): a temporary file beside the target, then rename. */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int afile_write_all(int fd, const char *data, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

int afile_write(const char *path, const void *data, size_t len, unsigned mode, unsigned flags, char *err,
		size_t errlen)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	/* Written whole (and on disk with AFILE_SYNC) before it replaces the old one: the reader
	 * may open the path at any moment. The descriptor is closed on every path. */
	int failed = afile_write_all(fd, data, len) == -1 || ((flags & AFILE_SYNC) && fsync(fd) == -1);
	int saved = errno;
	if (close(fd) == -1 && !failed) {
		failed = 1;
		saved = errno;
	}
	if (failed) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(saved));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
