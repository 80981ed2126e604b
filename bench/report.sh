#!/bin/sh
# bench/report.sh DIR - writes DIR/results.csv, DIR/report.md and the
# charts of DIR/charts/ from the JSON that bench/run.sh left in DIR:
# machine.json, then the programs' files in the order DIR/programs.txt
# lists them (one file name a line; without it, every other *.json in
# name order). The work is bench/report.awk's; this draws the charts
# with gnuplot, or, where gnuplot is not installed, says so in the
# report and draws none. It reads only DIR and writes only those three.
set -eu

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 RESULTS_DIR" >&2
	exit 2
fi
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

: >"$tmp/files"
if [ -f "$dir/programs.txt" ]; then
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		if [ -f "$dir/$f" ]; then
			echo "$dir/$f" >>"$tmp/files"
		else
			echo "report: $dir/$f not found, left out" >&2
		fi
	done <"$dir/programs.txt"
else
	for f in "$dir"/*.json; do
		[ -f "$f" ] || continue
		[ "${f##*/}" = machine.json ] || echo "$f" >>"$tmp/files"
	done
fi
machine=$tmp/machine.json
if [ -f "$dir/machine.json" ]; then
	machine=$dir/machine.json
else
	echo "{}" >"$machine"
fi

plot=0
if command -v gnuplot >/dev/null 2>&1; then
	plot=1
fi
rm -rf "$dir/charts"
mkdir -p "$dir/charts" "$tmp/charts"

# The file names are one a line; none holds a newline.
# shellcheck disable=SC2046
IFS='
'
set -- $(cat "$tmp/files")
unset IFS
awk -v out="$dir" -v charts="$tmp/charts" -v plot="$plot" \
	-f "$here/report.awk" "$machine" "$@"

if [ "$plot" = 1 ]; then
	for gp in "$tmp/charts"/*.gp; do
		[ -f "$gp" ] || continue
		if ! gnuplot "$gp" 2>"$tmp/gnuplot.err"; then
			cat "$tmp/gnuplot.err" >&2
			echo "report: gnuplot failed on ${gp##*/}" >&2
			exit 1
		fi
	done
fi
echo "report: $dir/report.md, $dir/results.csv"
