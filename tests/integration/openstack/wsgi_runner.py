"""Serve a WSGI application from a module attribute on a port, with threads.

Run by the Nova venv's Python: ``python wsgi_runner.py placement.wsgi.api 8778``.
Requests without identity headers get the admin's (there is no Keystone),
so any client, e.g. openstacksdk with ``auth_type: none``, can call. The
module is imported after the environment (config folders) is set, since
Nova's and Placement's WSGI modules read their configuration on import.
"""
import importlib
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


# Keystone is not running: requests without identity act as the admin.
DEFAULT_IDENTITY = {"HTTP_X_AUTH_TOKEN": "admin", "HTTP_X_USER_ID": "admin",
                    "HTTP_X_PROJECT_ID": "admin", "HTTP_X_ROLES": "admin,member,reader"}


def with_default_identity(application):
    def wrapped(environ, start_response):
        for key, value in DEFAULT_IDENTITY.items():
            environ.setdefault(key, value)
        return application(environ, start_response)
    return wrapped


def main() -> None:
    module, port = sys.argv[1], int(sys.argv[2])
    sys.argv = sys.argv[:1]  # Nova parses the command line as its own
    application = with_default_identity(importlib.import_module(module).application)
    server = make_server("127.0.0.1", port, application, ThreadingWSGIServer, QuietHandler)
    print(f"serving {module} on {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
