#!/usr/bin/env python3
"""`make help` as a user and a script see it: piped, it prints no escape codes; on a terminal it does (so
the first check is not vacuous); every documented target and every `VAR ?= default` of the Makefile is
listed, each variable with a description and its default.

Usage: scripts/check-make-help.py [MAKEFILE]   (default: the repository's Makefile)

Prints `ok`/`not ok` lines and `# pass N` / `# fail N`, which `make test` counts; exits 1 on a failure.
"""

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
makefile = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "Makefile"
text = makefile.read_text()
command = ["make", "--no-print-directory", "-f", str(makefile), "help"]
env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}")
    if not ok and detail:
        for line in detail.splitlines():
            print(f"  # {line}")


piped = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
check("make help succeeds when piped", piped.returncode == 0, piped.stderr)
output = piped.stdout
escapes = [line for line in output.splitlines() if "\x1b" in line]
check("piped, make help prints no escape codes", not escapes, "\n".join(repr(l) for l in escapes[:5]))


def on_terminal():
    """make help's output with stdout on a pseudo-terminal."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execvpe(command[0], command, env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode(errors="replace")


check("on a terminal, make help is in colour (the piped check is not vacuous)", "\x1b[" in on_terminal())

targets = re.findall(r"^([a-zA-Z_-]+):.*## ", text, re.MULTILINE)
missing = [t for t in targets if not re.search(rf"^  {re.escape(t)}\s+\S", output, re.MULTILINE)]
check(f"every documented target is listed ({len(targets)})", not missing, f"missing: {missing}")

variables = re.findall(r"^([A-Z_][A-Z0-9_]*)\s*\?=\s*(.*)$", text, re.MULTILINE)
problems = []
for name, default in variables:
    line = re.search(rf"^  {name}\s+(.*)$", output, re.MULTILINE)
    if not line:
        problems.append(f"{name} is not listed")
    elif "(undocumented)" in line.group(1) or not line.group(1).strip():
        problems.append(f"{name} has no description: put a `## ...` line right above `{name} ?=`")
    elif not line.group(1).rstrip().endswith(f"[{default.strip()}]"):
        problems.append(f"{name} does not show its default [{default.strip()}]: {line.group(1)!r}")
check(
    f"every ?= variable is listed with a description and its default ({len(variables)})",
    bool(variables) and not problems,
    "\n".join(problems) or "no ?= variable found",
)

passed = sum(results)
print(f"# pass {passed}")
print(f"# fail {len(results) - passed}")
sys.exit(0 if all(results) else 1)
