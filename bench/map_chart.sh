#!/bin/sh
# bench/map_chart.sh JSON PNG [KEYS]
#
# Draws the seed talk's map chart from bench_map's JSON: three groups,
# store, delete and load (talk-store, talk-delete, talk-load), one bar
# per map, the median ns/op on a log scale (one pathological peer
# would flatten a linear one). KEYS picks the row size, by default
# the largest in the file. Needs gnuplot; without it, says so and
# exits 0. The data it plots is left beside the PNG as PNG.tsv.
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 JSON PNG [KEYS]" >&2
	exit 2
fi
json=$1
png=$2
keys=${3:-}
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "map_chart.sh: gnuplot not installed, chart skipped"
	exit 0
fi
tsv=$png.tsv

# One row per line in the JSON: pull out workload, keys and each
# {"name": ..., "median_ns": ...} side; then transpose to one line per
# operation and one column per map.
awk -v want="$keys" '
/"workload": "talk-(store|delete|load)"/ {
	match($0, /"workload": "talk-[a-z]+"/)
	op = substr($0, RSTART + 18, RLENGTH - 19)
	match($0, /"keys": [0-9]+/)
	k = substr($0, RSTART + 8, RLENGTH - 8) + 0
	rest = $0
	while (match(rest, /"name": "[^"]*", "median_ns": [0-9.e+-]+/)) {
		s = substr(rest, RSTART, RLENGTH)
		rest = substr(rest, RSTART + RLENGTH)
		split(s, f, "\"")
		name = f[4]
		sub(/.*"median_ns": /, "", s)
		if (!((k, name) in seen)) {
			seen[k, name] = 1
			order[k, ++count[k]] = name
		}
		val[k, op, name] = s
	}
	if (k > maxk)
		maxk = k
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
}' "$json" >"$tsv" 2>"$tsv.keys"
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
