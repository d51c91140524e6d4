"""Tiny stand-ins for the Glance and Neutron endpoints Nova calls.

Glance answers one public raw image for any id; Neutron answers empty
lists (servers boot with ``networks: none``, so there are no ports).
"""
from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler

from harness_http import QuietHTTPServer

IMAGE_ID = "155d900f-4e14-4e4c-a73d-069cbf4541e6"


def image(image_id: str) -> dict:
    return {
        "id": image_id, "name": "fake-image", "status": "active", "visibility": "public",
        "disk_format": "raw", "container_format": "bare", "min_ram": 0, "min_disk": 0,
        "size": 1024, "checksum": None, "protected": False, "tags": [], "os_hidden": False,
        "owner": "admin", "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z", "file": f"/v2/images/{image_id}/file",
        "schema": "/v2/schemas/image",
    }


def glance_answer(method: str, path: str) -> tuple[int, dict]:
    match = re.fullmatch(r"/v2/images/([0-9a-f-]+)", path)
    if match:
        return 200, image(match.group(1))
    if path.startswith("/v2/schemas/image"):
        # glanceclient models images on this schema; any property goes.
        properties = {name: {} for name in image(IMAGE_ID)}
        return 200, {"name": "image", "properties": properties, "links": [],
                     "additionalProperties": {"type": "string"}}
    if path == "/v2/images":
        return 200, {"images": [image(IMAGE_ID)]}
    return 200, {"versions": [{"id": "v2.16", "status": "CURRENT", "links": []}]}


def neutron_answer(method: str, path: str) -> tuple[int, dict]:
    match = re.fullmatch(r"/(?:v2\.0/)?([a-z_-]+)(\.json)?", path)
    if method == "GET" and match:
        return 200, {match.group(1): []}
    if method == "DELETE":
        return 204, {}
    return 200, {}


class StubServer:
    """An HTTP server answering with ``answer(method, path)`` from a thread."""

    def __init__(self, answer) -> None:
        self.calls: list[tuple[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self):
                path = self.path.split("?")[0].rstrip("/") or "/"
                stub.calls.append((self.command, path))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, body = answer(self.command, path)
                data = json.dumps(body).encode() if status != 204 else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _reply  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = QuietHTTPServer(Handler)
        self.port = self.server.port
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.close()
