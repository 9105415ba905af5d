#!/usr/bin/env python3
"""Prints the blocks of a Markpact README as marksync 0.2.17's BlockParser sees them.

Usage: python3 tools/interop/blocks.py README.md
Output: one JSON object {"blocks": [{"id", "kind", "content", "sha256"}, ...]} in file order; the
interop tests compare it with the server's document after `marksync push`.
"""
import hashlib
import json
import sys
from pathlib import Path

from marksync.sync import BlockParser

markdown = Path(sys.argv[1]).read_text("utf-8")
blocks = [
    {"id": b.block_id, "kind": b.kind, "content": b.content,
     "sha256": hashlib.sha256(b.content.encode()).hexdigest()}
    for b in BlockParser.parse(markdown)
]
print(json.dumps({"blocks": blocks}))
