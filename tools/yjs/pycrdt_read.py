#!/usr/bin/env python3
"""Reads Yjs updates with pycrdt (Yrs) and prints what the documents hold.

stdin:  {"cases": [{"name": str, "updates": [base64, ...], "read_after": [index, ...]}]}
        Each case applies its updates in order to a new document and reads it after the updates whose
        indices are listed (and after the last one).
stdout: {"pycrdt": version, "results": [{"name": str, "states": [state, ...], "error": str|null}]}
        state = {"meta": {...}, "blocks": {id: text}, "order": [id, ...], "prose": {key: text}, "headers": {...}}

Used by Tests/MarksyncServerTests/YjsInteropTests.swift (docs/crdt.md).
"""
import base64
import json
import sys
from importlib.metadata import version

from pycrdt import Array, Doc, Map


def read(doc):
    return {
        "meta": doc["meta"].to_py() or {},
        "blocks": {key: str(value) for key, value in doc["blocks"].items()},
        "order": doc["order"].to_py() or [],
        "prose": {key: str(value) for key, value in doc["prose"].items()},
        "headers": doc["headers"].to_py() or {},
    }


def main():
    job = json.load(sys.stdin)
    results = []
    for case in job["cases"]:
        doc = Doc({"meta": Map(), "blocks": Map(), "order": Array(), "prose": Map(), "headers": Map()})
        wanted = set(case.get("read_after", []))
        states = []
        error = None
        try:
            updates = case["updates"]
            for index, update in enumerate(updates):
                doc.apply_update(base64.b64decode(update))
                if index in wanted or index == len(updates) - 1:
                    states.append(read(doc))
        except Exception as exc:  # reported to the Swift test
            error = f"{type(exc).__name__}: {exc}"
        results.append({"name": case["name"], "states": states, "error": error})
    json.dump({"pycrdt": version("pycrdt"), "results": results}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
