#!/bin/sh
# web.sh - thidua-web against nginx with 200 logged-in sessions, a 25 MiB upload against
# dd conv=fsync, resident memory (bench/web.py; its client is bench/webload.c).
# Run by 'make bench' (BUILD and BIN set), or by hand: bench/web.sh [--sessions N] [--seconds S]
cd "$(dirname "$0")/.." || exit 1
exec /usr/bin/python3 bench/web.py "$@"
