#!/usr/bin/env python3
"""Sends block edits to a marksync-log server as a Python marksync 0.2.17 agent does, and prints what
Python diff-match-patch expects.

Usage: python3 tools/interop/agent_push.py ws://127.0.0.1:PORT CASES.json

CASES.json is a list of {"block_id", "new", "base"?, "sha"?}. The script connects like
`marksync.agents.AgentWorker` (manifest, get_snapshot, blocks parsed from the snapshot with BlockParser),
then for each case:
  * base (optional) replaces the agent's idea of the block first (to make a patch against an older
    text, which the server must apply fuzzily the way Python does);
  * with "sha": false the patch is sent without its sha (as a seed client may); otherwise the real
    `AgentWorker._push_block(block_id, new)` sends it (a `patch` with `sha`, or a `full` when the patch
    text is not under 80 % of the content: the seed's rule);
  * the reply (ack, nack or error) is read and the server's block fetched with get_block.
Standard output, one JSON object per case:
  {"block_id", "sent": <message sent>, "reply": <reply>, "expected": text, "flags": [bool],
   "server": <get_block reply>}
where expected/flags are Python's `patch_apply(patch_fromText(patch), server_text_before)`.
"""
import asyncio
import json
import sys

import websockets
from diff_match_patch import diff_match_patch

import marksync.agents as agents
from marksync.sync import BlockParser

dmp = diff_match_patch()


async def next_reply(ws, types, field=None):
    """The next message of one of `types` (and carrying `field`), skipping broadcasts of other clients."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if message.get("type") in types and (field is None or field in message):
            return message


async def main(uri, cases):
    worker = agents.AgentWorker(agents.AgentConfig(name="py-agent-push", role="monitor", server_uri=uri))
    async with websockets.connect(uri) as ws:
        worker.ws = ws
        manifest = json.loads(await asyncio.wait_for(ws.recv(), timeout=15))
        assert manifest["type"] == "manifest", manifest
        await ws.send(agents._signal("get_snapshot"))
        snapshot = await next_reply(ws, ("snapshot",))
        worker.blocks = {b.block_id: b.content for b in BlockParser.parse(snapshot["markdown"])}
        server_blocks = dict(worker.blocks)
        sent = []
        original_send = ws.send

        async def recording_send(text):
            sent.append(json.loads(text))
            await original_send(text)

        ws.send = recording_send
        for case in cases:
            block_id, new = case["block_id"], case["new"]
            before = server_blocks.get(block_id, "")
            if "base" in case:
                worker.blocks[block_id] = case["base"]
            sent.clear()
            if case.get("sha", True) is False:
                patch = dmp.patch_toText(dmp.patch_make(worker.blocks.get(block_id, ""), new))
                await ws.send(agents._signal("patch", block_id=block_id, patch=patch, sender="py-agent-push"))
            else:
                await worker._push_block(block_id, new)
            message = sent[0]
            if message["type"] == "patch":
                expected, flags = dmp.patch_apply(dmp.patch_fromText(message["patch"]), before)
            else:
                expected, flags = message["content"], []
            reply = await next_reply(ws, ("ack", "nack", "error", "conflict"))
            await ws.send(agents._signal("get_block", block_id=block_id))
            server = await next_reply(ws, ("full",), field="exists")  # the reply, not a broadcast
            server_blocks[block_id] = server["content"]
            worker.blocks[block_id] = server["content"]
            print(json.dumps({"block_id": block_id, "sent": message, "reply": reply, "expected": expected,
                              "flags": flags, "server": server}), flush=True)


if __name__ == "__main__":
    with open(sys.argv[2], encoding="utf-8") as handle:
        asyncio.run(main(sys.argv[1], json.load(handle)))
