#!/bin/sh
# check-snippets.sh OUT_DIR FILE.md... - compiles the C code of the
# guides: every fenced block opened with ```c in each FILE becomes a
# file of its own in OUT_DIR, compiled (not linked) as C11 with
# -Wall -Wextra -Werror against include/, after the prelude the guide
# promises: <gosync.h>, <gosync/map.h>, <gosync/pool.h>, <errno.h>,
# <poll.h>, <stdbool.h>, <stdio.h>, <stdlib.h> and <string.h>, with
# POSIX 2008 visible. Prints each failure with its file and block, and
# exits 1 if any block fails. Run from the repository root.
set -u

out=${1:?usage: check-snippets.sh OUT_DIR FILE.md...}
shift
cc=${CC:-cc}
mkdir -p "$out" || exit 1
cat >"$out/prelude.h" <<'PRELUDE'
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gosync.h>
#include <gosync/map.h>
#include <gosync/pool.h>
PRELUDE

total=0
failed=0
for md in "$@"; do
	base=$(basename "$md" .md)
	rm -f "$out/$base"-*.c
	awk -v dir="$out" -v base="$base" '
		/^```c[[:space:]]*$/ { n++; f = sprintf("%s/%s-%02d.c", dir,
			base, n); printf "#line %d \"%s\"\n", NR + 1,
			FILENAME > f; on = 1; next }
		/^```/ && on { on = 0; close(f); next }
		on { print > f }' "$md"
	for c in "$out/$base"-*.c; do
		[ -f "$c" ] || continue
		total=$((total + 1))
		if ! "$cc" -std=c11 -Wall -Wextra -Werror -Iinclude \
			-include "$out/prelude.h" -c -o "${c%.c}.o" "$c"; then
			echo "docs: $md: block $(basename "$c") fails" >&2
			failed=$((failed + 1))
		fi
	done
done
if [ "$failed" -ne 0 ]; then
	echo "docs: $failed of $total C blocks fail to compile" >&2
	exit 1
fi
echo "docs: all $total C blocks of $* compile"
