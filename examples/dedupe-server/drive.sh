# shellcheck shell=bash
# The DS_* variables set here are the results for the sourcing script.
# shellcheck disable=SC2034

# drive.sh - bash functions that start dedupe_server, send it bursts of
# parallel requests with curl and stop it; sourced by scripts/demo.sh
# and tests/e2e_dedupe.sh so that the demo shows what the test checks.
#
# Everything talks to 127.0.0.1 only. Each function sets DS_* variables
# and returns non-zero with the reason in DS_ERR; no call waits without
# a bound: curl has --max-time and an outer timeout, the start polls for
# at most DS_START_S seconds, the stop kills the server after DS_STOP_S.

DS_START_S=${DS_START_S:-5}
DS_STOP_S=${DS_STOP_S:-5}
DS_CURL_S=${DS_CURL_S:-20}
DS_PID=
DS_WATCHDOG=
DS_ERR=

# ds_now_us prints the wall clock in microseconds, with no call of date.
ds_now_us()
{
	local t=${EPOCHREALTIME//[!0-9]/}

	echo $((10#$t))
}

# ds_start BIN LOG [ARGS...] starts the server on a free port, sets
# DS_PID and DS_PORT from the "listening on" line of its log.
ds_start()
{
	local bin=$1 log=$2 i

	shift 2
	# Made first: the child's own redirection may come after our read.
	: >"$log" || {
		DS_ERR="cannot write $log"
		return 1
	}
	"$bin" --port 0 "$@" >"$log" 2>&1 &
	DS_PID=$!
	for ((i = 0; i < DS_START_S * 20; i++)); do
		DS_PORT=$(sed -n \
			's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
			"$log")
		[[ -n $DS_PORT ]] && return 0
		if ! kill -0 "$DS_PID" 2>/dev/null; then
			DS_ERR="server exited before listening: $(cat "$log")"
			return 1
		fi
		sleep 0.05
	done
	DS_ERR="no listening line within $DS_START_S s"
	return 1
}

# ds_stats reads GET /_stats into DS_REQUESTS and DS_QUERIES.
ds_stats()
{
	local body

	body=$(curl --silent --show-error --max-time 5 \
		"http://127.0.0.1:$DS_PORT/_stats") || {
		DS_ERR="GET /_stats failed"
		return 1
	}
	DS_REQUESTS=$(sed -n 's/^requests=\([0-9]*\) .*/\1/p' <<<"$body")
	DS_QUERIES=$(sed -n 's/.* queries=\([0-9]*\)$/\1/p' <<<"$body")
	if [[ -z $DS_REQUESTS || -z $DS_QUERIES ]]; then
		DS_ERR="GET /_stats answered '$body'"
		return 1
	fi
}

# ds_burst DIR N KEY... sends N requests at once, spread round-robin
# over the keys, one connection each. Sets DS_OK (answers with 200),
# DS_SAME (keys whose bodies are all one body naming that key), DS_KEYS
# and DS_NEWQ (backend queries the burst cost, from /_stats).
ds_burst()
{
	local dir=$1 n=$2 i k before
	local -a keys

	shift 2
	keys=("$@")
	DS_KEYS=${#keys[@]}
	mkdir -p "$dir" || {
		DS_ERR="cannot make $dir"
		return 1
	}
	for ((i = 0; i < n; i++)); do
		k=${keys[i % DS_KEYS]}
		printf 'url = "http://127.0.0.1:%s/%s?n=%d"\n' \
			"$DS_PORT" "$k" "$i"
		printf 'output = "%s/%s.%d"\n' "$dir" "$k" "$i"
	done >"$dir/curl.conf"
	ds_stats || return 1
	before=$DS_QUERIES

	# --parallel-immediate: without it curl waits on the first
	# connection before opening the others, and the burst splits.
	timeout "$DS_CURL_S" curl --parallel --parallel-immediate \
		--parallel-max "$n" --no-progress-meter --max-time 10 \
		--write-out '%{http_code}\n' --config "$dir/curl.conf" \
		>"$dir/codes" 2>"$dir/curl.err"
	DS_OK=$(grep -c '^200$' "$dir/codes")

	DS_SAME=0
	for k in "${keys[@]}"; do
		ds_one_body "$dir" "$k" && DS_SAME=$((DS_SAME + 1))
	done
	ds_stats || return 1
	DS_NEWQ=$((DS_QUERIES - before))
}

# ds_one_body DIR KEY: the bodies of KEY are one body that names KEY.
ds_one_body()
{
	local dir=$1 k=$2 bodies

	bodies=$(cat "$dir/$k".* 2>/dev/null | sort -u)
	[[ $(wc -l <<<"$bodies") -eq 1 && $bodies == "key=/$k "* ]]
}

# ds_get KEY prints the body of one GET /KEY; fails on a non-200.
ds_get()
{
	curl --silent --show-error --fail --max-time 10 \
		"http://127.0.0.1:$DS_PORT/$1"
}

# ds_stop sends SIGTERM and waits for the exit, killing the server
# after DS_STOP_S. Sets DS_STATUS and DS_STOP_MS (signal to exit).
ds_stop()
{
	local t0

	t0=$(ds_now_us)
	kill -TERM "$DS_PID" || {
		DS_ERR="server $DS_PID is gone before SIGTERM"
		return 1
	}
	ds_wait "$t0"
}

# ds_wait [T0_US] waits for the server to exit, at most DS_STOP_S, and
# sets DS_STATUS and DS_STOP_MS (from T0_US, or from the call).
ds_wait()
{
	local t0=${1:-$(ds_now_us)}

	# The watchdog kills the server when time is up; told to stop, it
	# takes its sleep with it so that nothing outlives the script.
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "$DS_STOP_S" &
		s=$!
		wait "$s"
		kill -KILL "$DS_PID" 2>/dev/null
	) &
	DS_WATCHDOG=$!
	wait "$DS_PID"
	DS_STATUS=$?
	DS_STOP_MS=$((($(ds_now_us) - t0) / 1000))
	DS_PID=
	ds_cleanup
	if ((DS_STOP_MS >= DS_STOP_S * 1000)); then
		DS_ERR="server still running $DS_STOP_S s later; killed it"
		return 1
	fi
}

# ds_cleanup ends what is still running; for an EXIT trap.
ds_cleanup()
{
	if [[ -n $DS_WATCHDOG ]]; then
		kill "$DS_WATCHDOG" 2>/dev/null
		wait "$DS_WATCHDOG" 2>/dev/null
	fi
	DS_WATCHDOG=
	if [[ -n $DS_PID ]]; then
		kill -KILL "$DS_PID" 2>/dev/null
		wait "$DS_PID" 2>/dev/null
	fi
	DS_PID=
}
