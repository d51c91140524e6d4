"""A scripted stand-in for Prometheus's HTTP API, on a real socket.

Each request is recorded (path and query parameters) and answered with the
reply set for its endpoint: a status and a body (a dict sent as JSON, or
raw text). Used as a context manager, it stops its thread on exit.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def vector(samples: dict[str, float], label: str = "uuid") -> dict:
    """An instant query's successful answer: one sample per resource."""
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {label: key}, "value": [1000.0, str(value)]}
        for key, value in samples.items()]}}


def matrix(series: dict[str, list[tuple[float, object]]], label: str = "uuid") -> dict:
    """A range query's successful answer: ``key -> [(time, value), ...]``."""
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {label: key}, "values": [[t, str(v)] for t, v in samples]}
        for key, samples in series.items()]}}


class FakePrometheus:
    """Answers ``/api/v1/<endpoint>`` with ``replies[endpoint]`` and logs every request."""

    def __init__(self) -> None:
        self.replies: dict[str, tuple[int, dict | str]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append((url.path, params))
                endpoint = url.path.removeprefix("/api/v1/")
                status, body = fake.replies.get(endpoint, (404, "no such endpoint"))
                text = json.dumps(body) if isinstance(body, dict) else body
                payload = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reply(self, endpoint: str, body: dict | str, status: int = 200) -> None:
        """Answer ``/api/v1/<endpoint>`` with ``body`` from now on."""
        self.replies[endpoint] = (status, body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> FakePrometheus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
