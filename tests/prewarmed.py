"""Start ``python -m MODULE ...`` many times without paying Python's start-up each time.

A test that kills and restarts a process dozens of times (the applier's
chaos test) spent nearly all its time importing numpy, SQLAlchemy and
oslo in each new interpreter (5 s each on a busy 2-core machine). A
:class:`Prewarmed` server imports the modules once, then forks a child for
each start that runs the module as ``python -m`` would (``runpy``, its own
``sys.argv``, exit status from ``SystemExit``). The child is a real process
with its own pid: SIGKILL ends it as abruptly as any other.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

SERVER = r"""
import importlib, json, os, runpy, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
requests, replies = sys.stdin, sys.stdout
print("ready", file=replies, flush=True)
for line in requests:
    command, argument = json.loads(line)
    if command == "spawn":
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            status = 0
            try:
                sys.argv = [argument[0], *argument[1:]]
                runpy.run_module(argument[0], run_name="__main__", alter_sys=True)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                status = 1
            os._exit(status)
        reply = pid
    else:  # "wait" (blocking) or "poll": the exit status, or None while it runs
        flags = 0 if command == "wait" else os.WNOHANG
        done, status = os.waitpid(argument, flags)
        reply = os.waitstatus_to_exitcode(status) if done else None
    print(json.dumps(reply), file=replies, flush=True)
"""


class Child:
    """A forked ``python -m`` process, with the part of :class:`subprocess.Popen` tests use."""

    def __init__(self, server: Prewarmed, pid: int) -> None:
        self.server, self.pid, self.returncode = server, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server._ask("poll", self.pid)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = self.server._ask("wait", self.pid)
        return self.returncode

    def send_signal(self, signal: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal)


class Prewarmed:
    """A server process that has imported ``modules`` and forks ``python -m`` children."""

    def __init__(self, modules: list[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", SERVER, *modules], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError(f"the prewarmed server could not import {modules}")

    def start(self, module: str, *args: str) -> Child:
        """Run ``python -m module args`` in a forked child; the child."""
        return Child(self, self._ask("spawn", [module, *args]))

    def _ask(self, command: str, argument):
        self.process.stdin.write(json.dumps([command, argument]) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        """End the server (its children must have been waited for)."""
        self.process.stdin.close()
        self.process.wait(30)
        self.process.stdout.close()

    def __enter__(self) -> Prewarmed:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
