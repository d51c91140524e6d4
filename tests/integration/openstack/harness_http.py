"""HTTP for the harness: its own calls with bounded timeouts and retries, quiet servers.

On a busy machine Nova's or Prometheus's answer can be slow or a connection
refused for a moment; that is the harness's weather, not the product's
fault, so the harness retries what is safe to repeat (GET, PUT, DELETE,
HEAD) with a short back-off. POST (a boot, a flavor) is never repeated: a
second one would make a second server. The product's own clients (the
collector, the actuator) are not touched by this.
"""
from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

#: (connect, read) seconds for one attempt
TIMEOUT = (5, 60)
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})


def harness_session(retries: int = 3) -> requests.Session:
    """A session retrying idempotent calls on connection errors, read timeouts and 502-504."""
    retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                  backoff_factor=0.5, status_forcelist=(502, 503, 504),
                  allowed_methods=IDEMPOTENT, raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class QuietHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server for test stand-ins that never writes to stderr.

    ``socketserver`` prints a traceback to ``sys.stderr`` when a handler
    fails, e.g. with ``BrokenPipeError`` when Prometheus gives up on a slow
    scrape. From a server thread that lands in whatever test runs at that
    moment (a CLI test's JSON output, say). Client disconnects are dropped;
    other errors are kept in :attr:`errors` for the test to look at.
    ``close`` waits for the requests in flight, so no handler outlives it.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        # A client that connects and says nothing cannot hold close() forever.
        handler.timeout = 10
        super().__init__(("127.0.0.1", 0), handler)
        self.errors: list[BaseException] = []
        self.port = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                        name=f"{handler.__name__}-{self.port}")
        self._thread.start()

    def handle_error(self, request, client_address) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            self.errors.append(error)

    def close(self) -> None:
        """Stop serving and wait for the serving thread and every request in flight."""
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join()
        self.server_close()
