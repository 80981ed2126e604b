#!/bin/sh
# bench/run.sh BUILD_DIR [bench_core options]
#
# Prints the machine, then runs bench_core from BUILD_DIR, so that every
# table comes with the machine it was measured on: figures from another
# machine are only comparable through their ratios.
set -eu

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [--quick] [--json FILE]" >&2
	exit 2
fi
build=$1
shift
bin=$build/bench/bench_core
if [ ! -x "$bin" ]; then
	echo "run.sh: $bin not found; build $build first" >&2
	exit 1
fi

# The compiler that built the tree, as CMake recorded it.
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" \
	2>/dev/null | head -n 1)
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo \
	| head -n 1)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)

echo "machine"
echo "  nproc     $(nproc)"
echo "  cpu       ${cpu:-unknown}"
echo "  memory    $mem"
echo "  kernel    $(uname -srm)"
echo "  compiler  $("${cc:-cc}" --version | head -n 1)"
echo "  date      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
exec "$bin" "$@"
