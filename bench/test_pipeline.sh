#!/bin/sh
# bench/test_pipeline.sh BUILD_DIR WORK_DIR - the whole of `make bench`
# on a tiny scale: bench/run.sh --quick --no-go on every bench_* program
# of BUILD_DIR, results in WORK_DIR, then checks that each program left
# JSON in the schema, rows in the CSV and a section in the report. It
# proves the pipeline runs end to end, not how fast anything is, and
# needs no Go.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$1
work=$2
rm -rf "$work"

fail() {
	echo "test_pipeline: $*" >&2
	exit 1
}

sh "$here/run.sh" "$build" --quick --no-go --out "$work" \
	>"$work.out" 2>&1 || { cat "$work.out" >&2; fail "run.sh failed"; }

n=0
for f in "$build"/bench/bench_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	p=${f##*/}
	n=$((n + 1))
	grep -q "^== bench \[[0-9]*/[0-9]*\] $p: running ==\$" "$work.out" ||
		fail "no progress line for $p"
	grep -q '"schema": "gosync-bench/1"' "$work/$p.json" ||
		fail "$p.json is not in the schema"
	grep -q "^$p," "$work/results.csv" || fail "no $p rows in the CSV"
	grep -qx "## $p" "$work/report.md" || fail "no $p section"
done
[ "$n" -gt 0 ] || fail "no bench_* program in $build/bench"
grep -qx -- "- Go: left out (--no-go)" "$work/report.md" ||
	fail "the report does not say Go was left out"
grep -q '^| cores (nproc) | [0-9]* |$' "$work/report.md" ||
	fail "the report does not give the core count"
echo "test_pipeline: $n programs passed"
