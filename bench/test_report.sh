#!/bin/sh
# bench/test_report.sh WORK_DIR - the report from canned JSON: copies
# bench/testdata into WORK_DIR, runs bench/report.sh on it, and checks
# the CSV and the report against figures worked out by hand, so that
# the report cannot rot unseen. It needs no benchmark and no Go; the
# charts are checked only where gnuplot is installed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=$1
rm -rf "$work"
mkdir -p "$work"
cp "$here"/testdata/* "$work"/

fail() {
	echo "test_report: $*" >&2
	exit 1
}

# has FILE TEXT: FILE holds the line TEXT, exactly.
has() {
	grep -qxF -- "$2" "$1" || fail "$1 lacks the line: $2"
}

sh "$here/report.sh" "$work" >"$work/out.txt" 2>&1 ||
	{ cat "$work/out.txt" >&2; fail "report.sh failed"; }
rep=$work/report.md
csv=$work/results.csv

# The CSV: a header, then every result of the files in the schema.
has "$csv" "program,group,workload,threads,implementation,side,$(
	)median_ns,min_ns,ops,unit"
has "$csv" "bench_demo,mutex,Mutex,2,gs_mutex,gosync,10,9,1000,ns/op"
has "$csv" 'bench_demo,mutex,"lock, ""quoted""",1,pthread_mutex,'$(
	)'pthreads,1000,900,10,ns/op'
has "$csv" "go,go,OnlyInGo,2,Go 0.0,Go,77,70,0,ns/op"
[ "$(wc -l <"$csv")" -eq 11 ] || fail "results.csv: not 1 + 10 lines"
grep -q legacy "$csv" && fail "results.csv holds the legacy file"

# The machine, with the load and the core count.
has "$rep" '| cores (nproc) | 2 |'
has "$rep" '| CPU | Canned CPU "test" |'
has "$rep" '| load average at start | 0.50 0.40 0.30 on 2 cores |'

# Skips and the file out of schema, named.
has "$rep" "- bench_demo: CK: not installed"
has "$rep" "- Go: no x/sync semaphore under /nowhere"
has "$rep" "- legacy.json: not in schema gosync-bench/1 (bench/harness.h),$(
	) left out"

# Ratios gosync / peer, Go joined by name and threads, as a last column.
has "$rep" "| workload | thr | gosync | pthread_mutex | GMutex | Go 0.0 $(
	)| gs / pthread_mutex | gs / GMutex | gs / Go 0.0 |"
has "$rep" "| Mutex | 2 | 10 | 20 | 5 | 8 | 0.50 | 2.00 | 1.25 |"
has "$rep" '| lock, "quoted" | 1 | 4,000 | 1,000 | - | - | 4.00 | - | - |'
has "$rep" "| WithCancelCancel | 1 | 30 | 40 | 0.75 |"
has "$rep" "| OnlyInGo | 2 | 77 |"
has "$rep" "Median ns. gosync: gs_ctx_after_func."

# Targets: an absolute one and one against Go.
has "$rep" "| bench_demo | Mutex | 2 | <= 12 ns | 10 ns | met |"
has "$rep" "| bench_demo | WithCancelCancel | 1 | <= 0.5 x Go | $(
	)0.75 x Go | missed |"
has "$rep" "| Mutex | gs_mutex_t 8 | pthread_mutex_t 40 | sync.Mutex 8 |"
grep -q "targets 1 met, 1 missed" "$work/out.txt" ||
	fail "the summary line does not count the targets"

# A chart for each group with a ratio, none for the one without.
if command -v gnuplot >/dev/null 2>&1; then
	for c in bench-demo-mutex bench-demo-context; do
		has "$rep" "![bench_demo: ${c#bench-demo-}, gosync / peer](charts/$c.png)"
		[ -s "$work/charts/$c.png" ] || fail "charts/$c.png not drawn"
	done
	[ ! -e "$work/charts/bench-demo-after.png" ] ||
		fail "a chart for a group with no ratio"
else
	grep -q "gnuplot not installed: no chart" "$rep" ||
		fail "no line saying the charts were left out"
fi
echo "test_report: passed"
