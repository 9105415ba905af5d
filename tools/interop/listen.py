#!/usr/bin/env python3
"""Listens to a marksync-log server the way the Python marksync 0.2.17 peers do, and prints what it gets.

Usage: python3 tools/interop/listen.py ws://127.0.0.1:PORT --mode watch|agent --count N
                                       [--readme README.md] [--timeout SECONDS]

  --mode watch  the real `marksync.sync.SyncClient.watch()`: blocks start from --readme (parsed with
                BlockParser), then every `full` broadcast replaces a block and every `patch` broadcast is
                applied with Python diff-match-patch, ignoring its flags and sha (as the seed does).
  --mode agent  the real `marksync.agents.AgentWorker` (role monitor, no LLM): manifest, get_snapshot,
                blocks from the snapshot, then its `_on_message` for every broadcast.

Standard output, one JSON object per line (flushed):
  {"recv": <message>}            every message received, as parsed by marksync's own _parse
  {"final": {block_id: content}} the client's blocks after N `patch`/`full` broadcasts
Exit status 0 after N broadcasts, 2 on timeout (the final line is printed anyway).
Start writing only after the `manifest` (watch) or `snapshot` (agent) line: the seed's agent treats the
first message after its request as the snapshot.
"""
import argparse
import asyncio
import json
import sys

import marksync.agents as agents
import marksync.sync.engine as engine


def emit(obj):
    print(json.dumps(obj), flush=True)


class Done(Exception):
    pass


def tee(module):
    """Wraps the module's _parse so that every received message is printed."""
    original = module._parse

    def parse(raw):
        message = original(raw)
        emit({"recv": message})
        return message

    module._parse = parse


async def watch(args):
    client = engine.SyncClient(readme=args.readme or "README.md", uri=args.uri, name="py-watch")
    seen = 0

    def on_update(block_id, content):
        nonlocal seen
        seen += 1
        if seen >= args.count:
            raise Done()

    client.on_update(on_update)
    try:
        await asyncio.wait_for(client.watch(), timeout=args.timeout)
    except Done:
        return client.blocks, True
    except asyncio.TimeoutError:
        return client.blocks, False
    return client.blocks, False


async def agent(args):
    worker = agents.AgentWorker(agents.AgentConfig(name="py-agent", role="monitor", server_uri=args.uri))
    seen = 0
    original = worker._on_message

    async def on_message(message):
        nonlocal seen
        await original(message)
        if message.get("type") in ("patch", "full"):
            seen += 1
            if seen >= args.count:
                raise Done()

    worker._on_message = on_message
    try:
        await asyncio.wait_for(worker._connect_and_run(), timeout=args.timeout)
    except Done:
        return worker.blocks, True
    except asyncio.TimeoutError:
        return worker.blocks, False
    return worker.blocks, False


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("uri")
    parser.add_argument("--mode", choices=["watch", "agent"], default="watch")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--readme")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    tee(engine)
    tee(agents)
    blocks, complete = asyncio.run(watch(args) if args.mode == "watch" else agent(args))
    emit({"final": blocks})
    sys.exit(0 if complete else 2)


if __name__ == "__main__":
    main()
