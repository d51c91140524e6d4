"""Measured efficacy: what a finished plan really did, beside what was predicted.

A pure function of the cluster collected before the plan ran, the cluster
collected after it ended, and the plan's actions with their final states.
The predicted side is computed from the same inputs in the same way — the
planned migrations replayed on the model before — so both columns count
alike; the strategy's own indicators stay in the plan's ``global_efficacy``.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from optimizer.models.records import MEMORY
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.states import ActionState

MIGRATE = "migrate"


@dataclass(frozen=True)
class ActionRecord:
    """One action of an ended plan, as measuring needs it."""

    type: str
    state: str
    parameters: Mapping[str, Any]
    duration_s: float | None = None  # start to final state; None when never seen running


@dataclass(frozen=True)
class Indicators:
    """One column of the comparison: the cluster after the plan, and what the plan cost."""

    active_hosts: int           # hosts holding at least one instance, after
    hosts_emptied: int          # hosts holding instances before and none after
    migrations: int             # planned (predicted) or succeeded (measured)
    moved_memory_gb: float
    duration_s: float | None    # estimated_duration_s, or the run's wall time
    cpu_load_mean: float        # over the active hosts after, fraction of usable cores
    cpu_load_max: float


@dataclass(frozen=True)
class DurationSummary:
    """Seconds the actions of one type took."""

    count: int
    mean_s: float
    max_s: float
    total_s: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> DurationSummary:
        return cls(len(seconds), float(np.mean(seconds)), float(max(seconds)),
                   float(sum(seconds)))


@dataclass(frozen=True)
class MeasuredEfficacy:
    """Predicted beside measured indicators of one ended plan."""

    plan_state: str
    active_hosts_before: int
    predicted: Indicators
    measured: Indicators
    migrations_failed: int
    migrations_skipped: int
    migrations_cancelled: int
    # succeeded, yet the instance was found elsewhere than its destination after
    migrations_misplaced: int
    action_durations: dict[str, DurationSummary] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (what is stored and what the API shows)."""
        out = asdict(self)
        out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasuredEfficacy:
        """The inverse of :meth:`to_dict`."""
        return cls(
            data["plan_state"], data["active_hosts_before"],
            Indicators(**data["predicted"]), Indicators(**data["measured"]),
            data["migrations_failed"], data["migrations_skipped"],
            data["migrations_cancelled"], data["migrations_misplaced"],
            {k: DurationSummary(**v) for k, v in data.get("action_durations", {}).items()},
            tuple(data.get("notes", ())))


def measure(before: ClusterSnapshot, after: ClusterSnapshot, actions: Iterable[ActionRecord],
            *, plan_state: str, estimated_duration_s: float | None,
            duration_s: float | None) -> MeasuredEfficacy:
    """Compare what the plan predicted with what the cluster shows after it ended.

    ``before`` is the cluster when the plan started, ``after`` when it ended;
    ``duration_s`` is how long the run took. Hosts are matched by name and
    instances by uuid, so the two models need not list them in the same order.
    """
    actions = list(actions)
    moves = [a for a in actions if a.type == MIGRATE]
    done = [a for a in moves if a.state == ActionState.SUCCEEDED]
    active_before = _active_names(before, before.inst_host)
    planned_hosts = _planned_placement(before, moves)
    predicted = Indicators(
        active_hosts=len(_active_names(before, planned_hosts)),
        hosts_emptied=len(active_before - _active_names(before, planned_hosts)),
        migrations=len(moves),
        moved_memory_gb=_memory_gb([before], moves),
        duration_s=estimated_duration_s,
        **_cpu_load(before, planned_hosts))
    active_after = _active_names(after, after.inst_host)
    measured = Indicators(
        active_hosts=len(active_after),
        hosts_emptied=len(active_before - active_after),
        migrations=len(done),
        moved_memory_gb=_memory_gb([after, before], done),
        duration_s=duration_s,
        **_cpu_load(after, after.inst_host))
    count = {state: sum(a.state == state for a in moves) for state in
             (ActionState.FAILED, ActionState.SKIPPED, ActionState.CANCELLED)}
    return MeasuredEfficacy(
        plan_state, len(active_before), predicted, measured,
        count[ActionState.FAILED], count[ActionState.SKIPPED], count[ActionState.CANCELLED],
        _misplaced(after, done), _durations(actions))


def _active_names(snapshot: ClusterSnapshot, inst_host: np.ndarray) -> set[str]:
    """Names of the hosts holding at least one instance under ``inst_host``."""
    count = np.bincount(inst_host, minlength=snapshot.host_count)
    return {snapshot.host_names[h] for h in np.flatnonzero(count)}


def _planned_placement(before: ClusterSnapshot, moves: Sequence[ActionRecord]) -> np.ndarray:
    """(N,) host of every instance of ``before`` once every planned migration is done."""
    target = before.inst_host.astype(np.int64).copy()
    instances, hosts = before.instance_ids, before.host_ids
    for action in moves:  # in plan order: an instance moved twice ends at its last hop
        i = instances.get(action.parameters.get("instance"))
        h = hosts.get(action.parameters.get("destination"))
        if i is not None and h is not None:
            target[i] = h
    return target


def _memory_gb(models: Sequence[ClusterSnapshot], moves: Sequence[ActionRecord]) -> float:
    """Memory of the moved instances, read from the first model that knows each one."""
    total_mb = 0.0
    for action in moves:
        uuid = action.parameters.get("instance")
        for model in models:
            i = model.instance_ids.get(uuid)
            if i is not None:
                total_mb += float(model.inst_size[i, MEMORY])
                break
    return round(total_mb / 1024, 3)


def _cpu_load(snapshot: ClusterSnapshot, inst_host: np.ndarray) -> dict[str, float]:
    """Mean and max CPU load over the hosts that hold instances under ``inst_host``."""
    hosts = snapshot.host_count
    count = np.bincount(inst_host, minlength=hosts)
    demand = np.bincount(inst_host, weights=snapshot.cpu_demand(), minlength=hosts)
    active = count > 0
    if not active.any():
        return {"cpu_load_mean": 0.0, "cpu_load_max": 0.0}
    load = demand[active] / snapshot.host_cores[active]
    return {"cpu_load_mean": round(float(load.mean()), 4),
            "cpu_load_max": round(float(load.max()), 4)}


def _misplaced(after: ClusterSnapshot, done: Sequence[ActionRecord]) -> int:
    """Succeeded migrations whose instance is not on its destination in ``after``.

    Only an instance's last hop counts: a detour's first hop is left on purpose.
    """
    last = {a.parameters.get("instance"): a for a in done}
    misplaced = 0
    for action in last.values():
        i = after.instance_ids.get(action.parameters.get("instance"))
        if i is None or after.host_names[after.inst_host[i]] != action.parameters.get(
                "destination"):
            misplaced += 1
    return misplaced


def _durations(actions: Sequence[ActionRecord]) -> dict[str, DurationSummary]:
    """Per action type, how long the actions that ran took."""
    seconds: dict[str, list[float]] = defaultdict(list)
    for action in actions:
        if action.duration_s is not None:
            seconds[action.type].append(action.duration_s)
    return {kind: DurationSummary.of(values) for kind, values in sorted(seconds.items())}
