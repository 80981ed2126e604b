#!/usr/bin/env bash
# demo.sh BUILD_DIR - shows dedupe_server, built in BUILD_DIR, turning
# bursts of concurrent requests into one backend query per key, then
# stopping on SIGTERM without dropping the request in flight.
#
# Builds nothing. Talks to 127.0.0.1 only. Exits 1 if a number is not
# what singleflight promises, so `make demo` fails loudly.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../examples/dedupe-server/drive.sh
source "$here/../examples/dedupe-server/drive.sh"

backend_ms=${DEMO_BACKEND_MS:-500}
if [[ $# -ne 1 ]]; then
	echo "usage: demo.sh BUILD_DIR" >&2
	exit 2
fi
server=$1/examples/dedupe-server/dedupe_server
if [[ ! -x $server ]]; then
	echo "demo: no server at $server; build the examples first" \
		"(they need libmicrohttpd)" >&2
	exit 1
fi
command -v curl >/dev/null || {
	echo "demo: curl is not installed" >&2
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/gosync-demo.XXXXXX") || exit 1
trap 'ds_cleanup; rm -rf "$work"' EXIT
wrong=0

die()
{
	echo "demo: $*" >&2
	if [[ -f $work/server.log ]]; then
		sed 's/^/  server: /' "$work/server.log" >&2
	fi
	exit 1
}

# fact LABEL GOT WANT prints one line, marking a value that is off.
fact()
{
	if [[ $2 == "$3" ]]; then
		printf '  %-24s %s\n' "$1:" "$2"
	else
		printf '  %-24s %s (expected %s)\n' "$1:" "$2" "$3"
		wrong=1
	fi
}

yes_no()
{
	if (($1 == $2)); then echo yes; else echo "no ($1 of $2 keys)"; fi
}

ds_start "$server" "$work/server.log" --backend-ms "$backend_ms" ||
	die "$DS_ERR"
echo "dedupe_server on 127.0.0.1:$DS_PORT, backend $backend_ms ms a query"

echo "burst 1: 100 parallel requests for 1 key"
ds_burst "$work/one" 100 alpha || die "$DS_ERR"
fact "answered with 200" "$DS_OK" 100
fact "backend queries" "$DS_NEWQ" 1
fact "same body within a key" "$(yes_no "$DS_SAME" 1)" yes

echo "burst 2: 100 parallel requests over 10 keys"
ds_burst "$work/ten" 100 k0 k1 k2 k3 k4 k5 k6 k7 k8 k9 || die "$DS_ERR"
fact "answered with 200" "$DS_OK" 100
fact "backend queries" "$DS_NEWQ" 10
fact "same body within a key" "$(yes_no "$DS_SAME" 10)" yes

echo "shutdown: SIGTERM with 1 request in flight"
ds_stats || die "$DS_ERR"
queries=$DS_QUERIES
curl --silent --max-time 10 --output /dev/null --write-out '%{http_code}' \
	"http://127.0.0.1:$DS_PORT/late" >"$work/late.code" 2>/dev/null &
late=$!
for ((i = 0; i < 100 && DS_QUERIES == queries; i++)); do
	sleep 0.02
	ds_stats || die "$DS_ERR"
done
ds_stop || die "$DS_ERR"
wait "$late"
fact "in-flight answer" "$(cat "$work/late.code")" 200
fact "exit status" "$DS_STATUS" 0
printf '  %-24s %s\n' "SIGTERM to exit:" "$DS_STOP_MS ms"
echo "server log:"
sed 's/^/  /' "$work/server.log"

if ((wrong)); then
	echo "demo: some results were not as expected" >&2
	exit 1
fi
