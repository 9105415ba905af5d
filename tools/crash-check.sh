#!/usr/bin/env bash
# tools/crash-check.sh — the kill -9 check of spec §10: 0 acked events lost over ≥ 50 server crashes.
#
# Usage: tools/crash-check.sh [KILLS]          (default 50; SCRATCH_PATH=.build-x to use another build folder)
#
# Builds the tests, then runs ServerCrashTests (Tests/MarksyncServerTests/ServerCrashTests.swift) with
# MARKSYNC_CRASH_KILLS=KILLS: `marksync-log serve README.md --port 0 --db …` runs as a child process while 8
# WebSocket clients write `full` messages with client message ids and record every ack; the server is
# killed with SIGKILL at a random moment (150–700 ms after the round's first 8 acks) and restarted on the same files,
# KILLS times. After every kill: every acked write is in the log at the seq of its ack, `verify` is clean,
# each block holds its last acked write (or the one sent after it), and README.md is whole; after every
# restart README.md equals the replay of the head. At the end `marksync-log verify` must exit 0.
# CRASH_SEED=N replays a run (the seed is printed with any failure). Takes about 3 s per kill (50 kills: ~2.5 min after the build).
set -euo pipefail
cd "$(dirname "$0")/.."

KILLS=${1:-50}
SCRATCH=${SCRATCH_PATH:-.build}
if ! [[ "$KILLS" =~ ^[0-9]+$ ]] || [ "$KILLS" -lt 1 ]; then
    echo "usage: $0 [KILLS]" >&2
    exit 2
fi

echo "crash-check: building (scratch path $SCRATCH)"
swift build --build-tests --scratch-path "$SCRATCH"
echo "crash-check: $KILLS kills of marksync-log serve during concurrent writes"
MARKSYNC_CRASH_KILLS=$KILLS swift test --skip-build --scratch-path "$SCRATCH" --filter ServerCrashTests
echo "crash-check: passed ($KILLS kills, no acked write lost, verify clean, README.md whole)"
