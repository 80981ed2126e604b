#!/bin/sh
# check.sh - model-checks the state machines in models/ with spin: for
# each model, every interleaving of its three threads, for assertion
# violations (mutual exclusion, misuse checks) and invalid end states
# (deadlock, lost wakeups). Prints one line a model; exits 1 on any
# error. Usage: models/check.sh [WORKDIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/gosync-models.XXXXXX")}
mkdir -p "$work" || exit 1
status=0

check()
{
	name=$1
	shift
	dir=$work/$name
	mkdir -p "$dir" && cp "$here/${name%%-*}.pml" "$dir/" || return 1
	(
		cd "$dir" &&
		spin "$@" -a "${name%%-*}.pml" >spin.log 2>&1 &&
		gcc -O2 -DSAFETY -DCOLLAPSE -o pan pan.c >cc.log 2>&1 &&
		./pan -m1000000 >pan.log 2>&1
	)
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.log" 2>/dev/null)
	states=$(sed -n 's/^ *\([0-9e+.]*\) states, stored.*/\1/p' \
		"$dir/pan.log" 2>/dev/null)
	if [ "${errors:-x}" = 0 ]; then
		echo "model $name: 0 errors, $states states"
	else
		echo "model $name: FAILED (see $dir/pan.log)"
		sed -n '1,20p' "$dir/pan.log" "$dir/spin.log" "$dir/cc.log" \
			2>/dev/null
		status=1
	fi
}

check mutex
check rwmutex-1writer -DWRITERS=1
check rwmutex-2writers -DWRITERS=2
check waitgroup
check pool
exit $status
