#!/usr/bin/env python3
"""Tests of scripts/dev-watch.py (`make watch`), run by `make test`: the real script on a temporary folder,
with a shell script as the build (it fails on demand, and like cargo rewrites the program only when the
sources change it) and a shell script as the program (a parent and a child, as `chat-dev` and its
moto_server). Nothing is mocked inside the script: processes, signals and file times are real.

Usage: scripts/test_dev_watch.py   (prints unittest's report, then `scripts: N passed, M failed`)
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "dev-watch.py"
WAIT = 30.0  # seconds before a wait gives up: generous, nothing here measures speed

BUILD = """#!/bin/sh
echo build >> builds.log
if [ -e slow ]; then sleep 1000; fi
if [ -e fail ]; then echo "error[E0425]: broken on purpose" >&2; exit 1; fi
if ! cmp -s src/code.txt last-built.txt; then
    cp src/code.txt last-built.txt
    cp program.template program
    chmod +x program
fi
"""

PROGRAM = """#!/bin/sh
sleep 1000 &
echo "$$ $!" >> started.log
wait
"""

STUBBORN = """#!/bin/sh
trap '' TERM
sleep 1000 &
echo "$$ $!" >> started.log
while :; do wait; done
"""


def alive(pid):
    """Whether `pid` runs (a zombie waiting for its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class DevWatchTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="dev-watch-test-"))
        (self.dir / "src").mkdir()
        (self.dir / "web").mkdir()
        (self.dir / "src" / "code.txt").write_text("version 1\n")
        (self.dir / "build.sh").write_text(BUILD)
        (self.dir / "program.template").write_text(PROGRAM)
        self.watcher = None

    def tearDown(self):
        if self.watcher is not None and self.watcher.poll() is None:
            self.watcher.kill()
            self.watcher.wait()
        # Whatever a failed test left running.
        for pid in self.pids("started.log"):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        subprocess.run(["rm", "-rf", str(self.dir)], check=True)

    def start(self, *extra, settle="0.2"):
        command = [
            sys.executable, str(SCRIPT), "--interval", "0.1", "--settle", settle, "--grace", "1",
            "--watch", "src", "--build", "sh build.sh", *extra, "--", "./program",
        ]
        self.log = open(self.dir / "watch.log", "w")
        self.addCleanup(self.log.close)
        self.watcher = subprocess.Popen(command, cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)

    def lines(self, name):
        path = self.dir / name
        return path.read_text().splitlines() if path.exists() else []

    def pids(self, name):
        return [int(pid) for line in self.lines(name) for pid in line.split()]

    def output(self):
        return (self.dir / "watch.log").read_text()

    def started(self, count):
        wait_until(lambda: len(self.lines("started.log")) >= count, f"start number {count}")
        return [int(pid) for pid in self.lines("started.log")[count - 1].split()]

    def builds(self, count):
        wait_until(lambda: len(self.lines("builds.log")) >= count, f"build number {count}")
        # The watcher acts on a finished build; its report is the sign it did.
        time.sleep(0.5)

    def change(self, text):
        (self.dir / "src" / "code.txt").write_text(text)

    def stop(self, signum=signal.SIGTERM):
        self.watcher.send_signal(signum)
        self.assertEqual(self.watcher.wait(timeout=WAIT), 0, self.output())

    def test_a_change_rebuilds_and_restarts_the_program_and_its_children(self):
        self.start()
        first = self.started(1)
        self.change("version 2\n")
        second = self.started(2)
        self.assertNotEqual(first, second)
        wait_until(lambda: not any(alive(pid) for pid in first), "the first program and its child to end")
        self.assertTrue(all(alive(pid) for pid in second), self.output())
        self.assertIn("changed: src/code.txt", self.output())
        self.stop()

    def test_a_failed_build_keeps_the_last_good_program_and_shows_the_error(self):
        self.start()
        first = self.started(1)
        (self.dir / "fail").touch()
        self.change("version 2, broken\n")
        self.builds(2)
        self.assertEqual(len(self.lines("started.log")), 1, self.output())
        self.assertTrue(all(alive(pid) for pid in first))
        self.assertIn("broken on purpose", self.output())
        self.assertIn("the last good build keeps running", self.output())
        (self.dir / "fail").unlink()
        self.change("version 2, fixed\n")
        self.started(2)
        self.stop()

    def test_a_build_that_leaves_the_program_as_it_was_restarts_nothing(self):
        self.start()
        first = self.started(1)
        (self.dir / "src" / "notes.txt").write_text("not part of the program\n")
        self.builds(2)
        self.assertEqual(len(self.lines("started.log")), 1, self.output())
        self.assertTrue(all(alive(pid) for pid in first))
        self.assertIn("unchanged", self.output())
        self.stop()

    def test_a_burst_of_saves_is_one_build(self):
        # Eight saves over 1.2 s, never 0.5 s apart (a checkout, a formatter): one build, after the last.
        self.start(settle="0.5")
        self.started(1)
        for n in range(7):
            (self.dir / "src" / f"file{n}.txt").write_text(str(n))
            time.sleep(0.15)
        self.change("version 2\n")
        self.builds(2)
        time.sleep(1.5)
        self.assertEqual(len(self.lines("builds.log")), 2, self.output())
        self.assertIn("(and 7 more)", self.output())
        self.stop()

    def test_editor_swap_files_and_hidden_files_are_not_changes(self):
        self.start()
        self.started(1)
        (self.dir / "src" / ".code.txt.swp").write_text("swap")
        (self.dir / "src" / "code.txt~").write_text("backup")
        time.sleep(1.0)
        self.assertEqual(len(self.lines("builds.log")), 1, self.output())
        self.stop()

    def test_on_change_runs_its_command_without_restarting_the_program(self):
        self.start("--on-change", "web", "echo widget >> widget.log")
        first = self.started(1)
        (self.dir / "web" / "index.ts").write_text("export {}\n")
        wait_until(lambda: self.lines("widget.log") == ["widget"], "the widget's build")
        self.assertEqual(len(self.lines("builds.log")), 1, "no Rust build for a widget change")
        self.assertEqual(len(self.lines("started.log")), 1)
        self.assertTrue(all(alive(pid) for pid in first))
        self.stop()

    def test_a_program_that_exits_is_reported_and_started_by_the_next_build(self):
        self.start()
        first = self.started(1)
        os.kill(first[0], signal.SIGKILL)
        wait_until(lambda: "the program exited" in self.output(), "the report of the exit")
        self.change("version 2\n")
        self.started(2)
        self.stop()

    def test_sigint_as_from_ctrl_c_stops_the_program_and_its_children(self):
        self.start()
        program = self.started(1)
        self.stop(signal.SIGINT)
        wait_until(lambda: not any(alive(pid) for pid in program), "nothing left running")

    def test_stopping_during_a_build_stops_the_build_too(self):
        self.start()
        program = self.started(1)
        (self.dir / "slow").touch()
        self.change("version 2\n")
        wait_until(lambda: len(self.lines("builds.log")) == 2, "the slow build")
        self.stop()
        wait_until(lambda: not any(alive(pid) for pid in program), "the program to end")
        leftover = subprocess.run(["pgrep", "-f", f"sh build.sh"], capture_output=True, text=True)
        builds = [pid for pid in leftover.stdout.split() if Path(f"/proc/{pid}/cwd").resolve() == self.dir.resolve()]
        self.assertEqual(builds, [], "no build left behind")

    def test_a_program_that_ignores_sigterm_is_killed_after_the_grace(self):
        (self.dir / "program.template").write_text(STUBBORN)
        self.start()
        program = self.started(1)
        self.stop()
        self.assertIn("did not stop within 1 s", self.output())
        wait_until(lambda: not any(alive(pid) for pid in program), "nothing left running")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"scripts: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
