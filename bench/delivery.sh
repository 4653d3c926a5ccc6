#!/bin/sh
# delivery.sh - webhook posts per second through thiduad + thidua-webhook against
# curl --parallel 64, on loopback (bench/delivery.py; its receiver is bench/receiver.c).
# Run by 'make bench' (BUILD and BIN set), or by hand: bench/delivery.sh [--units N] ...
cd "$(dirname "$0")/.." || exit 1
exec /usr/bin/python3 bench/delivery.py "$@"
