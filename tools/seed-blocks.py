#!/usr/bin/env python3
"""seed-blocks.py: list the markpact blocks that the seed (marksync 0.2.17) parser finds.

This is a test oracle. It restates `marksync.sync.BlockParser.parse` as described in
shared/spec/seed-marksync.md sections 1.2 to 1.5, quirks included, and prints the blocks as JSON:

    python3 tools/seed-blocks.py README.md            # read like the seed server (UTF-8, universal newlines)
    python3 tools/seed-blocks.py --raw README.md      # keep CR characters (like BlockParser.parse(raw_text))
    python3 tools/seed-blocks.py - < README.md        # read stdin (same newline rules)
    python3 tools/seed-blocks.py --ids README.md      # one "block_id<TAB>kind<TAB>lang<TAB>start-end" per line

Output: [{"block_id", "kind", "lang", "meta", "path", "line_start", "line_end", "sha256", "content"}, ...]
in the seed's order: every pattern-0 block in document order, then every pattern-1 block; a block whose
id was already seen is dropped (first wins). Standard library only.
"""

import hashlib
import json
import re
import sys

# Section 1.2: both patterns compiled with DOTALL | MULTILINE, tried in this order.
# Pattern 0 ("lang first"):  groups = lang, kind[=embedded], meta, body
PATTERN_0 = re.compile(
    r"^```(\w*)[ \t]+markpact:(\w+(?:=[^\s`]+)?)(?:[ \t]+([^\n]+?))?\s*\n(.*?)\n^```\s*$",
    re.DOTALL | re.MULTILINE,
)
# Pattern 1 ("markpact first"):  groups = kind[=embedded], lang, meta, body
PATTERN_1 = re.compile(
    r"^```markpact:(\w+(?:=[^\s`]+)?)(?:[ \t]+(\w+))?(?:[ \t]+([^\n]+?))?\s*\n(.*?)\n^```\s*$",
    re.DOTALL | re.MULTILINE,
)

PATH_RE = re.compile(r"path=(\S+)")  # searched anywhere in meta (so "xpath=foo" matches too)


def make_id(kind, meta):
    """Section 1.4 `_make_id(kind, meta)`."""
    if "=" in kind:  # only reachable from rebuild_markdown in the seed
        return "markpact:" + kind
    m = PATH_RE.search(meta)
    if m:
        return "markpact:%s=%s" % (kind, m.group(1))
    if meta.strip():
        return "markpact:%s=%s" % (kind, meta.strip())  # whole meta, may contain spaces
    return "markpact:" + kind


def parse(markdown):
    """Section 1.3 `BlockParser.parse(markdown)`; returns a list of dicts."""
    blocks = []
    seen = set()
    for index, pattern in enumerate((PATTERN_0, PATTERN_1)):
        for m in pattern.finditer(markdown):
            if index == 0:
                lang, kind, meta, body = m.groups()
            else:
                kind, lang, meta, body = m.groups()
                lang = lang or "text"
            meta = (meta or "").strip()
            if "=" in kind:  # "file=app/main.py": extra meta REPLACES the embedded part
                kind, _, embedded = kind.partition("=")
                meta = embedded if not meta else meta
            block_id = make_id(kind, meta)
            if block_id in seen:
                continue  # duplicate id: first occurrence wins, later ones dropped silently
            seen.add(block_id)
            content = body.strip()
            path_m = PATH_RE.search(meta)  # MarkpactBlock.__post_init__ (empty for the "=" form)
            line_start = markdown[: m.start()].count("\n") + 1  # 1-based line of the opening fence
            blocks.append({
                "block_id": block_id,
                "kind": kind,
                "lang": lang or "text",
                "meta": meta,
                "path": path_m.group(1) if path_m else "",
                "line_start": line_start,
                "line_end": line_start + body.count("\n") + 2,  # line of the closing fence
                "sha256": hashlib.sha256(content.encode("utf-8")).hexdigest(),
                "content": content,
            })
    return blocks


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--raw", "--ids"}
    if len(args) != 1 or unknown:
        sys.stderr.write("usage: seed-blocks.py [--raw] [--ids] README.md|-\n")
        return 2
    newline = "" if "--raw" in flags else None  # None = universal newlines, like Path.read_text
    if args[0] == "-":
        data = sys.stdin.buffer.read().decode("utf-8")
        text = data if newline == "" else data.replace("\r\n", "\n").replace("\r", "\n")
    else:
        with open(args[0], encoding="utf-8", newline=newline) as f:
            text = f.read()
    blocks = parse(text)
    if "--ids" in flags:
        for b in blocks:
            sys.stdout.write("%s\t%s\t%s\t%d-%d\n" % (
                b["block_id"], b["kind"], b["lang"], b["line_start"], b["line_end"]))
    else:
        sys.stdout.write(json.dumps(blocks, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
