# bench/report.awk - turns the benchmarks' JSON (schema gosync-bench/1,
# bench/harness.h) and the machine file into results.csv, report.md and
# one gnuplot script per chart; bench/report.sh runs it and gnuplot.
#
# Input: machine.json first, then each program's JSON, go.json (Go's
# figures, made by run.sh from run_go.sh's) among them. It reads each
# record whole from its one line, as harness.h promises; a file without
# "schema": "gosync-bench/1" is named in the report and left out.
#
# Variables (-v): out, the results folder; charts, the folder for the
# gnuplot scripts and their data; plot, 1 when gnuplot is there.
#
# Promises: a ratio is the first gosync median of a row over the
# other's median; a row of a C program meets Go's row of the name in
# its "go" field and the same thread count; nothing is dropped
# silently: each skipped peer, each file out of schema and each Go row
# that no C row names is listed in the report.
#
# Limits: it parses only the one-line layout harness.c writes, not
# JSON in general; it is mawk-compatible and so keeps to POSIX awk.

function unescape(s,    t) {
	gsub(/\\\\/, "\001", s)
	gsub(/\\"/, "\"", s)
	gsub(/\001/, "\\", s)
	return s
}

# parse(line, a): the "key": value pairs of a one-line object into a.
function parse(s, a,    m, k, v, n) {
	split("", a)
	n = 0
	while (match(s, /"[^"]*"[ \t]*:[ \t]*/)) {
		m = substr(s, RSTART, RLENGTH)
		sub(/"[ \t]*:[ \t]*$/, "", m)
		k = substr(m, 2)
		s = substr(s, RSTART + RLENGTH)
		if (substr(s, 1, 1) == "\"") {
			match(s, /^"([^"\\]|\\.)*"/)
			v = unescape(substr(s, 2, RLENGTH - 2))
		} else {
			match(s, /^[^,}\]]*/)
			v = substr(s, 1, RLENGTH)
			sub(/[ \t]+$/, "", v)
		}
		s = substr(s, RLENGTH + 1)
		a[k] = v
		n++
	}
	return n
}

function fmt(v,    s, o, n, i) {
	if (v < 999.5)
		return sprintf("%.3g", v)
	s = sprintf("%d", int(v + 0.5))
	n = length(s)
	o = ""
	for (i = 1; i <= n; i++) {
		if (i > 1 && (n - i + 1) % 3 == 0)
			o = o ","
		o = o substr(s, i, 1)
	}
	return o
}

function ratio(r) {
	if (r < 0.1)
		return sprintf("%.3f", r)
	if (r < 10)
		return sprintf("%.2f", r)
	return sprintf("%.1f", r)
}

function csv(s) {
	if (s !~ /[,"\n]/)
		return s
	gsub(/"/, "\"\"", s)
	return "\"" s "\""
}

function md(s) {
	gsub(/\|/, "\\|", s)
	return s
}

function slug(s) {
	s = tolower(s)
	gsub(/[^a-z0-9]+/, "-", s)
	sub(/^-/, "", s)
	sub(/-$/, "", s)
	return s
}

# A group's column for an implementation, made on first sight.
function column(g, name, side,    c) {
	if ((g, name) in colof)
		return colof[g, name]
	c = ++ncols[g]
	colof[g, name] = c
	colname[g, c] = name
	colside[g, c] = side
	return c
}

# One result of a C program: its row in its group, and its cell.
function keep(p, r,    g, key, i, c) {
	if (!((p, r["group"]) in groupof)) {
		groupof[p, r["group"]] = ++ngroups[p]
		gname[p, ngroups[p]] = r["group"]
	}
	g = p SUBSEP groupof[p, r["group"]]
	key = r["workload"] SUBSEP r["threads"]
	if (!((g, key) in rowof)) {
		i = ++nrows[g]
		rowof[g, key] = i
		rwork[g, i] = r["workload"]
		rthr[g, i] = r["threads"]
		gunit[g] = r["unit"]
	}
	i = rowof[g, key]
	if (r["go"] != "")
		rgo[g, i] = r["go"]
	if (r["side"] == "gosync" && !((g, i) in gsmed)) {
		gsmed[g, i] = r["median_ns"] + 0
		gsmin[g, i] = r["min_ns"] + 0
		gsimpl[g, i] = r["implementation"]
		gstns[g, i] = r["target_ns"] + 0
		gstgo[g, i] = r["target_go"] + 0
		if (!((g, r["implementation"]) in gsseen)) {
			gsseen[g, r["implementation"]] = 1
			gslist[g] = gslist[g] (gslist[g] == "" ? "" : ", ") \
			    r["implementation"]
		}
		return
	}
	c = column(g, r["implementation"], r["side"])
	cell[g, i, c] = r["median_ns"] + 0
}

FNR == 1 {
	file = FILENAME
	sub(/.*\//, "", file)
	prog = file
	sub(/\.json$/, "", prog)
	sec = ""
	inschema[file] = 0
	if (file != "machine.json")
		files[++nfiles] = file
}

# The machine file: flat "key": "value" lines.
file == "machine.json" {
	if (parse($0, a) > 0)
		for (k in a)
			machine[k] = a[k]
	next
}

/^[ \t]*"(results|sizes|skipped)"[ \t]*:[ \t]*\[/ {
	sec = $0
	sub(/^[ \t]*"/, "", sec)
	sub(/".*/, "", sec)
	if ($0 ~ /\][ \t]*,?[ \t]*$/)
		sec = ""
	next
}

sec != "" && /^[ \t]*\][ \t]*,?[ \t]*$/ {
	sec = ""
	next
}

sec == "" {
	if (parse($0, a) > 0) {
		if (a["schema"] == "gosync-bench/1")
			inschema[file] = 1
		if ("program" in a)
			progname[file] = a["program"]
		if ("repetitions" in a)
			reps[file] = a["repetitions"]
		if ("target_ms" in a)
			tms[file] = a["target_ms"]
	}
	next
}

!inschema[file] { next }

sec == "skipped" && match($0, /"([^"\\]|\\.)*"/) {
	skips[++nskips] = (prog == "go" ? "Go" : prog) ": " \
	    unescape(substr($0, RSTART + 1, RLENGTH - 2))
	next
}

sec == "sizes" && parse($0, a) > 0 {
	if (!(a["primitive"] in primof)) {
		primof[a["primitive"]] = ++nprims
		prims[nprims] = a["primitive"]
	}
	if (!(a["side"] in sideof)) {
		sideof[a["side"]] = ++nsides
		sides[nsides] = a["side"]
	}
	size[a["primitive"], a["side"]] = a["type"] " " a["bytes"]
	next
}

sec == "results" && parse($0, a) > 0 {
	nres++
	print csv(prog), csv(a["group"]), csv(a["workload"]), a["threads"], \
	    csv(a["implementation"]), csv(a["side"]), a["median_ns"], \
	    a["min_ns"], a["ops"], csv(a["unit"]) > out "/results.csv"
	if (prog == "go") {
		key = a["workload"] SUBSEP a["threads"]
		gomed[key] = a["median_ns"] + 0
		goimpl = a["implementation"]
		goorder[++ngo] = key
		next
	}
	if (!(prog in isprog)) {
		isprog[prog] = 1
		progs[++nprogs] = prog
		pfile[prog] = file
	}
	keep(prog, a)
	next
}

# Go's figures join the rows that name them, as a last column.
function join_go(    p, gi, g, i, key, c) {
	for (p = 1; p <= nprogs; p++)
		for (gi = 1; gi <= ngroups[progs[p]]; gi++) {
			g = progs[p] SUBSEP gi
			for (i = 1; i <= nrows[g]; i++) {
				if (!((g, i) in rgo))
					continue
				key = rgo[g, i] SUBSEP rthr[g, i]
				if (!(key in gomed))
					continue
				gomet[key] = 1
				c = column(g, goimpl, "Go")
				cell[g, i, c] = gomed[key]
				gocell[g, i] = gomed[key]
			}
		}
}

function machine_line(label, key) {
	printf "| %s | %s |\n", label, \
	    (key in machine) ? md(machine[key]) : "unknown" > rep
}

function head(    f, p) {
	print "# gosync benchmark report" > rep
	print "" > rep
	print "Made by `make bench` (bench/run.sh, then bench/report.sh) " \
	    "from the JSON beside this file." > rep
	print "Figures are ns per operation, the **median** of each " \
	    "program's repetitions (min" > rep
	print "and operation counts are in results.csv). A ratio is " \
	    "gosync / peer of the medians:" > rep
	print "below 1, gosync is faster. Figures from another machine " \
	    "compare only through" > rep
	print "their ratios; on a shared machine they move by up to " \
	    "~1.5x between runs." > rep
	print "" > rep
	print "## Machine" > rep
	print "" > rep
	print "| fact | value |" > rep
	print "|---|---|" > rep
	machine_line("cores (nproc)", "nproc")
	machine_line("CPU", "cpu")
	machine_line("memory", "memory")
	machine_line("kernel", "kernel")
	machine_line("compiler", "compiler")
	machine_line("libc", "libc")
	machine_line("Go", "go")
	machine_line("peers and tools (Debian packages)", "peers")
	machine_line("gnuplot", "gnuplot")
	machine_line("date", "date")
	machine_line("load average at start", "load_start")
	machine_line("load average at end", "load_end")
	machine_line("mode", "mode")
	print "" > rep
	print "| program | repetitions | ~ms each |" > rep
	print "|---|---|---|" > rep
	for (f = 1; f <= nfiles; f++) {
		if (!inschema[files[f]])
			continue
		p = files[f]
		sub(/\.json$/, "", p)
		printf "| %s | %s | %s |\n", p, reps[files[f]], \
		    tms[files[f]] > rep
	}
	print "" > rep
}

function skipped(    i, f, n) {
	print "## Skipped" > rep
	print "" > rep
	n = 0
	for (i = 1; i <= nskips; i++) {
		print "- " md(skips[i]) > rep
		n++
	}
	for (f = 1; f <= nfiles; f++)
		if (!inschema[files[f]]) {
			printf "- %s: not in schema gosync-bench/1 " \
			    "(bench/harness.h), left out\n", files[f] > rep
			print "report: " files[f] " is not in schema " \
			    "gosync-bench/1, left out"
			n++
		}
	if (n == 0)
		print "Nothing: every peer the programs know was there." > rep
	print "" > rep
}

function targets(    p, gi, g, i, n, want, got, ok, r) {
	n = 0
	for (p = 1; p <= nprogs; p++)
		for (gi = 1; gi <= ngroups[progs[p]]; gi++) {
			g = progs[p] SUBSEP gi
			for (i = 1; i <= nrows[g]; i++) {
				if (!((g, i) in gsmed))
					continue
				if (gstns[g, i] > 0) {
					want = "<= " fmt(gstns[g, i]) " ns"
					got = fmt(gsmed[g, i]) " ns"
					ok = gsmed[g, i] <= gstns[g, i] ? \
					    "met" : "missed"
					target_row(progs[p], g, i, want, got,
					    ok, ++n)
				}
				if (gstgo[g, i] > 0) {
					want = "<= " gstgo[g, i] " x Go"
					if ((g, i) in gocell) {
						r = gsmed[g, i] / gocell[g, i]
						got = ratio(r) " x Go"
						ok = r <= gstgo[g, i] ? \
						    "met" : "missed"
					} else {
						got = "-"
						ok = "no Go figure"
					}
					target_row(progs[p], g, i, want, got,
					    ok, ++n)
				}
			}
		}
	if (n == 0) {
		print "## Targets" > rep
		print "" > rep
		print "No row carries a target." > rep
	}
	print "" > rep
}

function target_row(p, g, i, want, got, ok, n) {
	if (n == 1) {
		print "## Targets" > rep
		print "" > rep
		print "| program | workload | thr | target | gosync | " \
		    "verdict |" > rep
		print "|---|---|---|---|---|---|" > rep
	}
	printf "| %s | %s | %s | %s | %s | %s |\n", p, md(rwork[g, i]), \
	    rthr[g, i], want, got, ok > rep
	printf "target: %s %s %sT %s: %s, %s\n", p, rwork[g, i], rthr[g, i], \
	    want, got, ok
	if (ok == "met")
		met++
	else if (ok == "missed")
		missed++
}

# The gnuplot script and data of one group's chart of ratios.
function chart(p, g, name,    base, dat, gp, c, i, v, lo, hi, w, lab) {
	base = slug(p "-" name)
	dat = charts "/" base ".dat"
	gp = charts "/" base ".gp"
	lo = 1
	hi = 1
	printf "row" > dat
	for (c = 1; c <= ncols[g]; c++)
		printf "\tgosync / %s", colname[g, c] > dat
	printf "\n" > dat
	for (i = 1; i <= nrows[g]; i++) {
		lab = rwork[g, i] " " rthr[g, i] "T"
		printf "%s", lab > dat
		for (c = 1; c <= ncols[g]; c++) {
			if ((g, i) in gsmed && (g, i, c) in cell && \
			    cell[g, i, c] > 0 && gsmed[g, i] > 0) {
				v = gsmed[g, i] / cell[g, i, c]
				if (v < lo)
					lo = v
				if (v > hi)
					hi = v
				printf "\t%.6g", v > dat
			} else {
				printf "\t-" > dat
			}
		}
		printf "\n" > dat
	}
	close(dat)
	w = 240 + nrows[g] * (ncols[g] + 1) * 22
	if (w < 720)
		w = 720
	if (w > 1800)
		w = 1800
	print "set terminal pngcairo noenhanced size " w ",480 " \
	    "font \"sans,9\"" > gp
	print "set output \"" out "/charts/" base ".png\"" > gp
	print "set datafile separator \"\\t\"" > gp
	print "set datafile missing \"-\"" > gp
	print "set title \"" p ": " name " - gosync / peer, median " \
	    "ns/op (below 1: gosync faster)\"" > gp
	print "set style data histograms" > gp
	print "set style histogram clustered gap 1" > gp
	print "set style fill solid 0.85 border -1" > gp
	print "set logscale y" > gp
	printf "set yrange [%.6g:%.6g]\n", lo / 1.6, hi * 1.6 > gp
	print "set ylabel \"ratio (log scale)\"" > gp
	print "set format y \"%g\"" > gp
	print "set ytics (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, " \
	    "0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)" > gp
	print "set grid ytics" > gp
	print "set xtics rotate by -35 scale 0" > gp
	print "set key outside top center horizontal" > gp
	print "set bmargin 9" > gp
	print "set arrow from graph 0, first 1 to graph 1, first 1 " \
	    "nohead lw 2 dt 2 front" > gp
	printf "plot for [i=2:%d] \"%s\" using i:xtic(1) title " \
	    "columnheader(i)\n", ncols[g] + 1, dat > gp
	close(gp)
	nchart++
	return "charts/" base ".png"
}

function group_table(p, gi,    g, name, c, i, line, sep, png, any) {
	g = p SUBSEP gi
	name = gname[p, gi]
	print "### " md(name) > rep
	print "" > rep
	line = "| workload | thr | gosync"
	sep = "|---|---|---:"
	for (c = 1; c <= ncols[g]; c++) {
		line = line " | " md(colname[g, c])
		sep = sep "|---:"
	}
	for (c = 1; c <= ncols[g]; c++) {
		line = line " | gs / " md(colname[g, c])
		sep = sep "|---:"
	}
	print line " |" > rep
	print sep "|" > rep
	any = 0
	for (i = 1; i <= nrows[g]; i++) {
		line = "| " md(rwork[g, i]) " | " rthr[g, i] " | " \
		    ((g, i) in gsmed ? fmt(gsmed[g, i]) : "-")
		for (c = 1; c <= ncols[g]; c++)
			line = line " | " ((g, i, c) in cell ? \
			    fmt(cell[g, i, c]) : "-")
		for (c = 1; c <= ncols[g]; c++) {
			if ((g, i) in gsmed && (g, i, c) in cell && \
			    cell[g, i, c] > 0) {
				line = line " | " \
				    ratio(gsmed[g, i] / cell[g, i, c])
				any = 1
			} else {
				line = line " | -"
			}
		}
		print line " |" > rep
	}
	print "" > rep
	printf "Median %s. gosync: %s", (gunit[g] != "" ? gunit[g] : \
	    "ns/op"), md(gslist[g]) > rep
	for (c = 1; c <= ncols[g]; c++)
		printf "; %s: %s", md(colname[g, c]), md(colside[g, c]) > rep
	print "." > rep
	if (ncols[g] == 0)
		print "No peer runs this workload, so no ratio." > rep
	print "" > rep
	if (!any)
		return
	if (plot) {
		png = chart(p, g, name)
		print "![" md(p) ": " md(name) ", gosync / peer](" png ")" \
		    > rep
	} else {
		print "(gnuplot not installed: no chart)" > rep
	}
	print "" > rep
}

function sizes(    i, s, line, sep) {
	if (nprims == 0)
		return
	print "## Sizes, bytes" > rep
	print "" > rep
	line = "| primitive"
	sep = "|---"
	for (s = 1; s <= nsides; s++) {
		line = line " | " md(sides[s])
		sep = sep "|---"
	}
	print line " |" > rep
	print sep "|" > rep
	for (i = 1; i <= nprims; i++) {
		line = "| " md(prims[i])
		for (s = 1; s <= nsides; s++)
			line = line " | " ((prims[i], sides[s]) in size ? \
			    md(size[prims[i], sides[s]]) : "-")
		print line " |" > rep
	}
	print "" > rep
}

function unmatched(    k, n, parts) {
	n = 0
	for (k = 1; k <= ngo; k++) {
		if (goorder[k] in gomet)
			continue
		if (++n == 1) {
			print "## Go rows that no C row names" > rep
			print "" > rep
			print "| Go benchmark | thr | " md(goimpl) " |" > rep
			print "|---|---|---:|" > rep
		}
		split(goorder[k], parts, SUBSEP)
		printf "| %s | %s | %s |\n", md(parts[1]), parts[2], \
		    fmt(gomed[goorder[k]]) > rep
	}
	if (n > 0)
		print "" > rep
}

BEGIN {
	OFS = ","
	rep = out "/report.md"
	print "program,group,workload,threads,implementation,side," \
	    "median_ns,min_ns,ops,unit" > out "/results.csv"
}

END {
	join_go()
	head()
	skipped()
	targets()
	for (p = 1; p <= nprogs; p++) {
		print "## " progs[p] > rep
		print "" > rep
		for (gi = 1; gi <= ngroups[progs[p]]; gi++)
			group_table(progs[p], gi)
	}
	sizes()
	unmatched()
	print "## Files" > rep
	print "" > rep
	print "One JSON per program (schema gosync-bench/1, " \
	    "bench/harness.h) and its terminal" > rep
	print "output (.log), go.json and go.tsv from bench/run_go.sh, " \
	    "machine.json, results.csv" > rep
	print "(every result, one per line) and charts/, all in this " \
	    "folder." > rep
	close(rep)
	close(out "/results.csv")
	for (i = 1; i <= nskips; i++)
		print "skipped: " skips[i]
	printf "report: %d programs, %d results, %d charts; targets " \
	    "%d met, %d missed\n", nprogs, nres, nchart, met, missed
}
