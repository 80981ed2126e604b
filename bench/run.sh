#!/bin/sh
# bench/run.sh BUILD_DIR [--quick] [--out DIR] [--no-go]
#
# Runs every benchmark program that BUILD_DIR/bench holds, then Go's own
# benchmarks (run_go.sh), and leaves in DIR (bench/results unless told):
#
#	PROG.json, PROG.log  each program's results (schema gosync-bench/1,
#	                     bench/harness.h) and its terminal output
#	go.json, go.tsv, go.log
#	                     Go's figures in the same schema, as run_go.sh
#	                     wrote them, and its output
#	machine.json         the machine the figures were measured on
#	programs.txt         the JSON files, in the order they ran
#	results.csv, report.md, charts/
#	                     bench/report.sh's, made from all of the above
#
# The programs run in a fixed order, bench_core, bench_sync, bench_locks,
# bench_runtime, bench_xsync, bench_map, bench_pool, each that was
# built, then any other bench_* program in name order, so that a new
# program joins without an edit here. Each announces itself on a line
# of its own and prints its rows as they are measured. A program that
# fails is named and left out, the rest still run, and run.sh exits
# with 1 at the end. A peer a program was built without is skipped by
# that program, with a line saying so; without Go, or with --no-go, the
# Go step is skipped the same way. --quick makes every part one short
# repetition. DIR's JSON, logs, CSV, report and charts are replaced.
set -eu

usage() {
	echo "usage: $0 BUILD_DIR [--quick] [--out DIR] [--no-go]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
build=$1
shift
quick=
nogo=
here=$(cd "$(dirname "$0")" && pwd)
out=$here/results
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=--quick ;;
	--no-go) nogo=1 ;;
	--out)
		[ $# -ge 2 ] || usage
		out=$2
		shift
		;;
	*) usage ;;
	esac
	shift
done

known="bench_core bench_sync bench_locks bench_runtime bench_xsync"
known="$known bench_map bench_pool"
progs=
for p in $known; do
	if [ -f "$build/bench/$p" ] && [ -x "$build/bench/$p" ]; then
		progs="$progs $p"
	fi
done
for f in "$build"/bench/bench_*; do
	p=${f##*/}
	[ -f "$f" ] && [ -x "$f" ] || continue
	case " $known " in
	*" $p "*) ;;
	*) progs="$progs $p" ;;
	esac
done
if [ -z "$progs" ]; then
	echo "run.sh: no bench_* program in $build/bench; build it first" >&2
	exit 1
fi

mkdir -p "$out"
(
	cd "$out"
	rm -rf charts
	rm -f ./*.json ./*.log go.tsv programs.txt results.csv report.md
)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# json_str S: S as the inside of a JSON string.
json_str() {
	printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\n'
}

# The machine, once, before anything is timed.
load_start=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo unknown)
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" \
	2>/dev/null | head -n 1)
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo \
	| head -n 1)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
gover=$(go version 2>/dev/null | sed 's/^go version //' || true)
gpver=$(gnuplot --version 2>/dev/null || true)
# The peers and tools of the Makefile's BENCH_PACKAGES, with versions.
pkgs=$(awk '/^BENCH_PACKAGES[ \t]*=/ { on = 1; sub(/^[^=]*=/, "") }
on { more = sub(/\\$/, ""); printf "%s ", $0; if (!more) exit }' \
	"$here/../Makefile" 2>/dev/null || true)
peers=
for p in $pkgs; do
	v=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || true)
	peers="$peers${peers:+, }$p ${v:-not installed}"
done
if [ -n "$quick" ]; then
	mode="quick (--quick: one short repetition of each)"
else
	mode="full"
fi
machine_nproc=$(nproc)
machine_kernel=$(uname -srm)
machine_cc=$("${cc:-cc}" --version 2>/dev/null | head -n 1)
machine_libc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)
machine_date=$(date -u '+%Y-%m-%d %H:%M UTC')

echo "machine"
echo "  nproc     $machine_nproc"
echo "  cpu       ${cpu:-unknown}"
echo "  memory    $mem"
echo "  kernel    $machine_kernel"
echo "  compiler  $machine_cc"
echo "  libc      $machine_libc"
echo "  go        ${gover:-not installed}"
echo "  peers     ${peers:-unknown}"
echo "  date      $machine_date"
echo "  load      $load_start"
echo "  mode      $mode"
echo

# run_prog I N PROG: runs one program, its output on the terminal and in
# its log, and lists its JSON for the report if it succeeded.
line=
if command -v stdbuf >/dev/null 2>&1; then
	line="stdbuf -oL"
fi
failed=
run_prog() {
	echo "== bench [$1/$2] $3: running =="
	t0=$(date +%s)
	{
		rc=0
		$line "$build/bench/$3" $quick --json "$out/$3.json" 2>&1 ||
			rc=$?
		echo "$rc" >"$tmp/rc"
	} | tee "$out/$3.log"
	rc=$(cat "$tmp/rc")
	t=$(($(date +%s) - t0))
	if [ "$rc" != 0 ]; then
		echo "== bench [$1/$2] $3: FAILED (exit $rc) after $t s;" \
			"left out of the report =="
		rm -f "$out/$3.json"
		failed="$failed $3"
		return
	fi
	n=$(grep -c '"implementation"' "$out/$3.json" || true)
	echo "== bench [$1/$2] $3: done in $t s, $n results =="
	echo
	echo "$3.json" >>"$out/programs.txt"
}

# go_json SKIPPED: go.json from go.tsv (maybe empty), in the schema;
# SKIPPED is one line saying why Go was left out, or empty.
go_json() {
	# The repetitions and their length, as run_go.sh announced them.
	n='\([0-9]*\)'
	set -- "$1" $(sed -n "s/.*-benchtime ${n}ms -count $n.*/\\2 \\1/p" \
		"$out/go.log" 2>/dev/null | head -n 1)
	reps=${2:-0}
	ms=${3:-0}
	{
		if [ -f "$out/go.log" ]; then
			sed -n 's/^Go: \(.*\), skipped$/\1/p' "$out/go.log"
		fi
		[ -z "$1" ] || echo "$1"
	} >"$tmp/goskip"
	[ -f "$out/go.tsv" ] || : >"$out/go.tsv"
	ver=$(echo "$gover" | sed 's/^go\([0-9.]*\).*/\1/')
	awk -F '\t' -v cores="$machine_nproc" -v reps="$reps" -v ms="$ms" \
		-v impl="Go ${ver:-?}" -v skipfile="$tmp/goskip" '
function str(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}
$1 == "bench" {
	res[++nr] = sprintf("    {\"group\": \"go\", \"workload\": %s, " \
	    "\"threads\": %d, \"implementation\": %s, \"side\": \"Go\", " \
	    "\"median_ns\": %s, \"min_ns\": %s, \"ops\": 0, " \
	    "\"unit\": \"ns/op\", \"go\": %s, \"target_ns\": 0, " \
	    "\"target_go\": 0}", str($2), $3, str(impl), $4, $5, str($2))
}
$1 == "size" {
	t = $2
	sub(/^sync\./, "", t)
	sz[++ns] = sprintf("    {\"primitive\": %s, \"side\": \"Go\", " \
	    "\"type\": %s, \"bytes\": %s}", str(t), str($2), $3)
}
END {
	while ((getline l < skipfile) > 0)
		sk[++nk] = "    " str(l)
	print "{\n  \"schema\": \"gosync-bench/1\",\n  \"program\": \"go\","
	printf "  \"cores\": %d,\n  \"repetitions\": %d,\n", cores, reps
	printf "  \"target_ms\": %d,\n  \"results\": [\n", ms
	for (i = 1; i <= nr; i++)
		print res[i] (i < nr ? "," : "")
	print "  ],\n  \"sizes\": ["
	for (i = 1; i <= ns; i++)
		print sz[i] (i < ns ? "," : "")
	print "  ],\n  \"skipped\": ["
	for (i = 1; i <= nk; i++)
		print sk[i] (i < nk ? "," : "")
	print "  ]\n}"
}' "$out/go.tsv" >"$out/go.json"
	echo "go.json" >>"$out/programs.txt"
}

: >"$out/programs.txt"
count=0
for p in $progs; do
	count=$((count + 1))
done
total=$((count + 1))
i=0
for p in $progs; do
	i=$((i + 1))
	run_prog "$i" "$total" "$p"
done

echo "== bench [$total/$total] Go: running =="
if [ -n "$nogo" ]; then
	echo "Go: left out (--no-go), skipped"
	go_json "left out (--no-go)"
elif [ -z "$gover" ]; then
	echo "Go: not installed, skipped"
	go_json "not installed"
else
	t0=$(date +%s)
	rc=0
	{
		sh "$here/run_go.sh" $quick --tsv "$out/go.tsv" 2>&1 || rc=$?
		echo "$rc" >"$tmp/rc"
	} | tee "$out/go.log"
	rc=$(cat "$tmp/rc")
	if [ "$rc" != 0 ]; then
		echo "== bench: Go FAILED (exit $rc); left out of the report =="
		failed="$failed go"
		rm -f "$out/go.tsv"
		go_json "run_go.sh failed (exit $rc)"
	else
		go_json ""
		echo "== bench [$total/$total] Go: done in" \
			"$(($(date +%s) - t0)) s, $(grep -c '^bench' \
			"$out/go.tsv" || true) results =="
	fi
fi
echo

load_end=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo unknown)
{
	echo "{"
	echo "  \"schema\": \"gosync-bench-machine/1\","
	echo "  \"nproc\": \"$machine_nproc\","
	echo "  \"cpu\": \"$(json_str "${cpu:-unknown}")\","
	echo "  \"memory\": \"$mem\","
	echo "  \"kernel\": \"$(json_str "$machine_kernel")\","
	echo "  \"compiler\": \"$(json_str "$machine_cc")\","
	echo "  \"libc\": \"$(json_str "$machine_libc")\","
	echo "  \"go\": \"$(json_str "${gover:-not installed}")\","
	echo "  \"peers\": \"$(json_str "${peers:-unknown}")\","
	echo "  \"gnuplot\": \"$(json_str "${gpver:-not installed}")\","
	echo "  \"date\": \"$machine_date\","
	echo "  \"load_start\": \"$load_start on $machine_nproc cores\","
	echo "  \"load_end\": \"$load_end on $machine_nproc cores\","
	echo "  \"mode\": \"$(json_str "$mode")\""
	echo "}"
} >"$out/machine.json"

sh "$here/report.sh" "$out"

# The talk's map chart (store, delete, load; one bar per map, Go's
# beside), apart from the report's charts: bench/map_chart.sh.
if [ -f "$out/bench_map.json" ]; then
	mkdir -p "$out/charts"
	sh "$here/map_chart.sh" "$out/bench_map.json" \
		"$out/charts/map_talk.png" "" "$out/go.json" ||
		echo "run.sh: the map chart failed" >&2
fi
if [ -n "$failed" ]; then
	echo "run.sh: failed:$failed" >&2
	exit 1
fi
