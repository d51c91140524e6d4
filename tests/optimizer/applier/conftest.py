"""Applier fixtures: a small simulated cloud, a database, a context and stored plans."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from optimizer.applier import SimulatedActuator
from optimizer.cloud.simulated import SimulatedCloud
from optimizer.config import ApplierSettings, SimulatedSettings, load_config
from optimizer.context import Context
from optimizer.db import add_action_plan, create_audit, list_actions, open_database
from optimizer.db.action_plans import get_action_plan
from optimizer.planning import PlannerConfig
from optimizer.plugins import STRATEGY_GROUP, Plugins
from tests.builders import ClusterBuilder

FAST = dict(poll_interval_s=0.01, retry_backoff_s=0.02, heartbeat_timeout_s=5.0)


def small_cluster(hosts: int = 4, per_host: int = 3, memory_gb: float = 1):
    """``hosts`` roomy hosts h1…hN, each with ``per_host`` instances h<k>-v<j>."""
    builder = ClusterBuilder().hosts(hosts, vcpus=64, memory_gb=256)
    for h in range(1, hosts + 1):
        for j in range(per_host):
            builder.vm(f"h{h}-v{j}", on=f"h{h}", vcpus=1, memory_gb=memory_gb)
    return builder.build()


def make_context(tmp_path: Path, database_url: str | None = None, *, per_host: int = 2,
                 parallel: int = 10, **applier) -> Context:
    """A context on a SQLite database (unless given) and the cloud file ``tmp_path/cloud.db``."""
    url = database_url or f"sqlite:///{tmp_path / 'optimizer.db'}"
    settings = replace(load_config(database_url=url),
                       simulated=SimulatedSettings(4, 1, str(tmp_path / "cloud.db")),
                       applier=ApplierSettings(**{**FAST, **applier}))
    return Context(settings, open_database(url), Plugins(STRATEGY_GROUP),
                   PlannerConfig(max_migrations_per_host=per_host,
                                 max_parallel_migrations=parallel))


@pytest.fixture
def cloud(tmp_path) -> SimulatedCloud:
    cloud = SimulatedCloud(tmp_path / "cloud.db")
    cloud.load(small_cluster())
    yield cloud
    cloud.close()


@pytest.fixture
def ctx(tmp_path, cloud) -> Context:
    context = make_context(tmp_path)
    yield context
    context.close()


@pytest.fixture
def actuator(cloud) -> SimulatedActuator:
    return SimulatedActuator(SimulatedCloud(cloud.path))


def migrate(instance: str, source: str, destination: str, parents: Sequence[int] = ()) -> dict:
    return {"type": "migrate", "parents": list(parents),
            "parameters": {"instance": instance, "source": source,
                           "destination": destination, "migration_type": "live"}}


def nop(message: str = "", parents: Sequence[int] = ()) -> dict:
    return {"type": "nop", "parameters": {"message": message}, "parents": list(parents)}


def store_plan(ctx: Context, actions: list[dict], state: str = "PENDING", **fields) -> str:
    """A plan of ``actions`` stored in ``state``; its uuid."""
    with ctx.database.session() as session:
        audit = create_audit(session, goal="dummy")
        plan = add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy",
                                         "state": state, **fields}, actions)
        return plan.uuid


def stored_actions(ctx: Context, uuid: str):
    with ctx.database.session() as session:
        return list_actions(session, get_action_plan(session, uuid))


def plan_row(ctx: Context, uuid: str):
    with ctx.database.session() as session:
        return get_action_plan(session, uuid)


def pytest_configure(config):
    config.addinivalue_line("markers", "chaos: kills real applier processes at random "
                                       "(bounded, about a minute; part of the normal suite)")
