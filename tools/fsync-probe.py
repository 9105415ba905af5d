#!/usr/bin/env python3
"""How fast this disk makes a small append durable: the floor under one closed-loop writer's ack.

Each acknowledged write of marksync-log is one fsynced SQLite commit (WAL append + fdatasync) unless
several writers' writes share it. This appends 4 KiB and calls fdatasync, N times, in a temporary file
in DIR (default: the current folder, i.e. where the log would live), and prints the rate and latency.

    python3 tools/fsync-probe.py [DIR] [N]
"""
import os
import sys
import tempfile
import time

folder = sys.argv[1] if len(sys.argv) > 1 else "."
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
fd, path = tempfile.mkstemp(prefix=".fsync-probe-", dir=folder)
try:
    block = b"x" * 4096
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        before = time.perf_counter()
        os.write(fd, block)
        os.fdatasync(fd)
        latencies.append(time.perf_counter() - before)
    elapsed = time.perf_counter() - started
finally:
    os.close(fd)
    os.unlink(path)
latencies.sort()
def micros(q): return latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1e6
print(f"{count} appends of 4 KiB + fdatasync in {folder}: {count / elapsed:.0f}/s, "
      f"mean {elapsed / count * 1e6:.0f} µs, p50 {micros(0.5):.0f} µs, p99 {micros(0.99):.0f} µs")
