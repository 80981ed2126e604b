#!/bin/sh
# bench/run_go.sh [--quick] [--tsv FILE] [--map]
#
# Runs Go's own benchmarks of the workloads that bench_sync,
# bench_runtime and bench_xsync mirror, offline, and prints median (min)
# ns/op of each, then the size of each sync type. They come from the
# installed Go tree (Debian's golang-go keeps the sources and their
# tests: sync, context), from Debian's x/sync (errgroup and semaphore,
# built in GOPATH mode), and from bench/go, whose benchmarks time
# workloads Go has none for upstream: WithCancelCancel, bench_pool's
# PoolGetPut (Serial on one goroutine, Parallel on all), and in
# bench/go/xsync (GOPATH mode too, as it imports x/sync) singleflight's
# Do. --quick runs one short repetition; --tsv FILE also writes the
# figures as tab-separated lines for bench/run.sh:
#
#	bench	NAME	THREADS	MEDIAN_NS	MIN_NS
#	size	sync.TYPE	BYTES
#
# NAME is Go's, less "Benchmark" and the -N suffix; errgroup's Go is
# errgroup.Go, the only name that would say nothing alone. THREADS is
# how many goroutines run the benchmark loop: GOMAXPROCS for a parallel
# one, N+1 for CondN, 1 for a plain loop (CancelTree, errgroup.Go, the
# semaphore's), and 8 for singleflight.Do/one-key-8g, which sets its
# parallelism so.
#
# Last come bench_map's rows: bench/go's Map benchmarks (the anchors'
# map workloads on sync.Map and a map behind RWMutex) and Go's own
# sync.Map benchmarks. --map runs only those; its TSV then starts with
# a line "version<TAB>go1.N.N", for bench_map --go FILE's labels.
#
# GOMAXPROCS is 2 (-cpu 2) whatever the core count, so that Go runs the
# two threads the C benchmarks run; on a 2-core machine that is Go's
# default. The build cache is a fresh temporary one and the module proxy
# is off, so nothing is fetched and nothing is left behind.
set -eu

procs=2
benchtime=200ms
count=5
tsv=
map=
while [ $# -gt 0 ]; do
	case $1 in
	--map) map=1 ;;
	--quick)
		benchtime=20ms
		count=1
		;;
	--tsv)
		if [ $# -lt 2 ]; then
			echo "run_go.sh: --tsv needs a file" >&2
			exit 2
		fi
		tsv=$2
		shift
		;;
	*)
		echo "usage: $0 [--quick] [--tsv FILE] [--map]" >&2
		exit 2
		;;
	esac
	shift
done
[ -z "$tsv" ] || : >"$tsv"

if ! command -v go >/dev/null 2>&1; then
	echo "Go: not installed, skipped"
	exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
goroot=$(go env GOROOT)
src=$goroot/src/sync
if [ ! -f "$src/mutex_test.go" ]; then
	echo "Go: no sync tests under $src, skipped"
	exit 0
fi
# Debian's golang-golang-x-sync-dev; its tests build without modules.
gopath=/usr/share/gocode
xsync=$gopath/src/golang.org/x/sync

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
GOCACHE=$tmp/cache
GOPROXY=off
GOFLAGS=-mod=mod
export GOCACHE GOPROXY GOFLAGS
gover=$(go version | sed 's/^go version //')

# summarise PREFIX SERIAL FILE [WIDE THREADS]: the median and min of
# each benchmark's repetitions in FILE, in the order Go ran them,
# printed and appended to the TSV. The median is the middle value, or
# the upper middle of an even count, as the C benchmarks take it. Names
# get PREFIX; those matching SERIAL run one goroutine, those matching
# WIDE run THREADS, CondN runs N+1, the rest $procs.
summarise() {
	awk -v procs="$procs" -v tsv="$tsv" -v prefix="$1" -v serial="$2" \
		-v wide="${4:-}" -v widethr="${5:-0}" '
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
$1 ~ /^Benchmark/ && $4 == "ns/op" {
	name = $1
	sub(/^Benchmark/, "", name)
	sub(/-[0-9]+$/, "", name)
	if (!(name in cnt)) {
		order[++names] = name
		cnt[name] = 0
	}
	val[name, ++cnt[name]] = $3 + 0
}
END {
	w = 21
	for (k = 1; k <= names; k++)
		if (length(prefix order[k]) > w)
			w = length(prefix order[k])
	row = "%-" w "s %-4s %s\n"
	printf row, "benchmark", "thr", "Go ns/op, median (min)"
	for (k = 1; k <= names; k++) {
		name = order[k]
		n = cnt[name]
		for (i = 1; i <= n; i++)
			v[i] = val[name, i]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		med = v[int(n / 2) + 1]
		thr = procs
		if (name ~ /^Cond[0-9]+$/)
			thr = substr(name, 5) + 1
		else if (serial != "" && name ~ serial)
			thr = 1
		else if (wide != "" && name ~ wide)
			thr = widethr
		printf row, prefix name, thr "T", fmt(med) " (" fmt(v[1]) ")"
		if (tsv != "")
			printf "bench\t%s\t%d\t%.6g\t%.6g\n", prefix name, thr,
			    med, v[1] >> tsv
	}
}' "$3"
}

# gobench WHERE DIR PATTERN PREFIX SERIAL [WIDE THREADS]: runs the
# benchmarks of the package in DIR that match PATTERN, in the
# environment $goenv adds, then summarises them.
gobench() {
	echo "go: $gover, GOMAXPROCS $procs, -benchtime $benchtime" \
		"-count $count, $1"
	# $goenv is split into words on purpose: one assignment each.
	if ! (cd "$2" && env $goenv go test -run '^$' -bench "$3" \
		-cpu "$procs" -benchtime "$benchtime" -count "$count") \
		>"$tmp/bench.txt" 2>&1; then
		cat "$tmp/bench.txt" >&2
		echo "run_go.sh: go test failed in $2" >&2
		exit 1
	fi
	summarise "$4" "$5" "$tmp/bench.txt" "${6:-}" "${7:-}"
}

goenv=
# map_benches: bench_map's Go side, bench/go's Map benchmarks (the
# anchors' map workloads) and Go's own sync.Map benchmarks.
map_benches() {
	gobench "bench/go (ours: the anchors' map workloads)" "$here/go" \
		'^BenchmarkMap$' "" '/1T/'
	echo
	pattern='^Benchmark(LoadMostlyHits|LoadMostlyMisses|LoadOrStore'
	pattern="${pattern}Balanced|LoadOrStoreUnique|LoadOrStoreCollision"
	pattern="${pattern}|LoadAndDeleteBalanced|LoadAndDeleteUnique"
	pattern="${pattern}|LoadAndDeleteCollision|DeleteCollision|Range"
	pattern="${pattern}|AdversarialAlloc|AdversarialDelete)\$"
	gobench "$src (sync.Map's own)" "$src" "$pattern" "" ""
}

# With --map, only those: see --map above.
if [ -n "$map" ]; then
	[ -z "$tsv" ] || printf 'version\t%s\n' "${gover%% *}" >>"$tsv"
	map_benches
	exit 0
fi
pattern='BenchmarkMutexUncontended$|BenchmarkMutex$|BenchmarkMutexWork$'
pattern="$pattern|BenchmarkRWMutexWrite100\$|BenchmarkRWMutexWrite10\$"
pattern="$pattern|BenchmarkWaitGroupUncontended\$|BenchmarkOnce\$"
pattern="$pattern|BenchmarkCond1\$|BenchmarkCond2\$|BenchmarkCond4\$"
pattern="$pattern|BenchmarkCond8\$|BenchmarkWaitGroupActuallyWait\$"
gobench "$src" "$src" "$pattern" "" ""

echo
if [ -f "$goroot/src/context/benchmark_test.go" ]; then
	gobench "$goroot/src/context" "$goroot/src/context" \
		'CommonParentCancel|CancelTree' "" '^CancelTree/'
else
	echo "Go: no context benchmarks under $goroot/src/context, skipped"
fi

echo
if [ -f "$xsync/errgroup/errgroup_test.go" ]; then
	goenv="GOPATH=$gopath GO111MODULE=off GOFLAGS="
	gobench "$xsync/errgroup (GOPATH mode)" "$xsync/errgroup" \
		'^BenchmarkGo$' errgroup. '^Go$'
	goenv=
else
	echo "Go: no x/sync errgroup under $xsync, skipped"
fi

echo
gobench "bench/go (ours: no upstream benchmark times this)" "$here/go" \
	'^Benchmark(WithCancelCancel|PoolGetPut[0-9]+(Serial|Parallel))$' \
	"" '^(WithCancelCancel|PoolGetPut[0-9]+Serial)$'

# bench_xsync's rows: x/sync's semaphore benchmarks, Weighted only (C
# has no channel to set beside semChan), and singleflight's Do, which
# has no upstream benchmark and so is ours.
echo
if [ -f "$xsync/semaphore/semaphore_bench_test.go" ]; then
	goenv="GOPATH=$gopath GO111MODULE=off GOFLAGS="
	gobench "$xsync/semaphore (GOPATH mode)" "$xsync/semaphore" \
		'^Benchmark(NewSeq|AcquireSeq)$/^Weighted-' "" \
		'^(NewSeq|AcquireSeq)/'
	goenv=
else
	echo "Go: no x/sync semaphore under $xsync, skipped"
fi

echo
if [ -f "$xsync/singleflight/singleflight.go" ]; then
	goenv="GOPATH=$gopath GO111MODULE=off GOFLAGS="
	gobench "bench/go/xsync (ours: not upstream; GOPATH mode)" \
		"$here/go/xsync" '^BenchmarkDo$' singleflight. \
		'^Do/distinct-keys$' '^Do/one-key-8g$' 8
	goenv=
else
	echo "Go: no x/sync singleflight under $xsync, skipped"
fi

# bench_map's rows.
echo
map_benches

if ! (cd "$here/go" && go run .) >"$tmp/sizes.txt" 2>&1; then
	cat "$tmp/sizes.txt" >&2
	echo "run_go.sh: the sizes program failed" >&2
	exit 1
fi
echo
echo "Go sizes, bytes (unsafe.Sizeof)"
awk -v tsv="$tsv" '{
	printf "%-15s %s\n", $1, $2
	if (tsv != "")
		printf "size\t%s\t%s\n", $1, $2 >> tsv
}' "$tmp/sizes.txt"
