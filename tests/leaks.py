"""What a test run left running: non-daemon threads and child processes.

``tests/conftest.py`` asks at the end of the session, after every fixture
is torn down, and fails the run if anything is left: a non-daemon thread
keeps the interpreter from exiting, and a child process (a server, a
harness service) goes on using the machine and its ports after the tests.
Daemon threads are not counted: they die with the interpreter.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Leftover:
    """One thing still running: a thread or a child process."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def _live_threads() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]


def child_processes(pid: int | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of the running (not zombie) children of ``pid``, from /proc."""
    pid = os.getpid() if pid is None else pid
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(c) for c in task.read_text().split()]
        except OSError:
            continue  # the thread ended while we looked
    found = []
    for child in sorted(set(children)):
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            continue  # gone meanwhile
        if state != "Z":
            found.append((child, command.decode(errors="replace").strip()[:200]))
    return found


def leftovers(grace_s: float = 3.0) -> list[Leftover]:
    """Threads and children still running once ``grace_s`` has let finishing ones end."""
    deadline = time.monotonic() + grace_s
    for thread in _live_threads():
        thread.join(max(0.0, deadline - time.monotonic()))
    while child_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    found = [Leftover("thread", f"{t.name!r} (target {_target(t)})") for t in _live_threads()]
    found += [Leftover("process", f"{pid}: {command}") for pid, command in child_processes()]
    return found


def _target(thread: threading.Thread) -> str:
    target = getattr(thread, "_target", None)
    return getattr(target, "__qualname__", repr(target)) if target else type(thread).__name__
