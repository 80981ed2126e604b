#!/bin/sh
# check-reference.sh DOCS_DIR - checks the reference `make docs` wrote
# into DOCS_DIR: every public gs_ function and gs_..._t type declared in
# include/ must have an entry of its own in Doxygen's index (xml/) and a
# page (index.html). Prints what is missing and exits 1, or prints how
# many names it found and exits 0. Run from the repository root.
set -u

docs=${1:?usage: check-reference.sh DOCS_DIR}
index=$docs/xml/index.xml
[ -f "$index" ] && [ -f "$docs/index.html" ] || {
	echo "docs: no reference in $docs (run make docs)" >&2
	exit 1
}

# Declarations only: comment lines (those opening with / or *) are
# skipped; a public name starts gs_ and a letter, gs__ being internal.
names=$(grep -hv '^[[:space:]]*[/*]' include/gosync.h include/gosync/*.h |
	grep -oE '\bgs_[a-z][a-z0-9_]*[[:space:]]*\(|\bgs_[a-z][a-z0-9_]*_t\b' |
	sed 's/[[:space:]]*($//' | sort -u)
listed=$(sed -nE \
	's#.*kind="(function|typedef|struct)"><name>([^<]*)</name>.*#\2#p' \
	"$index" | sort -u)

missing=0
count=0
for name in $names; do
	count=$((count + 1))
	if ! printf '%s\n' "$listed" | grep -qx "$name"; then
		echo "docs: no reference entry for $name" >&2
		missing=$((missing + 1))
	fi
done
if [ "$missing" -ne 0 ]; then
	echo "docs: $missing of $count public names missing" >&2
	exit 1
fi
echo "docs: reference lists all $count public gs_ functions and types"
