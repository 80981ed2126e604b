/*
 * notify_fd.c - a descriptor that becomes readable once: an eventfd on
 * Linux (one descriptor, a counter that a write makes non-zero), and a
 * non-blocking pipe elsewhere (a byte written to it). Both are
 * close-on-exec. Nothing ever reads it here, so once signalled it stays
 * readable; a caller that reads from it would clear it, which the
 * context header forbids.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "runtime/notify_fd.h"

int gs__notify_fd_open(struct gs__notify_fd *n)
{
#ifdef __linux__
	n->rfd = n->wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return n->rfd < 0 ? errno : 0;
#else
	int fds[2];

	if (pipe(fds) != 0)
		return errno;
	for (int i = 0; i < 2; i++) {
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
	}
	n->rfd = fds[0];
	n->wfd = fds[1];
	return 0;
#endif
}

void gs__notify_fd_signal(struct gs__notify_fd *n)
{
#ifdef __linux__
	uint64_t one = 1;
	ssize_t r = write(n->wfd, &one, sizeof one);
#else
	char one = 1;
	ssize_t r = write(n->wfd, &one, 1);
#endif
	(void)r; /* full counter or pipe: readable already */
}

void gs__notify_fd_close(struct gs__notify_fd *n)
{
	if (n->rfd < 0)
		return;
	close(n->rfd);
	if (n->wfd != n->rfd)
		close(n->wfd);
	n->rfd = n->wfd = -1;
}
