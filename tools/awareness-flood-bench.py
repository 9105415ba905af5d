#!/usr/bin/env python3
"""Awareness flood against a running `marksync-log serve`: RSS of the server before, during and after.

Issue 16: one read-only Yjs viewer sending 1.2 M awareness entries grew the server from 56 to 332 MB
(557 MB after it left). This sends TOTAL entries with distinct client ids to ws://127.0.0.1:PORT/yjs/DOC,
PER_MESSAGE entries in each awareness message, reconnecting whenever the server closes the viewer, and
prints the server's VmRSS (from /proc/PID/status) before, after the flood, and after the viewer left.

    python3 tools/awareness-flood-bench.py PORT PID [DOC] [TOTAL] [PER_MESSAGE]

Needs the `websockets` package (pip install websockets).
"""
import asyncio, sys, time

import websockets


def varuint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def awareness_message(first_client, count, state=b'{"user":{"name":"flood","color":"#ff0000"}}'):
    update = bytearray(varuint(count))
    for client in range(first_client, first_client + count):
        update += varuint(client) + varuint(1) + varuint(len(state)) + state
    return varuint(1) + varuint(len(update)) + bytes(update)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    doc = sys.argv[3] if len(sys.argv) > 3 else "demo"
    total = int(sys.argv[4]) if len(sys.argv) > 4 else 1_200_000
    per_message = int(sys.argv[5]) if len(sys.argv) > 5 else 100_000
    url = f"ws://127.0.0.1:{port}/yjs/{doc}"
    before = rss_mb(pid)
    sent, connections, closes = 0, 0, []
    started = time.monotonic()
    while sent < total:
        connections += 1
        try:
            async with websockets.connect(url, max_size=None, open_timeout=10) as socket:
                while sent < total:
                    count = min(per_message, total - sent)
                    await socket.send(awareness_message(10_000 + sent, count))
                    sent += count
                    await asyncio.sleep(0)
        except websockets.ConnectionClosed as closed:
            closes.append(f"{closed.rcvd.code if closed.rcvd else '-'} {closed.rcvd.reason if closed.rcvd else ''}")
        if connections > total:  # bounded
            break
    during = rss_mb(pid)
    await asyncio.sleep(2)
    after = rss_mb(pid)
    print(
        f"entries sent {sent} in {connections} connection(s), {per_message} per message, {time.monotonic() - started:.1f} s; "
        f"RSS before {before:.1f} MB, after the flood {during:.1f} MB (+{during - before:.1f}), "
        f"2 s after the viewer left {after:.1f} MB (+{after - before:.1f}); closes: {sorted(set(closes))[:3]}"
    )


asyncio.run(main())
