#!/bin/sh
# bench/run.sh BUILD_DIR [--quick] [--json DIR]
#
# Prints the machine once, then runs bench_core, bench_sync,
# bench_runtime and bench_xsync from BUILD_DIR and Go's own benchmarks
# (run_go.sh), so that every table comes with the machine it was
# measured on: figures from another machine are only comparable through
# their ratios. Last, it sets each bench_sync row, each spawn and
# context row of bench_runtime and each bench_xsync row beside Go's row
# of the same workload and thread count, judges the context target (at
# most half of Go's time), gives the x/sync target rows' ratios to Go,
# and sets the C sizes beside Go's. --quick makes every part one short
# repetition; --json DIR keeps bench_core.json, bench_sync.json,
# bench_runtime.json, bench_xsync.json and go.tsv in DIR. At the end,
# apart from all of that, the map comparison: bench_map with Go's side
# from run_go.sh --map (and with --json DIR, bench_map.json, go_map.tsv
# and the chart bench_map.png there).
set -eu

usage() {
	echo "usage: $0 BUILD_DIR [--quick] [--json DIR]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
build=$1
shift
quick=
keep=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=--quick ;;
	--json)
		[ $# -ge 2 ] || usage
		keep=$2
		shift
		;;
	*) usage ;;
	esac
	shift
done

core=$build/bench/bench_core
sync=$build/bench/bench_sync
runtime=$build/bench/bench_runtime
xsync=$build/bench/bench_xsync
for bin in "$core" "$sync" "$runtime" "$xsync"; do
	if [ ! -x "$bin" ]; then
		echo "run.sh: $bin not found; build $build first" >&2
		exit 1
	fi
done
if [ -n "$keep" ]; then
	mkdir -p "$keep"
fi
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# The compiler that built the tree, as CMake recorded it.
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" \
	2>/dev/null | head -n 1)
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo \
	| head -n 1)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
glib=$(pkg-config --modversion glib-2.0 2>/dev/null || echo "not installed")
gover=$(go version 2>/dev/null | sed 's/^go version //' || true)

echo "machine"
echo "  nproc     $(nproc)"
echo "  cpu       ${cpu:-unknown}"
echo "  memory    $mem"
echo "  kernel    $(uname -srm)"
echo "  compiler  $("${cc:-cc}" --version | head -n 1)"
echo "  libc      $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
echo "  glib      $glib"
echo "  go        ${gover:-not installed}"
echo "  date      $(date -u '+%Y-%m-%d %H:%M UTC')"
echo

"$core" $quick ${keep:+--json "$keep/bench_core.json"}
echo
"$sync" $quick --json "$tmp/sync.json"
echo
"$runtime" $quick --json "$tmp/runtime.json"
echo
"$xsync" $quick --json "$tmp/xsync.json"
echo
sh "$here/run_go.sh" $quick --tsv "$tmp/go.tsv"
echo
if [ -n "$keep" ]; then
	cp "$tmp/sync.json" "$keep/bench_sync.json"
	cp "$tmp/runtime.json" "$keep/bench_runtime.json"
	cp "$tmp/xsync.json" "$keep/bench_xsync.json"
	cp "$tmp/go.tsv" "$keep/go.tsv"
fi

# bench_sync, bench_runtime and bench_xsync write one row to a line;
# these pick the gosync side of each row (with the section, and for
# bench_xsync the Go benchmark it names) and every side of each size,
# as tab-separated fields. The after-function rows stay out: Go 1.19
# has no AfterFunc to set beside them.
str='"([^"]*)"'
num='([0-9.e+-]*)'
side="\\{\"type\": $str, \"bytes\": $num\\}"
re="^ *\\{\"workload\": $str, \"threads\": $num, \"gosync\": "
re="$re\\{\"name\": $str, \"median_ns\": $num, \"min_ns\": $num,.*"
t=$(printf '\t')
sed -n -E "s/$re/row$t\\1$t\\2$t\\4$t\\5/p" "$tmp/sync.json" >"$tmp/merge.tsv"
rt="$re\"section\": \"(spawn|context)\"\\}.*"
sed -n -E "s/$rt/row$t\\1$t\\2$t\\4$t\\5$t\\6/p" "$tmp/runtime.json" \
	>>"$tmp/merge.tsv"
xs="$re\"go\": $str, \"section\": $str\\}.*"
sed -n -E "s/$xs/row$t\\1$t\\2$t\\4$t\\5$t\\7$t\\6/p" "$tmp/xsync.json" \
	>>"$tmp/merge.tsv"
re="^ *\\{\"primitive\": $str, \"gosync\": $side, \"pthreads\": $side, "
re="$re\"glib\": (null|$side)\\}.*"
sed -n -E "s/$re/size$t\\1$t\\2$t\\3$t\\4$t\\5$t\\7$t\\8/p" \
	"$tmp/sync.json" >>"$tmp/merge.tsv"

awk -F '\t' -v gofile="$tmp/go.tsv" -v gover="${gover:-}" '
function fmt(v,    s, out, n, i) {
	if (v < 999.5)
		return sprintf("%.3g", v)
	s = sprintf("%d", int(v + 0.5))
	n = length(s)
	out = ""
	for (i = 1; i <= n; i++) {
		if (i > 1 && (n - i + 1) % 3 == 0)
			out = out ","
		out = out substr(s, i, 1)
	}
	return out
}
function ratio(r) {
	if (r < 0.1)
		return sprintf("%.3f", r)
	if (r < 10)
		return sprintf("%.2f", r)
	return sprintf("%.1f", r)
}
# The context target: gosync at most half the median time of Go. Tree
# rows are counted together, the worst named; the others one by one.
function judge(name, r) {
	if (name ~ /^CancelTree\//) {
		trees++
		if (r <= 0.5)
			treesmet++
		if (trees == 1 || r > worst) {
			worst = r
			worstname = substr(name, 12)
		}
		return
	}
	said = said sep name " " ratio(r) (r <= 0.5 ? " met" : " missed")
	sep = ", "
}
function verdict() {
	if (trees > 0) {
		said = said sep "CancelTree " treesmet " of " trees " met" \
		    " (worst " worstname " " ratio(worst) ")"
		sep = ", "
	}
	if (said == "")
		said = "no Go figures for the context rows, not judged"
	print "target: context create+cancel <= 0.5 x Go, gs/Go medians:"
	print "        " said
	if (xsaid == "")
		xsaid = "no Go figures for the x/sync rows, not judged"
	print "target: x/sync, gs/Go medians (singleflight do <= Go time):"
	print "        " xsaid
}
# The x/sync target rows: the semaphore target is sem_t, judged by
# bench_xsync; the singleflight target is the time of Go, judged here.
function xjudge(name, r) {
	if (name == "acquire+release") {
		xsaid = xsaid xsep name " " ratio(r)
	} else if (name ~ /^singleflight\.Do\//) {
		xsaid = xsaid xsep substr(name, 17) " " ratio(r) \
		    (r <= 1 ? " met" : " missed")
	} else {
		return
	}
	xsep = ", "
}
function cell(type, bytes) {
	return type == "" ? "-" : type " " bytes
}
FILENAME == gofile {
	if ($1 == "bench") {
		gomed[$2, $3] = $4
		gomin[$2, $3] = $5
		gorows++
	} else if ($1 == "size") {
		gosize[$2] = $3
	}
	next
}
$1 == "row" { row[++rows] = $0 }
$1 == "size" { size[++sizes] = $0 }
END {
	w = 21
	for (i = 1; i <= rows; i++) {
		split(row[i], f, "\t")
		if (length(f[2]) > w)
			w = length(f[2])
	}
	line = "%-" w "s %-4s %-18s %-18s %s\n"
	if (gorows == 0) {
		print "gosync beside Go: no Go figures, skipped"
	} else {
		printf "gosync beside Go %s on this machine\n", gover
		print "ratio gosync / Go, median (min); below 1 = gosync faster"
		printf line, "workload", "thr", "gosync", "Go", "gs/Go"
	}
	for (i = 1; gorows > 0 && i <= rows; i++) {
		split(row[i], f, "\t")
		gs = fmt(f[4]) " (" fmt(f[5]) ")"
		go = "-"
		r = "-"
		# A bench_xsync row names its Go benchmark; the others
		# carry the name of theirs.
		gn = f[7] != "" ? f[7] : f[2]
		if ((gn, f[3]) in gomed) {
			m = gomed[gn, f[3]]
			n = gomin[gn, f[3]]
			go = fmt(m) " (" fmt(n) ")"
			r = ratio(f[4] / m) " (" ratio(f[5] / n) ")"
			if (f[6] == "context")
				judge(f[2], f[4] / m)
			else if (f[6] == "semaphore" || f[6] == "singleflight")
				xjudge(f[2], f[4] / m)
		}
		printf line, f[2], f[3] "T", gs, go, r
	}
	if (gorows > 0) {
		print "(-: Go has no benchmark of this workload on this many " \
		    "threads;\n acquire+release: Go runs it as " \
		    "AcquireSeq/Weighted-acquire-1-1-1)"
		verdict()
	}

	print ""
	print "sizes, bytes"
	printf "%-10s %-18s %-24s %-26s %s\n", "primitive", "gosync", \
	    "pthreads", "GLib", "Go"
	for (i = 1; i <= sizes; i++) {
		split(size[i], f, "\t")
		t = "sync." f[2]
		go = t in gosize ? t " " gosize[t] : "-"
		printf "%-10s %-18s %-24s %-26s %s\n", f[2], cell(f[3], f[4]), \
		    cell(f[5], f[6]), cell(f[7], f[8]), go
	}
}' "$tmp/go.tsv" "$tmp/merge.tsv"

# The map comparison, apart from everything above: bench_map with Go's
# figures of the same workloads (run_go.sh --map) beside each row, and
# with --json DIR its JSON, Go's TSV and the talk's chart kept in DIR.
mapb=$build/bench/bench_map
echo
if [ -x "$mapb" ]; then
	sh "$here/run_go.sh" --map $quick --tsv "$tmp/go_map.tsv"
	echo
	"$mapb" $quick --go "$tmp/go_map.tsv" --json "$tmp/map.json"
	if [ -n "$keep" ]; then
		cp "$tmp/map.json" "$keep/bench_map.json"
		cp "$tmp/go_map.tsv" "$keep/go_map.tsv"
		sh "$here/map_chart.sh" "$keep/bench_map.json" \
			"$keep/bench_map.png"
	fi
else
	echo "run.sh: $mapb not found, the map comparison skipped"
fi
