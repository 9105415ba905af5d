#!/usr/bin/env python3
"""Checks that the Python reference packages used by the interop tests are importable.

Usage: python3 tools/interop/check_env.py
Prints one JSON object {"ok": bool, "missing": [...], "versions": {...}} and exits 0 when
marksync 0.2.17, diff-match-patch and websockets are all present, 3 otherwise.
Install them with scripts/setup.sh (marksync with --no-deps, see ../shared/README.md).
"""
import importlib
import json
import sys
from importlib import metadata

WANTED = {"marksync": "0.2.17", "diff-match-patch": None, "websockets": None}
MODULES = {"marksync": "marksync.sync.engine", "diff-match-patch": "diff_match_patch", "websockets": "websockets"}

missing, versions = [], {}
for name, pinned in WANTED.items():
    try:
        importlib.import_module(MODULES[name])
        versions[name] = metadata.version(name)
        if pinned and versions[name] != pinned:
            missing.append(f"{name}=={pinned} (found {versions[name]})")
    except Exception as error:  # ImportError, or a missing dependency of marksync
        missing.append(f"{name} ({type(error).__name__}: {error})")
print(json.dumps({"ok": not missing, "missing": missing, "versions": versions}))
sys.exit(0 if not missing else 3)
