#!/bin/sh
# Issue 17 soak: 30 kill -9 trials of `marksync-log serve` while 4 WebSocket clients write and an editor
# rewrites README.md on disk; after each kill every ack is in the log and no event by author `file`
# undoes an acked change (Tests/MarksyncServerTests/ProjectionSoakTests.swift; CI runs 3 trials).
# Usage: tools/projection-soak.sh [trials]   (builds the tests first)
set -eu
cd "$(dirname "$0")/.."
swift build --build-tests
MARKSYNC_PROJECTION_SOAK="${1:-30}" swift test --skip-build --filter ProjectionSoakTests
