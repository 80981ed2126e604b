#!/bin/sh
# bench/map_chart.sh JSON PNG [KEYS [GO_JSON]]
#
# Draws the seed talk's map chart from bench_map's JSON (and Go's, as
# bench/run.sh writes go.json, when GO_JSON is given): three groups,
# store, delete and load (talk-store, talk-delete, talk-load), one bar
# per map, the median ns/op on a log scale (one pathological peer
# would flatten a linear one). KEYS picks the row size, by default
# the largest in the file. Needs gnuplot; without it, says so and
# exits 0. The data it plots is left beside the PNG as PNG.tsv.
set -eu

if [ $# -lt 2 ] || [ $# -gt 4 ]; then
	echo "usage: $0 JSON PNG [KEYS [GO_JSON]]" >&2
	exit 2
fi
json=$1
png=$2
keys=${3:-}
gojson=${4:-}
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "map_chart.sh: gnuplot not installed, chart skipped"
	exit 0
fi
tsv=$png.tsv

# Every result sits on one line of its own (gosync-bench/1): pull out
# the talk rows' implementation and median, bench_map's from group
# map-K and Go's from workload Map/talk-OP/K/1T/MAP, then transpose to
# one line per operation and one column per map.
awk -v want="$keys" '
function field(name,    re) {
	re = "\"" name "\": \"[^\"]*\""
	if (!match($0, re))
		return ""
	return substr($0, RSTART + length(name) + 5,
	    RLENGTH - length(name) - 6)
}
function keep(k, op, name) {
	match($0, /"median_ns": [0-9.e+-]+/)
	if (!((k, name) in seen)) {
		seen[k, name] = 1
		order[k, ++count[k]] = name
	}
	val[k, op, name] = substr($0, RSTART + 13, RLENGTH - 13)
	if (k > maxk)
		maxk = k
}
/"implementation"/ {
	g = field("group")
	w = field("workload")
	if (g ~ /^map-[0-9]+$/ && w ~ /^talk-(store|delete|load)$/)
		keep(substr(g, 5) + 0, substr(w, 6), field("implementation"))
	else if (w ~ /^Map\/talk-(store|delete|load)\/[0-9]+\/1T\//) {
		split(w, p, "/")
		keep(p[3] + 0, substr(p[2], 6),
		    field("implementation") " " p[5])
	}
}
END {
	k = want != "" ? want + 0 : maxk
	if (count[k] == 0) {
		print "map_chart.sh: no talk rows with " k " keys" > "/dev/stderr"
		exit 1
	}
	printf "op"
	for (i = 1; i <= count[k]; i++)
		printf "\t\"%s\"", order[k, i]
	printf "\n"
	split("store delete load", ops, " ")
	for (j = 1; j <= 3; j++) {
		printf "%s", ops[j]
		for (i = 1; i <= count[k]; i++) {
			v = val[k, ops[j], order[k, i]]
			printf "\t%s", v == "" ? "NaN" : v
		}
		printf "\n"
	}
	print k > "/dev/stderr"
}' "$json" ${gojson:+"$gojson"} >"$tsv" 2>"$tsv.keys"
n=$(head -n 1 "$tsv" | awk -F '\t' '{ print NF }')
k=$(cat "$tsv.keys")
rm -f "$tsv.keys"

title="Map: store, delete, load, $k keys, one thread"
title="$title (ns/op, median, log scale; lower is better)"
gnuplot <<GP
set terminal pngcairo size 1200,640 noenhanced font ",10"
set output "$png"
set title "$title"
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set ylabel "ns/op"
set grid ytics
set key outside right top vertical
# Ten distinct colours: gnuplot's own eight repeat.
set linetype 9 lc rgb "#8c564b"
set linetype 10 lc rgb "#7f7f7f"
plot for [i=2:$n] "$tsv" using i:xtic(1) title columnheader(i)
GP
echo "map_chart.sh: wrote $png ($k keys)"
