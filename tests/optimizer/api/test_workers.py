"""`serve --role api` with several API worker processes, and how many it picks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from optimizer.api.server import worker_count
from optimizer.config import load_config
from tests.optimizer.api.test_database_down import closed_port

OPTIMIZER = Path(sys.executable).with_name("optimizer")


def test_worker_count():
    assert worker_count(0, "all") == 1 and worker_count(8, "all") == 1
    assert worker_count(3, "api") == 3
    assert worker_count(0, "api") == max(2, os.cpu_count() or 1)


def test_the_workers_option(tmp_path):
    config = tmp_path / "optimizer.conf"
    config.write_text("[api]\nworkers = 3\n")
    assert load_config(str(config)).api.workers == 3
    assert load_config(None).api.workers == 0


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_role_api_serves_on_several_processes(tmp_path):
    port = closed_port()
    config = tmp_path / "optimizer.conf"
    config.write_text(f"[DEFAULT]\ntransport_url = fake://\n"
                      f"[database]\nconnection = sqlite:///{tmp_path / 'o.db'}\n"
                      f"[simulated]\nstate_file = {tmp_path / 'cloud.db'}\n"
                      f"[service]\nnotifications = false\n[api]\nworkers = 2\nport = {port}\n")
    server = subprocess.Popen([str(OPTIMIZER), "--config-file", str(config), "serve",
                               "--role", "api"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline, served = time.monotonic() + 60, None
        while time.monotonic() < deadline and served is None:
            assert server.poll() is None, server.stderr.read()
            try:
                served = httpx.get(f"http://127.0.0.1:{port}/v1/goals", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert served is not None and served.status_code == 200, served
        assert any(g["name"] == "dummy" for g in served.json()["goals"])
        workers = set()
        while time.monotonic() < deadline and len(workers) < 2:
            workers = {c for c in children(server.pid)
                       if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()}
            time.sleep(0.1)
        assert len(workers) == 2, workers
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
            server.stderr.close()
    assert server.returncode == 0
