#!/usr/bin/env python3
"""Runs the shell commands of README.md's "Quick start" and "Commands" sections against a copy of the
examples, so that the README cannot drift from the tool. Used by Tests/MarksyncCLITests/ReadmeCommandsTests.swift.

usage: readme-commands.py BINARY [--readme README.md] [--python PYTHON] [--list]

Every line of the sections' ```sh blocks is a command (comments and `make …` lines aside: CI runs
`make test` itself, and `make serve` is `serve` on a copy of an example, run here directly):
  * `$M` is the binary; `…` the log of the ingested example; `cd` moves the later lines; `[--opt value]` is kept, unless it lists
    alternatives (`a | b`) or has a placeholder in capitals (`URL`, `F`);
  * the ports 8765 and 8080 become free ones; `marksync` (the Python seed) runs from PYTHON;
  * a command that serves or follows (`serve`, `watch`, `agent`, `orchestrate` without --dry-run, `api`,
    `curl -N`) must still be running after 3 s, and then stops on SIGTERM; `serve` must say `listening`
    first; the `shell` REPL reads `HELP` and `STATUS` from its input; every other command must exit 0
    within 60 s.
Prints one JSON line per command; exits 1 when any failed, naming it and its output.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

LONG_RUNNING = ("serve", "watch", "agent", "orchestrate", "api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sections(readme):
    """The ```sh blocks of the Quick start and Commands sections, as (section, line) pairs."""
    out, section, in_block = [], None, False
    for line in open(readme, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if section not in ("Quick start", "Commands"):
            continue
        if line.startswith("```"):
            in_block = line.strip() == "```sh" if not in_block else False
            continue
        if in_block:
            out.append((section, line))
    return out


def strip_comment(line):
    """Drops a trailing `# comment` outside quotes."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] == " "):
            return line[:i].rstrip()
    return line.rstrip()


def expand_brackets(line):
    def keep(match):
        inner = match.group(1)
        if "|" in inner or re.search(r"\b[A-Z]{1,5}\b", inner) or "…" in inner:
            return ""
        return inner
    return re.sub(r"\[([^\]]*)\]", keep, line)


def main():
    binary = os.path.abspath(sys.argv[1])
    readme = sys.argv[sys.argv.index("--readme") + 1] if "--readme" in sys.argv else os.path.join(os.path.dirname(__file__), "..", "README.md")
    readme = os.path.abspath(readme)
    python = sys.argv[sys.argv.index("--python") + 1] if "--python" in sys.argv else os.environ.get("PYTHON", "python3")
    repo = os.path.dirname(readme)
    work = tempfile.mkdtemp(prefix="readme-commands-")
    shutil.copytree(os.path.join(repo, "examples"), os.path.join(work, "examples"))
    demo = os.path.join(work, ".demo", "task-manager-api")
    os.makedirs(demo)
    shutil.copy(os.path.join(repo, "examples", "task-manager-api", "README.md"), os.path.join(demo, "README.md"))
    shutil.copy(os.path.join(repo, "examples", "task-manager-api", "README.md"), os.path.join(work, "README.md"))
    home = os.path.join(work, "home")
    env = dict(os.environ, MARKSYNC_HOME=home, NO_COLOR="1", PAGER="cat")
    # The seed's `marksync` command from PYTHON's environment, first on the PATH.
    seed_bin = subprocess.run([python, "-c", "import sys, os; print(os.path.dirname(sys.executable))"], capture_output=True, text=True).stdout.strip()
    env["PATH"] = seed_bin + os.pathsep + env.get("PATH", "")
    sync_port, api_port = free_port(), free_port()
    db = os.path.join(work, "examples", "task-manager-api", ".marksync", "log.db")

    def substitute(command):
        command = command.replace("$M", binary).replace("…", db)
        command = command.replace("8765", str(sync_port)).replace("8080", str(api_port))
        return command

    lines = [(s, strip_comment(l)) for s, l in sections(readme)]
    commands = []
    for section, line in lines:
        if not line or line.startswith("M=") or line.startswith("make "):
            continue
        commands.append((section, substitute(expand_brackets(line)).strip()))
    if "--list" in sys.argv:
        for section, command in commands:
            print(json.dumps({"section": section, "command": command}))
        return 0

    failures = []
    background = []

    def record(section, command, ok, **fields):
        print(json.dumps(dict(section=section, command=command, ok=ok, **fields)), flush=True)
        if not ok:
            failures.append((command, fields))

    # The Quick start talks to `make serve`: the same `serve`, on the copy in .demo/.
    quick = [c for s, c in commands if s == "Quick start"]
    server = None
    if quick:
        server = start([binary, "serve", os.path.join(demo, "README.md"), "--port", str(sync_port)], work, env, shell=False)
        if not wait_listening(server):
            print("FAILED: the server of the quick start did not start:\n" + finish(server), file=sys.stderr)
            return 1

    cwd = work
    for section, command in commands:
        words = command.split()
        if words and words[0] == "cd" and len(words) == 2:
            # `cd` applies to the lines after it, as in a terminal.
            cwd = os.path.normpath(os.path.join(cwd, words[1]))
            record(section, command, os.path.isdir(cwd))
            continue
        verb = words[1] if words and words[0] == binary and len(words) > 1 else (words[0] if words else "")
        long_running = (words and words[0] == binary and verb in LONG_RUNNING
                        and not (verb == "orchestrate" and "--dry-run" in words)
                        and not (verb == "orchestrate" and "--export-dsl" in words)
                        and not (verb == "shell" and "--script" in words)) or command.startswith("curl -N")
        if section == "Commands" and server is not None and verb == "serve":
            # The Commands section starts its own server on the same port.
            stop(server)
            server = None
        if long_running:
            process = start(command, cwd, env)
            if verb == "serve":
                said = wait_listening(process)
                if not said:
                    record(section, command, False, output=finish(process))
                    continue
                background.append(process)
                record(section, command, True, kept_running=True)
                continue
            time.sleep(3)
            if process.poll() is not None:
                record(section, command, False, exit=process.returncode, output=finish(process))
            else:
                finish(process)
                record(section, command, True, ran_for="3 s")
            continue
        try:
            repl = verb == "shell" and "--script" not in words
            run = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env, input="HELP\nSTATUS\n" if repl else "",
                                 capture_output=True, text=True, timeout=60)
            if repl and run.returncode == 0 and "AGENT" not in run.stdout:
                record(section, command, False, output="the REPL did not answer HELP: " + (run.stdout + run.stderr)[-1500:])
                continue
        except subprocess.TimeoutExpired:
            record(section, command, False, error="still running after 60 s")
            continue
        # `| head` may end the writer early (SIGPIPE, 141): the command itself ran.
        ok = run.returncode == 0 or (run.returncode == 141 and "| head" in command)
        record(section, command, ok, exit=run.returncode, output=(run.stdout + run.stderr)[-1500:])

    for process in background + ([server] if server else []):
        stop(process)
    if failures:
        for command, fields in failures:
            print("FAILED: %s\n%s" % (command, fields.get("output") or fields.get("error") or ""), file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


class Output:
    """Collects a background process's output on a thread (readable while it runs)."""

    def __init__(self, process):
        self.text = ""
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process):
        for line in process.stdout:
            self.text += line


def wait_listening(process, timeout=60):
    """Waits until the server says `listening` (True), or it ends or the time is up (False)."""
    output = process.collected
    deadline = time.time() + timeout
    while time.time() < deadline:
        if "listening" in output.text:
            return True
        if process.poll() is not None:
            time.sleep(0.2)
            return "listening" in output.text
        time.sleep(0.05)
    return False


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def finish(process):
    if process.poll() is None:
        stop(process)
    process.collected.thread.join(timeout=5)
    return process.collected.text[-1500:]


def start(command, cwd, env, shell=True):
    process = subprocess.Popen(["bash", "-c", command] if shell else command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    process.collected = Output(process)
    return process


if __name__ == "__main__":
    sys.exit(main())
