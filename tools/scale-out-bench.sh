#!/usr/bin/env bash
# tools/scale-out-bench.sh — durable acks/s and p99 with 16 closed-loop writers (issue 8):
#   1. SQLite, one `serve` node;
#   2. PostgreSQL 15, one node;
#   3. PostgreSQL 15, three nodes on one database, the writers spread over them.
# It starts its own PostgreSQL in a temporary folder on a free loopback port (as the `postgres` user when
# run as root) and stops it at the end; nothing outside that folder is touched. The server nodes' CPU is
# measured by marksync-loadgen (/proc of their pids); PostgreSQL's CPU (postmaster and backends) and the
# machine's idle time are printed per run, so the limiting resource is measured, not guessed.
#
# Usage: tools/scale-out-bench.sh [SECONDS]     (default 10 s per run; SCRATCH_PATH=.build-x for another build folder)
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${1:-10}
SCRATCH=${SCRATCH_PATH:-.build}
WRITERS=${WRITERS:-16}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$PG_BIN/initdb" ] || PG_BIN=$(dirname "$(command -v initdb || echo /nonexistent/initdb)")
[ -x "$PG_BIN/initdb" ] || { echo "scale-out-bench: PostgreSQL 15 is missing; scripts/setup.sh installs postgresql-15" >&2; exit 1; }

echo "scale-out-bench: building release binaries (scratch path $SCRATCH)" >&2
swift build -c release --scratch-path "$SCRATCH" --product marksync-log >&2
swift build -c release --scratch-path "$SCRATCH" --product marksync-loadgen >&2
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)

WORK=$(mktemp -d /tmp/marksync-scale-XXXXXX)
chmod 755 "$WORK"
PIDS=()
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -f "$WORK/pg/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# CPU seconds (user+system) of a process and its children still running.
tree_cpu() {
    python3 - "$1" <<'EOF'
import os, sys
hz = os.sysconf("SC_CLK_TCK")
root = int(sys.argv[1]); children = {}
for name in os.listdir("/proc"):
    if name.isdigit():
        try:
            fields = open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(name))
        except OSError:
            pass
total, todo = 0, [root]
while todo:
    pid = todo.pop()
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    except OSError:
        pass
    todo += children.get(pid, [])
print(total / hz)
EOF
}
idle_seconds() { awk '/^cpu /{print ($5+$6)/'"$(getconf CLK_TCK)"'}' /proc/stat; }

# start_node NAME DB → prints "PORT PID" (it runs in a subshell: the caller records the pid in PIDS)
start_node() {
    local name=$1 db=$2 folder="$WORK/$1"
    mkdir -p "$folder"
    cp examples/task-manager-api/README.md "$folder/README.md"
    LOG_LEVEL=warning "$BIN/marksync-log" serve "$folder/README.md" --port 0 --db "$db" --doc bench --rate-limit 1000000 \
        >"$folder/out.txt" 2>"$folder/err.txt" &
    local pid=$!
    for _ in $(seq 1 300); do
        if grep -q '^listening ' "$folder/out.txt" 2>/dev/null; then
            echo "$(sed -n 's/^listening //p' "$folder/out.txt" | head -1) $pid"
            return
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "scale-out-bench: node $name did not start:" >&2
    cat "$folder/err.txt" >&2
    exit 1
}

# run LABEL URLS PIDS [PG_PID]
run() {
    local label=$1 urls=$2 pids=$3 pg_pid=${4:-}
    local pg_before=0 pg_after=0 idle_before idle_after
    [ -n "$pg_pid" ] && pg_before=$(tree_cpu "$pg_pid")
    idle_before=$(idle_seconds)
    "$BIN/marksync-loadgen" --url "$urls" --server-pid "$pids" --scenarios writers --writers "$WRITERS" \
        --duration "$SECONDS_PER_RUN" --json >"$WORK/$label.json"
    idle_after=$(idle_seconds)
    [ -n "$pg_pid" ] && pg_after=$(tree_cpu "$pg_pid")
    python3 - "$label" "$WORK/$label.json" "$pg_before" "$pg_after" "$idle_before" "$idle_after" "$SECONDS_PER_RUN" <<'EOF'
import json, os, sys
label, path, pg0, pg1, idle0, idle1, seconds = sys.argv[1:]
result = json.load(open(path))["results"][0]
acks = result.get("acksPerSecond")
p99 = (result.get("latency") or {}).get("p99")
cpu = result.get("serverCPUMicrosPerAck")
duration = float(result.get("seconds") or seconds)
if result.get("nacks") or result.get("errors"):
    print(f"{label}: {result.get('nacks')} nacks, {result.get('errors')} errors: {result.get('notes')}", file=sys.stderr)
pg = float(pg1) - float(pg0)
idle = float(idle1) - float(idle0)
cores = os.cpu_count()
print(f"{label:<22} {acks if acks is None else round(acks):>8} acks/s  p99 {p99 if p99 is None else round(p99, 1):>7} ms  "
      f"server CPU {cpu if cpu is None else round(cpu):>6} µs/ack  PostgreSQL CPU {pg / duration * 100:5.0f} %  "
      f"machine idle {idle / duration / cores * 100:4.0f} % of {cores} cores")
EOF
}

echo "scale-out-bench: $WRITERS writers, $SECONDS_PER_RUN s per run" >&2
printf '%-22s %s\n' "run" "figures (marksync-loadgen writers-$WRITERS, durable acks)"

# 1. SQLite, one node.
read -r port pid < <(start_node sqlite "$WORK/sqlite/log.db")
PIDS+=("$pid")
run "sqlite-1-node" "ws://127.0.0.1:$port" "$pid"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true

# PostgreSQL in a temporary folder.
mkdir -p "$WORK/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$WORK/pg"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres -A trust --no-sync >"$WORK/initdb.txt" 2>&1
PG_PORT=$(free_port)
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w \
    -o "-h 127.0.0.1 -p $PG_PORT -k $WORK/pg -c fsync=on -c synchronous_commit=on -c max_connections=200" start >/dev/null
PG_PID=$(head -1 "$WORK/pg/postmaster.pid")
"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE bench1" -c "CREATE DATABASE bench3" >/dev/null

# 2. PostgreSQL, one node.
read -r port pid < <(start_node pg1 "postgres://postgres@127.0.0.1:$PG_PORT/bench1")
PIDS+=("$pid")
run "postgres-1-node" "ws://127.0.0.1:$port" "$pid" "$PG_PID"
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true

# 3. PostgreSQL, three nodes, writers spread over them.
urls=() pids=()
for node in 0 1 2; do
    read -r port pid < <(start_node "pg3-$node" "postgres://postgres@127.0.0.1:$PG_PORT/bench3")
    PIDS+=("$pid")
    urls+=("ws://127.0.0.1:$port")
    pids+=("$pid")
done
run "postgres-3-nodes" "$(IFS=,; echo "${urls[*]}")" "$(IFS=,; echo "${pids[*]}")" "$PG_PID"
