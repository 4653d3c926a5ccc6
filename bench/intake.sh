#!/bin/sh
# intake.sh - acknowledged durable submissions per second to a real thiduad, for 1, 8, 32
# and 64 concurrent clients, against the ceiling of one SQLite commit per fsync on the same
# disk. Figures, not pass/fail. Run by 'make bench' (BUILD and BIN set), or by hand:
#
#   BUILD=build/normal BIN=bin bench/intake.sh [SECONDS [WARMUP [CLIENTS]]]
#
# e.g. bench/intake.sh 10 2 1,8,32,64,128. The daemon's state (and the fsync-ceiling
# database) live in a fresh directory under build/, on the disk of the work tree, never in
# /tmp, which may be tmpfs where fsync costs nothing.

BUILD=${BUILD:-build/normal}
BIN=${BIN:-bin}
SECONDS_EACH=${1:-${INTAKE_SECONDS:-5}}
WARMUP=${2:-${INTAKE_WARMUP:-1}}
CLIENTS=${3:-${INTAKE_CLIENTS:-1,8,32,64}}
CLIENT=$BUILD/bench/intake

cd "$(dirname "$0")/.." || exit 1
echo "== bench/intake: durable submissions per second =="

for f in "$BIN/thiduad" "$BIN/thiduactl" "$CLIENT"; do
	if [ ! -x "$f" ]; then
		echo "intake: $f is missing; run 'make bench'" >&2
		exit 0
	fi
done

mkdir -p build
TMP=$(mktemp -d -p "$PWD/build" bench-intake.XXXXXX) || exit 1
DAEMON_PID=
CLIENT_PID=
cleanup() {
	if [ -n "$CLIENT_PID" ]; then
		kill -TERM "$CLIENT_PID" 2>/dev/null
		wait "$CLIENT_PID" 2>/dev/null
	fi
	CLIENT_PID=
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		i=0
		while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	DAEMON_PID=
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

fstype=$(stat -f -c %T "$TMP" 2>/dev/null)
device=$(df -P "$TMP" 2>/dev/null | awk 'NR == 2 { print $1 }')
echo "state directory: $TMP (file system $fstype on $device)"
case $fstype in
tmpfs|ramfs) echo "intake: warning: $TMP is on $fstype; fsync is free there and the figures mean little" ;;
esac

"$BIN/thiduad" -c config/thidua.cfg --state-dir "$TMP" --fake-clock=2024-11-10T09:00:00+07:00 \
	>"$TMP/thiduad.log" 2>&1 &
DAEMON_PID=$!

ready=
i=0
while [ $i -lt 100 ]; do
	if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		break
	fi
	if [ -S "$TMP/api.sock" ] && "$BIN/thiduactl" -e "ipc://$TMP/api.sock" status >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$ready" ]; then
	echo "intake: thiduad did not become ready; its log:" >&2
	sed 's/^/  /' "$TMP/thiduad.log" >&2
	exit 0
fi

# in the background with wait, so that a signal to this script is handled at once
"$CLIENT" -e "ipc://$TMP/api.sock" -d "$TMP" -p "$DAEMON_PID" \
	-t "$SECONDS_EACH" -w "$WARMUP" -f 3 -c "$CLIENTS" &
CLIENT_PID=$!
wait "$CLIENT_PID"
rc=$?
CLIENT_PID=
if [ $rc -ne 0 ]; then
	echo "intake: the benchmark client stopped with status $rc; the daemon's log ends:" >&2
	tail -n 20 "$TMP/thiduad.log" | sed 's/^/  /' >&2
fi
exit 0
