/* Atomic file replacement (see afile.h): a temporary file beside the target, then rename. */
#include "afile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* Opens tmp for writing, as flags says (see AFILE_PRIVATE). Returns the descriptor, or -1. */
static int afile_open(const char *tmp, unsigned mode, unsigned flags)
{
	if (!(flags & AFILE_PRIVATE))
		return open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int oflags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
	int fd = open(tmp, oflags, mode);
	if (fd == -1 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, oflags, mode);
	/* The umask may only remove bits; a secret's mode is said, not left to it. */
	if (fd != -1 && fchmod(fd, mode) == -1) {
		int saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return fd;
}

int afile_write(const char *path, const void *data, size_t len, unsigned mode, unsigned flags, char *err, size_t errlen)
{
	char tmp[4096];
	int n = flags & AFILE_PRIVATE ? snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid())
				      : snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || n >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = afile_open(tmp, mode, flags);
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
