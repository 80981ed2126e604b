#!/usr/bin/env bash
# e2e_dedupe.sh SERVER_BINARY - dedupe_server answers a real HTTP client
# with one backend query per key and burst, and stops cleanly on SIGTERM.
#
# Checks, against 127.0.0.1 only:
#   100 parallel requests for one key: all 200, one backend query, one
#   body; 100 over 10 keys: all 200, ten queries, one body per key; a
#   later request for the first key is a new flight; a request in
#   flight at SIGTERM is still answered; the server then exits 0 within
#   DS_STOP_S seconds and reports its counts; --timeout-ms ends a second
#   server with "shutdown: timeout" and status 0.
# The backend takes 500 ms, so each burst overlaps its own flights.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../examples/dedupe-server/drive.sh
source "$here/../examples/dedupe-server/drive.sh"

fail()
{
	local f

	echo "FAIL: $*" >&2
	[[ -n ${work:-} ]] || exit 1
	for f in "$work"/*/curl.err; do
		[[ -s $f ]] || continue
		echo "--- curl errors, first lines" >&2
		head -n 5 "$f" >&2
	done
	if [[ -f $work/server.log ]]; then
		echo "--- server log" >&2
		cat "$work/server.log" >&2
	fi
	exit 1
}

# expect WHAT WANT GOT
expect()
{
	[[ $3 == "$2" ]] || fail "$1: expected $2, got $3"
	echo "ok: $1: $3"
}

[[ $# -eq 1 && -x $1 ]] || {
	echo "usage: e2e_dedupe.sh SERVER_BINARY" >&2
	exit 2
}
server=$1
command -v curl >/dev/null || fail "curl is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/e2e_dedupe.XXXXXX") ||
	fail "cannot make a temporary directory"
trap 'ds_cleanup; rm -rf "$work"' EXIT

ds_start "$server" "$work/server.log" --backend-ms 500 || fail "$DS_ERR"
echo "ok: listening on 127.0.0.1:$DS_PORT"

ds_burst "$work/one" 100 alpha || fail "$DS_ERR"
expect "one key: answers with 200" 100 "$DS_OK"
expect "one key: backend queries" 1 "$DS_NEWQ"
expect "one key: keys with a single body" 1 "$DS_SAME"
first=$(cat "$work/one/alpha.0")

ds_burst "$work/ten" 100 k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 || fail "$DS_ERR"
expect "ten keys: answers with 200" 100 "$DS_OK"
expect "ten keys: backend queries" 10 "$DS_NEWQ"
expect "ten keys: keys with a single body" 10 "$DS_SAME"

again=$(ds_get alpha) || fail "GET /alpha after the burst failed"
[[ $again == "key=/alpha "* && $again != "$first" ]] ||
	fail "a new flight for /alpha: expected a body unlike '$first'," \
		"got '$again'"
echo "ok: a later request for a key is a new flight: $again"

# A request taken before SIGTERM must still be answered: the drain.
ds_stats || fail "$DS_ERR"
queries=$DS_QUERIES
curl --silent --show-error --max-time 10 --output "$work/late.body" \
	--write-out '%{http_code}' "http://127.0.0.1:$DS_PORT/late" \
	>"$work/late.code" 2>"$work/late.err" &
late=$!
for ((i = 0; i < 100; i++)); do
	ds_stats || fail "$DS_ERR"
	((DS_QUERIES > queries)) && break
	sleep 0.02
done
((DS_QUERIES > queries)) || fail "the request for /late never reached" \
	"the backend"

ds_stop || fail "$DS_ERR"
expect "exit status after SIGTERM" 0 "$DS_STATUS"
echo "ok: shutdown took $DS_STOP_MS ms"
wait "$late"
expect "request in flight at SIGTERM: status" 200 "$(cat "$work/late.code")"
[[ $(cat "$work/late.body") == "key=/late "* ]] ||
	fail "request in flight at SIGTERM: body '$(cat "$work/late.body")'"

log=$(cat "$work/server.log")
grep -qx 'shutdown: signal SIGTERM' <<<"$log" ||
	fail "no 'shutdown: signal SIGTERM' in the log"
expect "served requests in the log" "served 202 requests" \
	"$(grep '^served ' <<<"$log")"
expect "backend queries in the log" "backend queries 13" \
	"$(grep '^backend queries ' <<<"$log")"

ds_start "$server" "$work/server.log" --timeout-ms 300 || fail "$DS_ERR"
ds_wait || fail "$DS_ERR"
expect "exit status after --timeout-ms" 0 "$DS_STATUS"
grep -qx 'shutdown: timeout' "$work/server.log" ||
	fail "no 'shutdown: timeout' in the log"
echo "ok: --timeout-ms 300 stopped the server"

echo "PASS"
