#!/usr/bin/env python3
"""Generate golden vectors for the Swift port of diff-match-patch (MarksyncCore/Patch).

How to run (from the repository root):

    pip install diff-match-patch==20241021     # the reference implementation
    python3 tools/gen-dmp-vectors.py            # or: --out PATH --seed N  (about 20 s)

Then run the Swift checks: swift test --filter DiffMatchPatch

What it writes: Tests/MarksyncCoreTests/Fixtures/dmp-vectors.json.gz, a gzip-compressed
JSON object (deterministic: fixed seed, sorted keys, gzip mtime 0). Every text is a JSON
string; positions are Python str indices (code points). Diffs are lists of [op, text]
with op -1 (delete), 0 (equal), 1 (insert). "s" is either null (Python defaults) or an
object of diff_match_patch attribute overrides, e.g. {"Match_Threshold": 0.3}.

  meta      {"generator", "python", "diff_match_patch", "seed"}
  patch     [a, b, s, patch_text]            patch_toText(patch_make(a, b))
  apply     [patch_index, target, s, result_text, flags]
            patch_apply(patch_fromText(patch[patch_index].patch_text), target)
            with settings s (the patch itself was made with patch[patch_index].s);
            target null means "the patch case's a".
  diff      [a, b, checklines, s, diffs, semantic, efficiency, lossless, delta]
            diffs = diff_main(a, b, checklines); the cleanups run on copies of diffs
            (null when the cleanup leaves the diffs unchanged); delta = diff_toDelta(diffs).
  cleanup   [diffs, s, merge, semantic, efficiency, lossless, levenshtein, xindex]
            hand-made (not normalised) diff lists; xindex = [[loc, diff_xIndex], ...].
  match     [text, [[pattern, loc, s, result], ...]]  result = match_main(text, pattern, loc)
  fromtext  [text, expected]  expected = {"error": "header"|"mode"} or
            {"patches": [[start1, start2, length1, length2, diffs], ...], "text": patch_toText(...)}
  delta     [text1, delta, expected]  expected = {"error": kind} or {"diffs": diffs}
            kinds: "number", "negative", "operation", "length", "surrogate".

Results must not depend on machine speed: the generator replaces the clock that
diff_match_patch reads with one that never advances (Diff_Timeout = 1.0 keeps its other
effect, diff_halfMatch stays enabled) and counts its reads; cases needing more than
WORK_BUDGET bisect steps are dropped (deterministically), so a real implementation stays
far from the 1 s timeout on every case. Setting combinations on which Python's
patch_splitMax never returns (Match_MaxBits - 2 * Patch_Margin <= 0) are not generated.
"""

import argparse
import gzip
import io
import json
import os
import random
import signal
import sys

import diff_match_patch as dmp_module

DMP = dmp_module.diff_match_patch

WORDS = (
    "the quick brown fox jumps over lazy dog lorem ipsum dolor sit amet consectetur "
    "adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua "
    "markdown code block sync server patch diff match apply hunk context line text "
    "a an is it of to in on at by we you they this that with from have has"
).split()

UNICODE_TOKENS = [
    "café", "naïve", "résumé", "Ångström", "straße", "日本語", "中文字符", "한국어",
    "Ελληνικά", "русский", "עברית", "العربية", "हिन्दी", "😀", "𝄞", "👩\u200d💻",
    "🇫🇷", "e\u0301", "a\u0308\u0304", "\u00a0", "\u2028", "\u200b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "🙂🙃", "ﬁ", "Ⅻ", "①", "٣٤", "𝟘𝟙", "\u3000", "\u0085", "ǅ", "ß", "İ", "ﷺ",
    "\U0001F600\U0001F601", "\U00010348", "\U0010FFFD", "\uFEFF", "\u202E",
]

SPECIAL_CHARS = "%+#?&=;:/\\\"'`{}[]<>^|~!*()$,@ \t."
PERCENTY = [
    "%", "%%", "%41", "%zz", "%E2%82%AC", "%0A", "100%", "a+b", "#", "?", "&amp;",
    "%2", "%%%", "%25", "+%20+", "50% off", "%c3%a9",
]

CODE_TEMPLATES = [
    "let {v} = {f}({a}, {b})",
    "if ({v} && {w}) {{",
    "}}",
    "for {v} in 0..<{n} {{",
    "    return {v} + {w}",
    "\tprintf(\"%d\\n\", {v});",
    "// {c}",
    "# {c}",
    "def {f}({v}, {w}):",
    "    {v} = {w} * {n}  # {c}",
    "```swift",
    "```",
    "<div class=\"{v}\">{c}</div>",
    "SELECT {v}, {w} FROM t WHERE x = '{c}';",
    "{v}: [{n}, {n}, {n}]",
    "",
]


def word(rng):
    return rng.choice(WORDS)


def ident(rng):
    return rng.choice(["x", "y", "value", "count", "name", "buf", "i", "j", "total", "α", "résultat"]) + (
        str(rng.randint(0, 99)) if rng.random() < 0.3 else ""
    )


def gen_prose(rng, n):
    out = []
    for i in range(n):
        w = word(rng)
        if rng.random() < 0.1:
            w = w.capitalize()
        out.append(w)
        r = rng.random()
        if r < 0.08:
            out.append(". ")
        elif r < 0.12:
            out.append(", ")
        elif r < 0.16:
            out.append("\n")
        elif r < 0.18:
            out.append("\n\n")
        elif r < 0.19:
            out.append("\r\n")
        else:
            out.append(" ")
    return "".join(out)


def gen_code(rng, n_lines):
    eol = rng.choice(["\n", "\n", "\n", "\r\n"])
    lines = []
    for _ in range(n_lines):
        t = rng.choice(CODE_TEMPLATES)
        line = t.format(
            v=ident(rng), w=ident(rng), f=ident(rng), a=ident(rng), b=ident(rng),
            n=rng.randint(0, 1000), c=gen_prose(rng, rng.randint(1, 6)).replace("\n", " ").replace("\r", ""),
        )
        if rng.random() < 0.2:
            line = rng.choice(["\t", "  ", "    ", "\t\t"]) + line
        lines.append(line)
    text = eol.join(lines)
    if rng.random() < 0.7:
        text += eol
    return text


def gen_unicode(rng, n):
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            out.append(rng.choice(UNICODE_TOKENS))
        elif r < 0.8:
            out.append(word(rng))
        elif r < 0.9:
            out.append(" ")
        else:
            out.append(rng.choice(["\n", "\r\n", "\t"]))
    return "".join(out)


def gen_special(rng, n):
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.4:
            out.append(rng.choice(SPECIAL_CHARS))
        elif r < 0.6:
            out.append(rng.choice(PERCENTY))
        elif r < 0.9:
            out.append(word(rng))
        else:
            out.append(rng.choice(["\n", "\r\n", "\t", " "]))
    return "".join(out)


def gen_repeat(rng):
    r = rng.random()
    if r < 0.4:
        lines = [gen_prose(rng, rng.randint(1, 5)).replace("\n", " ") for _ in range(rng.randint(1, 3))]
        return "".join(rng.choice(lines) + "\n" for _ in range(rng.randint(3, 40)))
    if r < 0.7:
        unit = rng.choice(["a", "ab", "abc", "-=", "xyz ", "😀", "\n", " ", "aaab"])
        return unit * rng.randint(3, 150)
    return ("{}\n".format(gen_code(rng, 1).strip()) * rng.randint(2, 15)) + gen_code(rng, rng.randint(1, 5))


def gen_long_line(rng):
    n = rng.randint(300, 800)
    return gen_prose(rng, n).replace("\n", " ").replace("\r", " ")


def gen_controls(rng, n):
    pool = [chr(c) for c in range(0, 32)] + ["\x7f", "\x85", "\x01\x02\x03\x04", "\x04", "\x01"]
    out = []
    for _ in range(n):
        if rng.random() < 0.35:
            out.append(rng.choice(pool))
        else:
            out.append(word(rng) + " ")
    return "".join(out)


def gen_text(rng, flavor=None, size=None):
    flavor = flavor or rng.choices(
        ["prose", "code", "unicode", "special", "repeat", "long", "controls", "mixed", "tiny"],
        weights=[16, 16, 14, 10, 8, 4, 4, 12, 8],
    )[0]
    size = size or rng.choice([2, 5, 10, 20, 40, 80, 150])
    if flavor == "prose":
        return gen_prose(rng, size)
    if flavor == "code":
        return gen_code(rng, max(1, size // 4))
    if flavor == "unicode":
        return gen_unicode(rng, size)
    if flavor == "special":
        return gen_special(rng, size)
    if flavor == "repeat":
        return gen_repeat(rng)
    if flavor == "long":
        return gen_long_line(rng)
    if flavor == "controls":
        return gen_controls(rng, size)
    if flavor == "tiny":
        return "".join(rng.choice("ab c\n😀é%") for _ in range(rng.randint(0, 6)))
    parts = [gen_text(rng, rng.choice(["prose", "code", "unicode", "special"]), max(2, size // 3)) for _ in range(3)]
    return "".join(parts)


def snippet(rng):
    r = rng.random()
    if r < 0.3:
        return "".join(rng.choice("abcdefghij xyz😀é\n%+#") for _ in range(rng.randint(1, 4)))
    return gen_text(rng, rng.choice(["prose", "unicode", "special", "code", "tiny"]), rng.choice([1, 2, 4, 8]))


def edit_random(rng, text, k):
    for _ in range(k):
        pos = rng.randint(0, len(text))
        op = rng.random()
        if op < 0.4:
            text = text[:pos] + snippet(rng) + text[pos:]
        elif op < 0.7:
            text = text[:pos] + text[pos + rng.randint(1, 20):]
        else:
            text = text[:pos] + snippet(rng) + text[pos + rng.randint(1, 10):]
    return text


def one_char(rng, text):
    if not text:
        return rng.choice("xé😀")
    pos = rng.randrange(len(text))
    r = rng.random()
    c = rng.choice("xyzé😀%\n ")
    if r < 0.4:
        return text[:pos] + c + text[pos + 1:]
    if r < 0.7:
        return text[:pos] + c + text[pos:]
    return text[:pos] + text[pos + 1:]


def line_ops(rng, text):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        r = rng.random()
        i = rng.randrange(len(lines))
        if r < 0.3:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif r < 0.55 and len(lines) > 1:
            del lines[i]
        elif r < 0.8:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines.insert(i, gen_prose(rng, rng.randint(1, 8)).replace("\n", " "))
    return "\n".join(lines)


def mutate(rng, a):
    r = rng.random()
    if r < 0.3:
        return edit_random(rng, a, rng.randint(1, 6))
    if r < 0.45:
        return one_char(rng, a)
    if r < 0.6:
        return line_ops(rng, a)
    if r < 0.65:
        return a.replace("\r\n", "\n") if "\r\n" in a else a.replace("\n", "\r\n")
    if r < 0.7:
        return "".join(w.upper() if rng.random() < 0.3 else w for w in a.split(" ")) if " " in a else a.upper()
    if r < 0.75:
        return snippet(rng) + a + snippet(rng)
    if r < 0.8:
        return ""
    if r < 0.85:
        return gen_text(rng, size=rng.choice([2, 5, 10, 20]))
    if r < 0.88:
        return a
    return edit_random(rng, a, rng.randint(6, 20))


SETTINGS_POOL = [
    {"Match_Threshold": 0.3},
    {"Match_Threshold": 0.8},
    {"Match_Threshold": 0.0},
    {"Match_Distance": 0},
    {"Match_Distance": 10},
    {"Match_Distance": 100000},
    {"Patch_DeleteThreshold": 0.1},
    {"Patch_DeleteThreshold": 0.9},
    {"Patch_Margin": 2},
    {"Patch_Margin": 8},
    {"Match_MaxBits": 16},
    {"Match_MaxBits": 64},
    {"Diff_EditCost": 6},
    {"Diff_EditCost": 2},
    {"Match_Threshold": 0.6, "Match_Distance": 50, "Patch_Margin": 3},
]


def valid_settings(settings):
    """Python's patch_splitMax loops forever when Match_MaxBits leaves no room for context."""
    s = settings or {}
    bits = s.get("Match_MaxBits", 32)
    margin = s.get("Patch_Margin", 4)
    return bits == 0 or bits - 2 * margin > 0


def make_dmp(settings):
    d = DMP()
    for k, v in (settings or {}).items():
        setattr(d, k, v)
    return d


def diffs_json(diffs):
    return [[op, text] for op, text in diffs]


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


class TickClock:
    """Stands in for the `time` module inside diff_match_patch: the clock never advances
    (so Diff_Timeout never fires and results do not depend on machine speed), and every
    call is counted. diff_bisect reads the clock once per edit distance step, so the count
    is a deterministic measure of diff work."""

    def __init__(self):
        self.calls = 0

    def time(self):
        self.calls += 1
        return 0.0


CLOCK = TickClock()
sys.modules[DMP.__module__].time = CLOCK

# Cases whose diffs need more bisect steps than this are dropped, so that no real
# implementation gets near the 1 s timeout on them.
WORK_BUDGET = 4000


def timed(fn):
    """Runs fn; returns (ok, result). Not ok when the diff work exceeds WORK_BUDGET, or when
    Python is still running after 20 s (its infinite loops, avoided by valid_settings)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, 20.0)
    CLOCK.calls = 0
    try:
        result = fn()
    except Timeout:
        return False, None  # Python loops forever on this input (e.g. patch_splitMax).
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return CLOCK.calls <= WORK_BUDGET, result


def drift_target(rng, a):
    r = rng.random()
    if r < 0.25:
        # Shift everything: text inserted or removed at the start.
        if rng.random() < 0.5 or not a:
            return gen_text(rng, size=rng.choice([2, 10, 40])) + a
        return a[rng.randint(1, min(len(a), 60)):]
    if r < 0.5:
        return edit_random(rng, a, rng.randint(1, 4))
    if r < 0.7:
        # Typos sprinkled through the text.
        t = a
        for _ in range(rng.randint(1, 5)):
            t = one_char(rng, t)
        return t
    if r < 0.8:
        return a[: len(a) // 2]
    if r < 0.9:
        return gen_text(rng, size=rng.choice([5, 20, 60]))
    return ""


def build_patch_cases(rng, count):
    cases = []
    while len(cases) < count:
        a = gen_text(rng)
        b = mutate(rng, a)
        if rng.random() < 0.1:
            a, b = b, a
        settings = rng.choice(SETTINGS_POOL) if rng.random() < 0.12 else None
        d = make_dmp(settings)
        ok, text = timed(lambda: d.patch_toText(d.patch_make(a, b)))
        if ok:
            cases.append([a, b, settings, text])
    return cases


def build_apply_cases(rng, patch_cases):
    cases = []
    for index, (a, b, settings, patch_text) in enumerate(patch_cases):
        if not patch_text:
            continue
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            r = rng.random()
            if r < 0.25:
                target = None
            elif r < 0.3:
                target = b
            else:
                target = drift_target(rng, a)
            apply_settings = settings
            if rng.random() < 0.15:
                apply_settings = dict(settings or {})
                apply_settings.update(rng.choice(SETTINGS_POOL + [{"Match_MaxBits": 0}]))
                if not valid_settings(apply_settings):
                    apply_settings = settings
            d_apply = make_dmp(apply_settings)
            actual_target = a if target is None else target

            def run():
                patches = d_apply.patch_fromText(patch_text)
                return d_apply.patch_apply(patches, actual_target)

            ok, result = timed(run)
            if ok:
                text, flags = result
                cases.append([index, target, apply_settings, text, flags])
    return cases


def build_diff_cases(rng, count):
    cases = []
    while len(cases) < count:
        a = gen_text(rng)
        b = mutate(rng, a)
        checklines = rng.random() < 0.6
        settings = None
        if rng.random() < 0.1 and len(a) + len(b) < 400:
            settings = {"Diff_Timeout": 0}
        elif rng.random() < 0.05:
            settings = {"Diff_EditCost": rng.choice([2, 6])}
        d = make_dmp(settings)

        def run():
            diffs = d.diff_main(a, b, checklines)
            sem = list(diffs)
            d.diff_cleanupSemantic(sem)
            eff = list(diffs)
            d.diff_cleanupEfficiency(eff)
            los = list(diffs)
            d.diff_cleanupSemanticLossless(los)
            return diffs, sem, eff, los, d.diff_toDelta(diffs)

        ok, result = timed(run)
        if ok:
            diffs, sem, eff, los, delta = result
            same = lambda other: None if other == diffs else diffs_json(other)
            cases.append([a, b, checklines, settings, diffs_json(diffs), same(sem), same(eff), same(los), delta])
    return cases


def random_diffs(rng):
    diffs = []
    for _ in range(rng.randint(0, 9)):
        op = rng.choice([-1, 0, 1, 0])
        r = rng.random()
        if r < 0.08:
            text = ""
        elif r < 0.5:
            text = "".join(rng.choice("abAB xy.\n\r-=😀é") for _ in range(rng.randint(1, 6)))
        else:
            text = gen_text(rng, rng.choice(["prose", "unicode", "special", "tiny"]), rng.choice([1, 2, 4]))
        diffs.append((op, text))
    return diffs


def build_cleanup_cases(rng, count):
    cases = []
    while len(cases) < count:
        diffs = random_diffs(rng)
        settings = {"Diff_EditCost": rng.choice([2, 5, 6])} if rng.random() < 0.15 else None
        d = make_dmp(settings)

        def run():
            merge = list(diffs)
            d.diff_cleanupMerge(merge)
            sem = list(diffs)
            d.diff_cleanupSemantic(sem)
            eff = list(diffs)
            d.diff_cleanupEfficiency(eff)
            los = list(diffs)
            d.diff_cleanupSemanticLossless(los)
            lev = d.diff_levenshtein(diffs)
            xs = []
            if diffs:
                total = len(d.diff_text1(diffs))
                for loc in sorted(set([0, total, total + 3] + [rng.randint(0, total + 2) for _ in range(3)])):
                    xs.append([loc, d.diff_xIndex(diffs, loc)])
            return merge, sem, eff, los, lev, xs

        ok, result = timed(run)
        if ok:
            merge, sem, eff, los, lev, xs = result
            cases.append([diffs_json(diffs), settings, diffs_json(merge), diffs_json(sem), diffs_json(eff), diffs_json(los), lev, xs])
    return cases


def build_match_cases(rng, count):
    cases = []
    total = 0
    while total < count:
        text = gen_text(rng, size=rng.choice([5, 20, 60, 120, 200]))
        queries = []
        for _ in range(rng.randint(2, 6)):
            r = rng.random()
            if r < 0.08:
                pattern = gen_text(rng, "tiny")
            elif r < 0.15:
                pattern = snippet(rng)
            else:
                length = rng.choice([1, 2, 3, 5, 8, 13, 20, 32, 32, 40, 64, 65, 90])
                start = rng.randint(0, max(0, len(text) - 1))
                pattern = text[start : start + length]
                for _ in range(rng.choice([0, 0, 1, 2, 3])):
                    pattern = one_char(rng, pattern)
            if not pattern and rng.random() < 0.8:
                continue
            base = text.find(pattern[:3]) if pattern else 0
            r = rng.random()
            if r < 0.6:
                loc = max(0, base) + rng.randint(-40, 40)
            elif r < 0.9:
                loc = rng.randint(0, len(text) + 5)
            else:
                loc = rng.choice([-5, 0, len(text), len(text) + 50])
            settings = rng.choice(SETTINGS_POOL) if rng.random() < 0.25 else None
            d = make_dmp(settings)
            ok, result = timed(lambda: d.match_main(text, pattern, loc))
            if ok:
                queries.append([pattern, loc, settings, result])
        if queries:
            cases.append([text, queries])
            total += len(queries)
    return cases


HEADER_MUTATIONS = [
    "@@ -1,2 +1,2 @@ ", "@@ -a,b +c,d @@", "@@ -\u0661,\u0662 +\u0661,\u0662 @@", "@@ -1, +1, @@",
    "@@ -00,0 +0,00 @@", "@@ -1,2 +1,2 @@\r", "@@  -1 +1 @@", "@@ -1 +1 @", "@@ -1 +1 @@@",
    "@@ -0 +0 @@", "@@ -1,1 +1,1 @@", "@@ -12 +\U0001D7D9\U0001D7DA @@", "@@ -1,2,3 +1 @@",
    "@@ -3,0 +3,0 @@", "@@ -\u0968 +\u0968,\u0966 @@", "@@ -+1 +1 @@", "@@ --1 +1 @@", "@@ -1 +1 @@x",
    "@@ -\u0660 +\u0660 @@", "@@ -1_0 +1 @@", " @@ -1 +1 @@",
]

PERCENT_MUTATIONS = [
    "%", "%4", "%zz", "%E2%82", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%F0%9F%98", "%c3%a9",
    "%E2\u00e9%82%AC", "%e2%82%ac", "%C0%80", "%FF", "%80", "%F0%9F%98%80", "%%41", "%4%41",
    "%0", "%G1", "%2B", "%20", "\u00e9%A9", "%E2%82%AC\U0001F600%E2", "%EF%BB%BF", "%00",
]

BODY_MUTATIONS = ["*x", "\tx", "\u00e9t\u00e9", "=x", "", "", "@", "+", "-", " ", "+\r", " a b "]


def build_fromtext_cases(rng, patch_cases, count):
    sources = [c[3] for c in patch_cases if c[3] and len(c[3]) < 600]
    cases = []
    fixed = [
        "", "\n", "\n\n", "Bad\nPatch\n", "@@ -0,0 +0,0 @@\n", "@@ -0,0 +0,0 @@", "@@ -1 +1 @@\n\n\n-a\n\n+b\n",
        "@@ -21,18 +22,17 @@\n jump\n-s\n+ed\n  over \n-the\n+a\n %0Alaz\n",
        "@@ -1 +1 @@\n-a\n+b\n@@ -5 +5 @@\n-c\n+d",
        "@@ -1 +1 @@\n-a\n@@ bad\n", "@@ -1 +1 @@\r\n-a\r\n",
    ]
    for t in fixed:
        cases.append(t)
    while len(cases) < count:
        base = rng.choice(sources) if sources else "@@ -1 +1 @@\n-a\n+b\n"
        lines = base.split("\n")
        for _ in range(rng.randint(1, 3)):
            r = rng.random()
            i = rng.randrange(len(lines))
            if r < 0.5:
                # Percent trouble inside a body line.
                if lines[i] and lines[i][0] in "+- ":
                    pos = rng.randint(1, len(lines[i]))
                    lines[i] = lines[i][:pos] + rng.choice(PERCENT_MUTATIONS) + lines[i][pos:]
                else:
                    lines.insert(i + 1 if i < len(lines) else i, rng.choice("+- ") + rng.choice(PERCENT_MUTATIONS))
            elif r < 0.7:
                header_indices = [k for k, l in enumerate(lines) if l.startswith("@@")]
                if header_indices and rng.random() < 0.8:
                    lines[rng.choice(header_indices)] = rng.choice(HEADER_MUTATIONS)
                else:
                    lines.insert(i, rng.choice(HEADER_MUTATIONS))
            elif r < 0.9:
                lines.insert(max(1, i), rng.choice(BODY_MUTATIONS))
            else:
                lines.append("")
        cases.append("\n".join(lines))
    result = []
    d = DMP()
    for t in cases:
        try:
            patches = d.patch_fromText(t)
            expected = {
                "patches": [[p.start1, p.start2, p.length1, p.length2, diffs_json(p.diffs)] for p in patches],
                "text": d.patch_toText(patches),
            }
        except ValueError as e:
            msg = str(e)
            if msg.startswith("Invalid patch string"):
                expected = {"error": "header"}
            elif msg.startswith("Invalid patch mode"):
                expected = {"error": "mode"}
            else:
                raise
        result.append([t, expected])
    return result


def build_delta_cases(rng, diff_cases, count):
    cases = []
    d = DMP()
    fixed = [
        ("jumps over the lazy", "=4\t-1\t+ed\t=6\t-3\t+a\t=5\t+old dog"),
        ("jumps over the lazyx", "=4\t-1\t+ed\t=6\t-3\t+a\t=5\t+old dog"),
        ("umps over the lazy", "=4\t-1\t+ed\t=6\t-3\t+a\t=5\t+old dog"),
        ("\U0001F64B\U0001F64B", "=2\t+%F0%9F%99%8C\t=2"),
        ("\U0001F64B\U0001F64B", "=1\t+x\t=3"),
        ("\U0001F64B\U0001F64B", "=3\t=1"),
        ("abc", "= 3"), ("abc", "=+3"), ("abc", "=0_3"), ("abc", "=\u0663"), ("abc", "=3_"),
        ("abc", "=-3"), ("abc", "=-0\t=3"), ("abc", "=x"), ("abc", "*3"), ("abc", "=3\t\t"),
        ("abc", "\t=3"), ("abc", "=1\t+%zz%E2%82\t=2"), ("abc", "=5"), ("abc", "=1\t-9"), ("", ""),
        ("", "+"), ("abc", "=3\t+"), ("a\U0001F600b", "=2\t-1\t=1"), ("a\U0001F600b", "=1\t-2\t=1"),
        ("abc", "=1\t=\t=2"), ("abc", "-3 "),
    ]
    for text1, delta in fixed:
        cases.append((text1, delta))
    pool = [c for c in diff_cases if len(c[0]) < 400]
    while len(cases) < count and pool:
        c = rng.choice(pool)
        text1, delta = c[0], c[8]
        tokens = delta.split("\t")
        if tokens and rng.random() < 0.7:
            i = rng.randrange(len(tokens))
            tok = tokens[i]
            r = rng.random()
            if r < 0.3 and tok and tok[0] in "=-":
                tokens[i] = tok[0] + str(max(0, int(tok[1:]) + rng.choice([-1, 1, 2])))
            elif r < 0.5:
                tokens.insert(i, rng.choice(["", "=0", "-0", "+", "+%", "+%E2", "x1", "=a"]))
            elif r < 0.7:
                del tokens[i]
            else:
                tokens[i] = tok + rng.choice(PERCENT_MUTATIONS) if tok[:1] == "+" else tok
        cases.append((text1, "\t".join(tokens)))
    result = []
    for text1, delta in cases:
        try:
            expected = {"diffs": diffs_json(d.diff_fromDelta(text1, delta))}
        except UnicodeDecodeError:
            expected = {"error": "surrogate"}
        except ValueError as e:
            msg = str(e)
            kind = None
            for prefix, k in [("Invalid number", "number"), ("Negative number", "negative"),
                              ("Invalid diff operation", "operation"), ("Delta length", "length")]:
                if msg.startswith(prefix):
                    kind = k
            if kind is None:
                raise
            expected = {"error": kind}
        result.append([text1, delta, expected])
    return result


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "Tests", "MarksyncCoreTests", "Fixtures", "dmp-vectors.json.gz"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--seed", type=int, default=20241021)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    patch_cases = build_patch_cases(rng, 2500)
    apply_cases = build_apply_cases(rng, patch_cases)
    diff_cases = build_diff_cases(rng, 1500)
    cleanup_cases = build_cleanup_cases(rng, 800)
    match_cases = build_match_cases(rng, 2500)
    fromtext_cases = build_fromtext_cases(rng, patch_cases, 600)
    delta_cases = build_delta_cases(rng, diff_cases, 300)

    data = {
        "meta": {
            "generator": "tools/gen-dmp-vectors.py",
            "python": sys.version.split()[0],
            "diff_match_patch": getattr(dmp_module, "__version__", "20241021"),
            "seed": args.seed,
        },
        "patch": patch_cases,
        "apply": apply_cases,
        "diff": diff_cases,
        "cleanup": cleanup_cases,
        "match": match_cases,
        "fromtext": fromtext_cases,
        "delta": delta_cases,
    }
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(payload)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(buffer.getvalue())
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    print("wrote %s: %d bytes compressed, %d bytes JSON, %s" % (args.out, len(buffer.getvalue()), len(payload), counts))


if __name__ == "__main__":
    main()
