/*
 * misuse.c - the one way gosync reports misuse: a line on stderr, then
 * abort(). The line is formatted into a buffer first and written with
 * one write(2), so it stays whole when threads die together, and no
 * stdio lock is taken by a process that may be in a bad state.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/platform.h"

_Noreturn void gs__misuse(const char *module, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	n = snprintf(line, sizeof line, "gs: %s: ", module);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	if ((size_t)n < sizeof line - 1)
		line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		abort();
	abort();
}
