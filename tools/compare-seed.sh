#!/usr/bin/env bash
# Runs the same load scenarios against marksync-log and the Python seed server (marksync 0.2.17) and
# prints the figures side by side. Both servers are started by marksync-loadgen on free loopback ports
# with a temporary copy of the example README, measured, and stopped.
#
#   tools/compare-seed.sh                       # build (release), run both, print the table
#   SCRATCH=.build-c tools/compare-seed.sh      # another build folder
#   DURATION=5 RATE=1000 SEED_COMMAND=marksync tools/compare-seed.sh
#   SKIP_BUILD=1 OUT=/tmp/cmp tools/compare-seed.sh
#
# The seed installs with:
#   pip install --no-deps marksync==0.2.17 && pip install websockets diff-match-patch click pyyaml rich httpx pycrdt
set -euo pipefail
cd "$(dirname "$0")/.."

SCRATCH=${SCRATCH:-.build}
DURATION=${DURATION:-5}
FANOUT_DURATION=${FANOUT_DURATION:-5}
RATE=${RATE:-1000}
# A second fan-out pass at a rate the seed can sustain, so its latencies are not only queueing.
LOW_RATE=${LOW_RATE:-50}
WRITERS=${WRITERS:-1,4,16}
SUBSCRIBERS=${SUBSCRIBERS:-10,50,100}
SEED_COMMAND=${SEED_COMMAND:-marksync}
README_FILE=${README_FILE:-examples/task-manager-api/README.md}
OUT=${OUT:-$(mktemp -d /tmp/marksync-compare.XXXXXX)}
mkdir -p "$OUT"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    # One product per invocation: with several --product flags SwiftPM 6.2 builds only the last one.
    swift build -c release --scratch-path "$SCRATCH" --product marksync-log
    swift build -c release --scratch-path "$SCRATCH" --product marksync-loadgen
fi
BIN="$SCRATCH/release"
[[ -x "$BIN/marksync-loadgen" && -x "$BIN/marksync-log" ]] || { echo "no release build in $BIN" >&2; exit 1; }

common=(--duration "$DURATION" --fanout-duration "$FANOUT_DURATION" --writers "$WRITERS" --subscribers "$SUBSCRIBERS"
    --readme "$README_FILE" --json)

echo "== marksync-log" >&2
"$BIN/marksync-loadgen" --spawn --target marksync-log --server-binary "$BIN/marksync-log" --rate "$RATE" "${common[@]}" \
    > "$OUT/marksync-log.json"
"$BIN/marksync-loadgen" --spawn --target marksync-log --server-binary "$BIN/marksync-log" --rate "$LOW_RATE" \
    --scenarios fanout "${common[@]}" > "$OUT/marksync-log-low.json"

if command -v "$SEED_COMMAND" > /dev/null; then
    echo "== seed ($SEED_COMMAND)" >&2
    "$BIN/marksync-loadgen" --spawn --target seed --seed-command "$SEED_COMMAND" --rate "$RATE" "${common[@]}" \
        > "$OUT/seed.json" || echo "the seed run failed" >&2
    "$BIN/marksync-loadgen" --spawn --target seed --seed-command "$SEED_COMMAND" --rate "$LOW_RATE" \
        --scenarios fanout "${common[@]}" > "$OUT/seed-low.json" || echo "the seed low-rate run failed" >&2
else
    echo "no $SEED_COMMAND on PATH: install the seed (see the top of this script); printing marksync-log only" >&2
fi

python3 - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
def load(name):
    path = os.path.join(out, name)
    try:
        with open(path) as f: return json.load(f)["results"]
    except Exception: return []
ours = load("marksync-log.json") + load("marksync-log-low.json")
seed = {r["scenario"]: r for r in load("seed.json") + load("seed-low.json")}
def f(v, d=1): return "-" if v is None else f"{v:.{d}f}"
def cells(r):
    if r is None: return ["-"] * 7
    lat = r.get("latency") or {}
    dl = r.get("delivery") or {}
    if r["scenario"].startswith("fanout"):
        main = f"{f(dl.get('p50'),2)}/{f(dl.get('p99'),2)}"
        extra = f"lost {r['lost']}/{r['broadcastsExpected']}"
    else:
        main = f"{f(lat.get('p50'),2)}/{f(lat.get('p99'),2)}"
        extra = (f"bcast {r['broadcastsReceived']}/{r['broadcastsExpected']}" if r["scenario"].startswith("writers") else "")
    return [f(r.get("acksPerSecond"), 0), main, f(r.get("serverCPUMicrosPerAck"), 0),
            f((r.get("serverCPUUtilisation") or 0) * 100, 0), f(r.get("serverRSSMegabytes"), 0), f(r.get("clientCPUSeconds"), 1), extra]
head = ["scenario", "acks/s", "p50/p99 ms", "srv µs/ack", "srv cpu%", "RSS MB", "cli cpu s", "check"]
rows = [["", "marksync-log"] + [""] * 6 + ["seed 0.2.17"] + [""] * 6, head + head[1:]]
for r in ours:
    rows.append([r["scenario"]] + cells(r) + cells(seed.get(r["scenario"])))
widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[1]))]
for i, row in enumerate(rows):
    print("  ".join(str(c).rjust(widths[j]) if j else str(c).ljust(widths[j]) for j, c in enumerate(row)))
    if i == 1: print("  ".join("-" * w for w in widths))
print()
print("p50/p99: ack latency (writers), delivery latency writer→subscriber (fanout), reply latency (snapshot)")
print(f"JSON reports: {out}")
EOF
