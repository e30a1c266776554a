#!/usr/bin/env python3
"""Rebuild and restart a program when its sources change (`make watch` runs `chat-dev` under it).

Polls the modification times of the --watch paths (files, or folders walked without their hidden entries,
`target` and `node_modules`). When they change and then hold still for --settle seconds (an editor's save
or a `git checkout` is one change, not fifty), it runs the --build command. On success it stops the
running program (SIGTERM to its process group, SIGKILL after --grace seconds) and starts it again with the
same arguments and environment; when the build leaves the program's file as it was, it keeps the running
one. On a failed build the old program keeps running, and the compiler's output (on this terminal, as the
build runs) says why. Each --on-change FOLDER COMMAND runs COMMAND when FOLDER changes, without a restart
(the widget's build: the backend serves it from disk). A program that exits on its own is reported and
started again at the next successful build. Ctrl-C or SIGTERM stops the build, the program and everything
they started (each runs in a process group of its own), then exits.

Usage: scripts/dev-watch.py --watch PATH [--watch PATH ...] --build COMMAND
                            [--on-change FOLDER COMMAND ...] [--interval 0.5] [--settle 0.3] [--grace 5]
                            -- PROGRAM [ARGUMENT ...]

Standard library only: a fresh clone needs nothing more than `make dev` does.
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SKIPPED_DIRS = {"target", "node_modules"}


def say(message):
    print(f"[watch] {message}", file=sys.stderr, flush=True)


def scan(paths):
    """Every file under `paths` with its modification time and size; missing paths are simply absent."""
    found = {}
    for root in paths:
        root = Path(root)
        if root.is_file():
            entries = [(root.parent, [], [root.name])]
        elif root.is_dir():
            entries = os.walk(root)
        else:
            continue
        for folder, dirs, files in entries:
            dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS]
            for name in files:
                # Editors' swap and backup files are not sources.
                if name.startswith(".") or name.endswith(("~", ".swp", ".swx")):
                    continue
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except FileNotFoundError:
                    continue
                found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def describe(before, after):
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
    return f"{changed[0]}{more}" if changed else "nothing"


def stamp(path):
    try:
        stat = os.stat(path)
    except (FileNotFoundError, TypeError):
        return None
    return (stat.st_mtime_ns, stat.st_size)


class Stopping(Exception):
    """Ctrl-C or SIGTERM."""


class StopSignals:
    """Turns the first Ctrl-C or SIGTERM into `Stopping` (later ones are ignored: nothing may interrupt the
    clean-up), except while a child is being started: `Popen` may have started it without having returned
    it yet, and a signal raised then would leave it running unseen. Such a signal is raised as soon as the
    child is known."""

    def __init__(self):
        self.holding = False
        self.pending = None
        signal.signal(signal.SIGINT, self.arrived)
        signal.signal(signal.SIGTERM, self.arrived)

    def arrived(self, signum, _frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        name = signal.Signals(signum).name
        if self.holding:
            self.pending = name
            return
        raise Stopping(name)

    @contextlib.contextmanager
    def held(self):
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
            if self.pending:
                raise Stopping(self.pending)


def group_alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(process, grace, what):
    """SIGTERM to the process group of `process` (which it leads), SIGKILL to what is left of the group
    after `grace` seconds, and wait for it. A leader that already exited may have left children behind:
    they go the same way."""
    if process is None:
        return
    pgid = process.pid
    if process.poll() is None or group_alive(pgid):
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (process.poll() is None or group_alive(pgid)):
        time.sleep(0.05)
    if process.poll() is None or group_alive(pgid):
        say(f"{what} did not stop within {grace:g} s: killing it")
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


class Watcher:
    def __init__(self, args, signals):
        self.args = args
        self.signals = signals
        self.program = None
        self.program_stamp = None
        self.reported_exit = False
        self.running_command = None

    def run_command(self, command, what):
        """Runs a shell command in its own process group; returns its exit code."""
        with self.signals.held():
            self.running_command = subprocess.Popen(command, shell=True, start_new_session=True)
        try:
            return self.running_command.wait()
        finally:
            stop_group(self.running_command, self.args.grace, what)
            self.running_command = None

    def start(self):
        say("starting: " + " ".join(self.args.program))
        with self.signals.held():
            self.program = subprocess.Popen(self.args.program, start_new_session=True)
        self.program_stamp = stamp(self.args.program[0])
        self.reported_exit = False

    def stop(self):
        if self.program is not None and self.program.poll() is None:
            say("stopping the running program")
        stop_group(self.program, self.args.grace, "the program")
        self.program = None

    def running(self):
        return self.program is not None and self.program.poll() is None

    def build_and_restart(self):
        say(f"building: {self.args.build}")
        code = self.run_command(self.args.build, "the build")
        if code != 0:
            if self.running():
                say(f"the build failed (exit {code}): the last good build keeps running")
            else:
                say(f"the build failed (exit {code}): nothing runs until a change builds")
            return
        unchanged = self.program_stamp is not None and stamp(self.args.program[0]) == self.program_stamp
        if self.running() and unchanged:
            say("built; the program is unchanged, so it keeps running")
            return
        self.stop()
        self.start()

    def settled(self, paths, seen):
        """Waits until `paths` stop changing; returns their final state."""
        while True:
            time.sleep(self.args.settle)
            now = scan(paths)
            if now == seen:
                return now
            seen = now

    def loop(self):
        watched = self.args.watch
        sources = scan(watched)
        sides = [(folder, command, scan([folder])) for folder, command in self.args.on_change]
        self.build_and_restart()
        while True:
            time.sleep(self.args.interval)
            if self.program is not None and not self.reported_exit and self.program.poll() is not None:
                say(f"the program exited (code {self.program.returncode}); it starts again after the next build")
                self.reported_exit = True
            now = scan(watched)
            if now != sources:
                now = self.settled(watched, now)
                say(f"changed: {describe(sources, now)}")
                sources = now
                self.build_and_restart()
            for index, (folder, command, seen) in enumerate(sides):
                now = scan([folder])
                if now != seen:
                    now = self.settled([folder], now)
                    say(f"changed: {describe(seen, now)}; running: {command}")
                    code = self.run_command(command, command)
                    if code != 0:
                        say(f"{command} failed (exit {code})")
                    sides[index] = (folder, command, now)


def parse(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        usage="%(prog)s --watch PATH... --build COMMAND [--on-change FOLDER COMMAND]... -- PROGRAM [ARG...]",
    )
    parser.add_argument("--watch", action="append", required=True, help="a file or folder whose change rebuilds")
    parser.add_argument("--build", required=True, help="the build command (a shell command)")
    parser.add_argument(
        "--on-change", nargs=2, action="append", default=[], metavar=("FOLDER", "COMMAND"),
        help="run COMMAND (a shell command) when FOLDER changes, without a restart",
    )
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two looks (default 0.5)")
    parser.add_argument("--settle", type=float, default=0.3, help="quiet seconds that end a change (default 0.3)")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds from SIGTERM to SIGKILL (default 5)")
    parser.add_argument("program", nargs="+", help="the program and its arguments, after --")
    return parser.parse_args(argv)


def main(argv):
    args = parse(argv)
    watcher = Watcher(args, StopSignals())
    try:
        watcher.loop()
    except Stopping as why:
        say(f"{why}: stopping")
        stop_group(watcher.running_command, args.grace, "the build")
        watcher.stop()
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
