"""A real Prometheus server for tests, scraping given targets every second.

It runs Debian's ``prometheus`` binary (``.ci/run`` installs it) with a
config file and storage in a temporary folder, on a free port.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests
from harness_http import harness_session


class HarnessError(RuntimeError):
    """A service the tests need could not be started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_prometheus() -> str:
    """The prometheus binary, or :class:`HarnessError` saying how to get it.

    A test never installs it: ``.ci/run`` does (Debian's ``prometheus``).
    """
    path = os.environ.get("OPTIMIZER_TEST_PROMETHEUS") or shutil.which("prometheus")
    if not path:
        raise HarnessError("prometheus binary not found on PATH (.ci/run installs it: "
                           "apt-get install -y prometheus; or set OPTIMIZER_TEST_PROMETHEUS)")
    return path


class PrometheusServer:
    """A prometheus process scraping ``targets`` (host:port) once a second."""

    def __init__(self, workdir: Path, targets: list[str]):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "prometheus.yml"
        quoted = ", ".join(f"'{t}'" for t in targets)
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: test\n    honor_labels: true\n"
            f"    static_configs:\n      - targets: [{quoted}]\n")
        binary = find_prometheus()
        self.http = harness_session()
        self.log = open(workdir / "prometheus.log", "wb")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}",
             f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"prometheus exited with {self.process.returncode}; see "
                                   f"{self.workdir / 'prometheus.log'}")
            try:
                if requests.get(self.url + "/-/ready", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise HarnessError(f"prometheus on port {self.port} not ready in {timeout_s}s")

    def wait_for_series(self, query: str, count: int, timeout_s: float = 30) -> None:
        """Wait until ``query`` returns at least ``count`` series."""
        deadline = time.monotonic() + timeout_s
        found = 0
        while time.monotonic() < deadline:
            body = self.http.get(self.url + "/api/v1/query", params={"query": query},
                                 timeout=(5, 30)).json()
            found = len(body.get("data", {}).get("result", []))
            if found >= count:
                return
            time.sleep(0.5)
        raise HarnessError(f"prometheus: {query} gave {found} series, not {count}, "
                           f"in {timeout_s}s")

    def stop(self) -> None:
        """Stop and reap the process; idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
        self.http.close()
