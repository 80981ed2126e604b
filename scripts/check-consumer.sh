#!/usr/bin/env bash
# check-consumer.sh BUILD_DIR - checks that an installed gosync serves an
# outside project. Installs the build in BUILD_DIR into a temporary
# prefix with cmake --install --prefix, then builds tests/consumer
# against that prefix three ways: CMake with find_package(gosync)
# through CMAKE_PREFIX_PATH, shared and static; and the C compiler run
# directly with pkg-config --cflags --libs gosync through
# PKG_CONFIG_PATH. Runs each binary (the shared ones find the library
# through the prefix alone: CMake's build rpath, and -Wl,-rpath from
# pkg-config's libdir), checks its line, and removes the prefix.
set -u

[[ $# -eq 1 && -f $1/CMakeCache.txt ]] || {
	echo "usage: check-consumer.sh BUILD_DIR (a configured build)" >&2
	exit 2
}
build=$1
here=$(cd "$(dirname "$0")/.." && pwd)
want="consumer: 8 tasks, sum 36, once ran 1 time, deadline ETIMEDOUT"
cc=${CC:-cc}

work=$(mktemp -d "${TMPDIR:-/tmp}/gosync-consumer.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

fail()
{
	echo "FAIL: consumer: $*" >&2
	[[ -f $work/log ]] && tail -n 20 "$work/log" >&2
	exit 1
}

# check WAY BINARY: the binary prints the one expected line.
check()
{
	local got

	got=$("$2" 2>&1) || fail "$1: exit status $?: $got"
	[[ $got == "$want" ]] || fail "$1: expected \"$want\", got \"$got\""
	echo "consumer: $1: $got"
}

cmake --install "$build" --prefix "$prefix" >"$work/log" 2>&1 ||
	fail "cmake --install --prefix $prefix"
echo "consumer: installed $build into a temporary prefix"

for way in shared static; do
	flag=OFF
	[[ $way == static ]] && flag=ON
	dir=$work/cmake-$way
	{ cmake -S "$here/tests/consumer" -B "$dir" \
		-DCMAKE_PREFIX_PATH="$prefix" -DCONSUMER_STATIC=$flag &&
		cmake --build "$dir"; } >"$work/log" 2>&1 ||
		fail "find_package build ($way)"
	check "find_package(gosync), $way" "$dir/consumer"
done

pc=$(find "$prefix" -name gosync.pc -print -quit)
[[ -n $pc ]] || fail "no gosync.pc under the prefix"
export PKG_CONFIG_PATH=${pc%/gosync.pc}
flags=$(pkg-config --cflags --libs gosync) || fail "pkg-config gosync"
libdir=$(pkg-config --variable=libdir gosync)
# shellcheck disable=SC2086 # the flags are words by design
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/consumer-pc" \
	"$here/tests/consumer/consumer.c" $flags -Wl,-rpath,"$libdir" \
	>"$work/log" 2>&1 || fail "$cc \$(pkg-config --cflags --libs gosync)"
check "pkg-config --cflags --libs gosync" "$work/consumer-pc"
