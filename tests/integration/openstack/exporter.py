"""A small metrics exporter for tests: node_exporter and libvirt exporter lookalikes.

It serves, in Prometheus's text format, the series the default queries of
:mod:`optimizer.datasources.prometheus` read: per host ``node_cpu_seconds_total``
and ``node_memory_*`` (labelled ``instance=<host>``, so scrape it with
``honor_labels``), per instance ``libvirt_domain_info_*`` labelled ``uuid``.
CPU counters grow at the configured use, so ``rate()`` gives it back.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from harness_http import QuietHTTPServer


@dataclass
class Load:
    """What one resource uses: ``cpu`` of its ``vcpus`` and ``memory`` of ``memory_mb``."""

    cpu: float
    memory: float
    vcpus: int = 1
    memory_mb: int = 512


class Exporter:
    """Serves ``/metrics`` for the hosts and instances set on it, from a thread."""

    def __init__(self) -> None:
        self.hosts: dict[str, Load] = {}
        self.instances: dict[str, Load] = {}
        self.started = time.monotonic()
        self._lock = threading.Lock()
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = QuietHTTPServer(Handler)
        self.port = self.server.port

    def set_instance(self, uuid: str, load: Load) -> None:
        with self._lock:
            self.instances[uuid] = load

    def set_host(self, name: str, load: Load) -> None:
        with self._lock:
            self.hosts[name] = load

    def render(self) -> str:
        """The exposition text at this moment."""
        elapsed = time.monotonic() - self.started
        lines = []
        with self._lock:
            for name, load in self.hosts.items():
                for cpu in range(load.vcpus):
                    idle = elapsed * (1 - load.cpu)
                    lines.append(f'node_cpu_seconds_total{{instance="{name}",cpu="{cpu}",'
                                 f'mode="idle"}} {idle:.3f}')
                total = load.memory_mb * 2**20
                lines.append(f'node_memory_MemTotal_bytes{{instance="{name}"}} {total}')
                lines.append(f'node_memory_MemAvailable_bytes{{instance="{name}"}} '
                             f'{total * (1 - load.memory):.0f}')
            for uuid, load in self.instances.items():
                label = f'{{uuid="{uuid}",domain="instance-{uuid[:8]}"}}'
                lines.append(f"libvirt_domain_info_cpu_time_seconds_total{label} "
                             f"{elapsed * load.cpu * load.vcpus:.3f}")
                lines.append(f"libvirt_domain_info_virtual_cpus{label} {load.vcpus}")
                total = load.memory_mb * 2**20
                lines.append(f"libvirt_domain_info_maximum_memory_bytes{label} {total}")
                lines.append(f"libvirt_domain_info_memory_usage_bytes{label} "
                             f"{total * load.memory:.0f}")
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        self.server.close()
