"""What instrumentation costs: applier time per action and API p95, metrics on vs off.

    .venv/bin/python benchmarks/bench_observability.py [--hosts N] [--runs R] [--requests Q]

Applier: the plan of bench_applier.py (N hosts, a chain of 4 instant live
migrations then a nop per host) executed on the simulated actuator, with the
no-op sink and with real :class:`~optimizer.observability.metrics.Metrics`
(the state-change log on, at INFO, into a null handler, in both). API: Q
``GET /v1/audits`` through the ASGI app in process, p95 per run. Medians of R
runs (at least 3). Target: metrics add <= 5 % to each. Exits 1 when missed.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_applier import run as run_plan  # noqa: E402

from optimizer.observability import set_metrics  # noqa: E402
from optimizer.observability.metrics import Metrics  # noqa: E402

TARGET = 0.05


def applier_ms(hosts: int, on: bool) -> float:
    previous = set_metrics(Metrics() if on else None)
    try:
        with tempfile.TemporaryDirectory() as folder:
            count, seconds, _ = run_plan(f"sqlite:///{Path(folder) / 'o.db'}", Path(folder),
                                         hosts, 4)
        return seconds / count * 1000
    finally:
        set_metrics(previous)


def api_p95_ms(requests: int, on: bool) -> float:
    from fastapi.testclient import TestClient

    from optimizer.api import create_app
    from optimizer.config import load_config
    from optimizer.context import open_context
    from optimizer.dispatch import InProcessDispatcher

    previous = set_metrics(Metrics() if on else None)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "o.conf"
        config.write_text(f"[database]\nconnection = sqlite:///{Path(folder) / 'o.db'}\n")
        ctx = open_context(load_config(str(config)))
        dispatcher = InProcessDispatcher(ctx)
        app = create_app(ctx, dispatcher)
        if not on:  # the app's own request metrics, swapped for the no-op sink
            app.state.metrics.api_request = lambda *args: None
        times = []
        try:
            with TestClient(app) as client:
                for _ in range(requests):
                    started = time.perf_counter()
                    client.get("/v1/audits")
                    times.append(time.perf_counter() - started)
        finally:
            dispatcher.close()
            ctx.close()
            set_metrics(previous)
    return statistics.quantiles(times, n=20)[18] * 1000


def compare(name: str, measure, runs: int) -> bool:
    off, on = [], []
    for _ in range(runs):  # interleaved, so a slower moment of the machine hits both
        off.append(measure(False))
        on.append(measure(True))
    off_m, on_m = statistics.median(off), statistics.median(on)
    overhead = on_m / off_m - 1
    print(f"{name}: off {off_m:.3f} ms, on {on_m:.3f} ms (medians of {runs}): "
          f"{overhead * 100:+.1f} %{'' if overhead <= TARGET else '  target missed'}")
    return overhead <= TARGET


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    state = logging.getLogger("optimizer.state")
    state.setLevel(logging.INFO)
    state.propagate = False
    state.addHandler(logging.NullHandler())
    runs = max(args.runs, 3)
    ok = compare("applier per action", lambda on: applier_ms(args.hosts, on), runs)
    ok &= compare("API p95 GET /v1/audits", lambda on: api_p95_ms(args.requests, on), runs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
