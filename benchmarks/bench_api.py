"""Figures for the REST API: listing a 10,000-action plan page by page over HTTP.

    .venv/bin/python benchmarks/bench_api.py [--actions N] [--rounds R] [--limit L] [--detail]

A SQLite database gets one audit and one plan of N migrate actions (each
with parameters, a parent and a reason); the API runs under uvicorn in a
process of its own, and this process walks ``GET /v1/actions?action_plan_uuid=…``
from the first page to the last by following ``next`` (the default page
size is Watcher's max_limit, 1000), R times, timing each page from request
to parsed JSON. Target: p95 <= 50 ms a page. Exits 1 when it is missed.
It also prints the server's CPU time per page, which a busy machine does
not inflate the way it inflates wall times.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

TARGET_P95_MS = 50.0


def actions(count: int) -> list[dict]:
    """A chain of live migrations, as the planner would hand them over."""
    return [{"type": "migrate", "reason": f"release node-{i % 97:04d}",
             "parameters": {"instance": str(uuid.UUID(int=i)), "source": f"node-{i % 97:04d}",
                            "destination": f"node-{i % 13:04d}", "migration_type": "live"},
             "parents": [i - 1] if i else []} for i in range(count)]


def make_database(folder: Path, count: int) -> tuple[Path, str]:
    """A config file whose database holds one plan of ``count`` actions, and the plan's uuid."""
    from optimizer.db import add_action_plan, create_audit, open_database

    database_url = f"sqlite:///{folder / 'bench.db'}"
    config = folder / "optimizer.conf"
    config.write_text(f"[database]\nconnection = {database_url}\n"
                      f"[simulated]\nstate_file = {folder / 'cloud.db'}\n")
    database = open_database(database_url)
    with database.session() as session:
        audit = create_audit(session, goal="server_consolidation", name="bench")
        plan = add_action_plan(session, {"audit_id": audit.id, "strategy": "bench"},
                               actions(count)).uuid
    database.close()
    return config, plan


def serve(config: str, port: int) -> None:
    """The server half: the API on the benchmark's database, no auth, in-process dispatch."""
    from optimizer.api import serve_api
    from optimizer.config import load_config
    from optimizer.context import open_context
    from optimizer.dispatch import InProcessDispatcher

    ctx = open_context(load_config(config))
    serve_api(ctx, InProcessDispatcher(ctx), "127.0.0.1", port, log_level="warning")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the API process exited with status {server.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the API did not come up within 30 s")


def walk(client: httpx.Client, first: str) -> tuple[list[float], int]:
    """Milliseconds per page, and the number of actions seen, following ``next``."""
    times, seen, url = [], 0, first
    while url:
        started = time.perf_counter()
        response = client.get(url)
        body = response.json()
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        seen += len(body["actions"])
        url = body["next"]
    return times, seen


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux), or NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="page size (default: 1000)")
    parser.add_argument("--detail", action="store_true", help="list /v1/actions/detail")
    parser.add_argument("--serve", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        config, plan = make_database(Path(folder), args.actions)
        print(f"stored a plan of {args.actions:,} actions in {time.perf_counter() - started:.2f} s")
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(config), str(port)])
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/", server)
            path = "/v1/actions/detail" if args.detail else "/v1/actions"
            first = f"{base}{path}?action_plan_uuid={plan}"
            if args.limit:
                first += f"&limit={args.limit}"
            pages: list[float] = []
            with httpx.Client(headers={"OpenStack-API-Version": "infra-optim 1.5"},
                              timeout=30) as client:
                walk(client, first)  # warm-up: connections, caches
                cpu_before = cpu_seconds(server.pid)
                for _ in range(args.rounds):
                    times, seen = walk(client, first)
                    assert seen == args.actions, f"listed {seen} of {args.actions} actions"
                    pages += times
                server_cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / len(pages)
        finally:
            server.terminate()
            server.wait(timeout=10)
    p50, p95 = statistics.median(pages), percentile(pages, 0.95)
    ok = p95 <= TARGET_P95_MS
    print(f"{path} of {args.actions:,} actions, page size {args.limit or 1000}: "
          f"{len(pages)} pages over {args.rounds} rounds  p50 {p50:.1f} ms  p95 {p95:.1f} ms  "
          f"max {max(pages):.1f} ms  target p95 <= {TARGET_P95_MS:.0f} ms: "
          f"{'met' if ok else 'MISSED'}")
    # CPU the server spent per page: what the wall times would be on an idle machine,
    # give or take the client; the machine's load average says how busy it was
    print(f"server CPU {server_cpu_ms:.1f} ms a page; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
