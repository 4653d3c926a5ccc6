#!/bin/sh
# logins.sh - what Argon2id password checks cost thiduad's loop: one login's round trip,
# a submission's wait behind a burst of logins, resident memory (bench/logins.py).
# Run by 'make bench' (BUILD and BIN set), or by hand: bench/logins.sh [--logins N] [--bursts 60,250]
cd "$(dirname "$0")/.." || exit 1
THIDUA_BIN="${BIN:-bin}" exec /usr/bin/python3 bench/logins.py "$@"
