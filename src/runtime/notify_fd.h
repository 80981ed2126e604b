/*
 * notify_fd.h - layer 1: a file descriptor that turns readable once and
 * stays so, for gs_ctx_fd. An eventfd on Linux, a pipe elsewhere.
 */
#ifndef GS_RUNTIME_NOTIFY_FD_H
#define GS_RUNTIME_NOTIFY_FD_H

struct gs__notify_fd {
	int rfd; /* what poll watches; -1 while not open */
	int wfd; /* what signal writes; rfd itself for an eventfd */
};

/* Opens n, not readable yet: 0 or an errno (EMFILE, ENFILE, ENOMEM). */
int gs__notify_fd_open(struct gs__notify_fd *n);

/* Makes n readable; never blocks. Signalling twice is harmless. */
void gs__notify_fd_signal(struct gs__notify_fd *n);

/* Closes n if open. */
void gs__notify_fd_close(struct gs__notify_fd *n);

#endif
