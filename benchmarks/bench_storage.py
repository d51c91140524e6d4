"""Figures for storage: persisting a 10,000-action plan on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_storage.py [--actions N] [--runs R] [--postgres URL]

Each run stores one audit and one plan of N migrate actions (each with
parameters, a parent and a reason) through ``add_action_plan`` and commits;
the time covers building the rows, the inserts and the commit. SQLite uses
a new file in a temporary folder, PostgreSQL a schema of its own that is
dropped afterwards. Target: <= 3 s for 10,000 actions on both. Exits 1 when
a target is missed or a backend cannot be reached.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from optimizer.db import add_action_plan, create_audit, make_engine, open_database
from optimizer.db.errors import DatabaseError
from optimizer.db.schema import ActionRow

TARGET_S = 3.0
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def actions(count: int) -> list[dict]:
    """A chain of live migrations, as the planner would hand them over."""
    return [{"type": "migrate", "reason": f"release node-{i % 97:04d}",
             "parameters": {"instance": str(uuid.UUID(int=i)), "source": f"node-{i % 97:04d}",
                            "destination": f"node-{i % 13:04d}", "migration_type": "live"},
             "parents": [i - 1] if i else []} for i in range(count)]


def time_runs(url: str, plan_actions: list[dict], runs: int) -> list[float]:
    """Seconds to store and commit the plan, once per run, on the database at ``url``."""
    database = open_database(url)
    seconds = []
    try:
        for run in range(runs):
            started = time.perf_counter()
            with database.session() as session:
                audit = create_audit(session, goal="server_consolidation", name=f"bench-{run}")
                plan = add_action_plan(session, {"audit_id": audit.id, "strategy": "bench"},
                                       plan_actions)
            seconds.append(time.perf_counter() - started)
            with database.session() as session:
                stored = session.scalar(select(func.count()).select_from(ActionRow)
                                        .where(ActionRow.action_plan_id == plan.id))
            assert stored == len(plan_actions), f"stored {stored} of {len(plan_actions)}"
    finally:
        database.close()
    return seconds


def postgres_schema_url(base: str) -> tuple[str, str]:
    schema = f"optimizer_bench_{uuid.uuid4().hex[:8]}"
    engine = make_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    engine = make_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def report(backend: str, seconds: list[float], count: int) -> bool:
    best, median = min(seconds), statistics.median(seconds)
    ok = max(seconds) <= TARGET_S
    print(f"{backend:<11} {count:>7,} actions  best {best:6.3f} s  median {median:6.3f} s  "
          f"worst {max(seconds):6.3f} s  ({count / median:,.0f} actions/s)  "
          f"target <= {TARGET_S} s: {'met' if ok else 'MISSED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL URL (base database)")
    args = parser.parse_args(argv)
    plan_actions = actions(args.actions)
    all_ok = True
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        all_ok &= report("sqlite", time_runs(url, plan_actions, args.runs), args.actions)
    try:
        url, schema = postgres_schema_url(args.postgres)
    except (DatabaseError, OperationalError) as exc:
        print(f"postgresql  not measured: {str(exc).splitlines()[0]}")
        return 1
    try:
        all_ok &= report("postgresql", time_runs(url, plan_actions, args.runs), args.actions)
    finally:
        drop_schema(args.postgres, schema)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
