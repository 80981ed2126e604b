#!/usr/bin/env bash
# check-output.sh PROGRAM [ARG...] -- PATTERN... - the smoke test of an
# example: runs PROGRAM with its arguments, shows what it printed, and
# passes only if it exited 0 and its output matched every PATTERN (an
# extended regular expression, each matched against the output's lines).
set -u

cmd=()
while [[ $# -gt 0 && $1 != -- ]]; do
	cmd+=("$1")
	shift
done
[[ $# -gt 0 && ${#cmd[@]} -gt 0 ]] || {
	echo "usage: check-output.sh PROGRAM [ARG...] -- PATTERN..." >&2
	exit 2
}
shift

out=$("${cmd[@]}" 2>&1)
status=$?
printf '%s\n' "$out"
fail=0
if [[ $status -ne 0 ]]; then
	echo "FAIL: ${cmd[0]##*/} exited with status $status" >&2
	fail=1
fi
for pattern in "$@"; do
	if ! grep -Eq -- "$pattern" <<<"$out"; then
		echo "FAIL: no line matches: $pattern" >&2
		fail=1
	fi
done
exit $fail
