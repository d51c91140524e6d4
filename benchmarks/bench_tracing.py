"""What tracing costs the applier: time per action with [tracing] off and on.

    .venv/bin/python benchmarks/bench_tracing.py [--hosts N] [--per-host K] [--runs R]

Runs bench_applier's plan (N hosts, a chain of K instant live migrations
and a nop per host: N * (K + 1) actions, 5,000 by default) R times with
tracing off and R times with it on (a span per action, every span stored
in the SQLite database by the batch exporter), alternating, and prints the
median time per action of each and the difference. Target: tracing on costs
<= 5 % of the applier's per-action time. Exits 1 when the target is missed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from bench_applier import run

from optimizer.db import open_database
from optimizer.tracing import TracingSettings, configure_tracing, shutdown_tracing

TARGET = 0.05


def timed(folder: Path, traced: bool, hosts: int, per_host: int) -> float:
    """Milliseconds per action of one run; the spans are all exported before it returns."""
    folder.mkdir()
    url = f"sqlite:///{folder / 'optimizer.db'}"
    open_database(url).close()
    if traced:
        configure_tracing(TracingSettings(enabled=True), url, "bench")
    try:
        count, seconds, _ = run(url, folder, hosts, per_host)
    finally:
        shutdown_tracing()
    return seconds / count * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.runs):
            for traced in (False, True):
                where = Path(folder) / f"{i}-{'on' if traced else 'off'}"
                times[traced].append(timed(where, traced, args.hosts, args.per_host))
    off, on = (statistics.median(times[t]) for t in (False, True))
    extra = on / off - 1
    print(f"{args.hosts * (args.per_host + 1)} actions, medians of {args.runs} runs: "
          f"tracing off {off:.3f} ms/action, on {on:.3f} ms/action ({extra:+.1%})")
    print("  runs off: " + ", ".join(f"{t:.3f}" for t in times[False]))
    print("  runs on:  " + ", ".join(f"{t:.3f}" for t in times[True]))
    if extra > TARGET:
        print(f"  target missed: tracing costs more than {TARGET:.0%}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
