"""Figures for the REST API: a 10,000-action plan page by page, and concurrent clients.

    .venv/bin/python benchmarks/bench_api.py [--actions N] [--rounds R] [--limit L] [--detail]
    .venv/bin/python benchmarks/bench_api.py --clients 20 [--workers W] [--seconds S] [--profile]

With ``--clients`` (the load test): a fresh PostgreSQL schema
(``OPTIMIZER_BENCH_POSTGRES_URL``, default the local ``test`` database;
dropped afterwards) holds 40 audits with a plan of 25 actions each; the API
runs as ``serve --role api`` would, with W worker processes (default: as
``[api] workers = 0`` picks), and C client threads, each on a keep-alive
connection, alternate ``GET /v1/action_plans?limit=20`` and
``GET /v1/actions?action_plan_uuid=…&limit=50`` for S seconds after a
warm-up. Target: >= 300 requests/s with p95 <= 150 ms for 20 clients.
Exits 1 when it is missed. ``--profile`` runs one worker under cProfile
and prints where its time went.

Without ``--clients``:

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
LOAD_TARGET_RPS, LOAD_TARGET_P95_MS = 300.0, 150.0
POSTGRES_URL = os.environ.get("OPTIMIZER_BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


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


def serve_load(config: str, port: int, workers: int, profile: str | None) -> None:
    """The server half of the load test: what `optimizer serve --role api` runs."""
    from optimizer.api import serve_api
    from optimizer.api.workers import WorkerSpec
    from optimizer.config import load_config
    from optimizer.context import open_context
    from optimizer.dispatch import InProcessDispatcher
    from optimizer.messaging.transport import Topics

    settings = load_config(config)
    ctx = open_context(settings)
    run = lambda: serve_api(ctx, InProcessDispatcher(ctx), "127.0.0.1", port,  # noqa: E731
                            log_level="warning", workers=workers,
                            spec=WorkerSpec(settings, Topics()))
    if not profile:
        run()
        return
    import cProfile
    import signal

    import fastapi.dependencies.utils
    import fastapi.routing

    async def inline(func, *args, **kwargs):  # handlers on the profiled thread
        return func(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline
    if hasattr(fastapi.dependencies.utils, "run_in_threadpool"):
        fastapi.dependencies.utils.run_in_threadpool = inline
    profiler = cProfile.Profile()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    profiler.enable()
    try:
        run()
    except KeyboardInterrupt:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


def load_database(count: int = 40, actions_each: int = 25) -> tuple[str, list[str], object]:
    """A fresh PostgreSQL schema of ``count`` plans: its URL, the plans, and how to drop it."""
    import psycopg

    from optimizer.db import add_action_plan, create_audit, open_database

    admin_url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    schema = f"optimizer_bench_api_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    database = open_database(url)
    plans = []
    with database.session() as session:
        for i in range(count):
            audit = create_audit(session, goal="server_consolidation", name=f"bench-{i}")
            plans.append(add_action_plan(session, {"audit_id": audit.id, "strategy": "bench"},
                                         actions(actions_each)).uuid)
    database.close()

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return url, plans, drop


def client_loop(port: int, paths: list[str], stop_at: float, start_at: float,
                times: list[float], failures: list[str]) -> None:
    """One client: requests on one keep-alive connection until ``stop_at``."""
    import http.client
    import json

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"OpenStack-API-Version": "infra-optim 1.5"}
    i = 0
    while True:
        started = time.perf_counter()
        if started >= stop_at:
            break
        connection.request("GET", paths[i % len(paths)], headers=headers)
        response = connection.getresponse()
        body = response.read()
        json.loads(body)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            failures.append(f"{response.status} {body[:200]!r}")
        elif started >= start_at:  # requests of the warm-up are not counted
            times.append(elapsed)
        i += 1
    connection.close()


def load_test(args) -> int:
    import threading

    from optimizer.api.server import worker_count

    workers = 1 if args.profile else (args.workers or worker_count(0, "api"))
    url, plans, drop = load_database()
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder) / "optimizer.conf"
            config.write_text(f"[database]\nconnection = {url}\n[service]\nnotifications = false\n"
                              f"[simulated]\nstate_file = {Path(folder) / 'cloud.db'}\n")
            port = free_port()
            profile = str(Path(folder) / "api.prof") if args.profile else ""
            server = subprocess.Popen([sys.executable, __file__, "--serve-load", str(config),
                                       str(port), str(workers), profile])
            try:
                wait_until_up(f"http://127.0.0.1:{port}/", server)
                paths = []
                for plan in plans:
                    paths += ["/v1/action_plans?limit=20",
                              f"/v1/actions?action_plan_uuid={plan}&limit=50"]
                times: list[float] = []
                failures: list[str] = []
                start_at = time.perf_counter() + 2.0  # warm-up
                stop_at = start_at + args.seconds
                threads = [threading.Thread(
                    target=client_loop, args=(port, paths[i:] + paths[:i], stop_at, start_at,
                                              times, failures)) for i in range(args.clients)]
                time.sleep(max(0.0, start_at - time.perf_counter() - 1.9))
                cpu_before, own_before = tree_cpu_seconds(server.pid), time.process_time()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                load = os.getloadavg()[0]
                server_cpu = tree_cpu_seconds(server.pid) - cpu_before
                client_cpu = time.process_time() - own_before
            finally:
                server.terminate()
                server.wait(timeout=30)
            if args.profile:
                import pstats

                pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    finally:
        drop()
    if failures:
        print(f"{len(failures)} failed requests, e.g. {failures[0]}")
        return 1
    rps = len(times) / args.seconds
    p50, p95 = statistics.median(times), percentile(times, 0.95)
    ok = rps >= LOAD_TARGET_RPS and p95 <= LOAD_TARGET_P95_MS
    print(f"{args.clients} clients, {workers} API worker(s), {args.seconds:.0f} s: "
          f"{len(times)} requests  {rps:.0f} requests/s  p50 {p50:.1f} ms  p95 {p95:.1f} ms  "
          f"target >= {LOAD_TARGET_RPS:.0f}/s and p95 <= {LOAD_TARGET_P95_MS:.0f} ms: "
          f"{'met' if ok else 'MISSED'}")
    total = len(times) + len(failures)
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs; CPU per request (warm-up "
          f"included): API processes {server_cpu * 1000 / max(total, 1):.1f} ms, "
          f"this client {client_cpu * 1000 / max(total, 1):.1f} ms")
    return 0 if ok else 1


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


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its descendants still alive (Linux)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        total += cpu_seconds(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="page size (default: 1000)")
    parser.add_argument("--detail", action="store_true", help="list /v1/actions/detail")
    parser.add_argument("--clients", type=int, default=0, help="run the load test")
    parser.add_argument("--workers", type=int, default=0, help="API processes (load test)")
    parser.add_argument("--seconds", type=float, default=10.0, help="load test duration")
    parser.add_argument("--profile", action="store_true", help="profile one API worker")
    parser.add_argument("--sort", default="tottime", help=argparse.SUPPRESS)
    parser.add_argument("--top", type=int, default=40, help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, metavar=("CONFIG", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-load", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    if args.serve_load:
        config, port, workers, profile = args.serve_load
        serve_load(config, int(port), int(workers), profile or None)
        return 0
    if args.clients:
        return load_test(args)
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
