#!/usr/bin/env python3
"""Runs the real `marksync` command line from PyPI (what its console script does).

Usage: python3 tools/interop/marksync_cli.py push README.md --server-uri ws://127.0.0.1:PORT
Used by the tests so that they do not depend on where pip put the `marksync` script.
"""
import sys

from marksync.cli import main

sys.argv[0] = "marksync"
sys.exit(main())
