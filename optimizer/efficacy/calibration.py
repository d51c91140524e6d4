"""Migration bandwidth learnt from measured migration durations.

The planner estimates a migration as ``action_overhead_s + memory /
bandwidth``. Each succeeded migration whose duration was measured gives a
sample of the bandwidth it really got, ``memory / (duration - overhead)``;
samples update an exponentially weighted mean per (source, destination)
host pair and one over every pair (:data:`OVERALL`), so the estimate
follows the cloud as it changes and one odd migration moves it only part
of the way. A migration no longer than the overhead says nothing about
bandwidth and is not a sample.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from optimizer.efficacy.measure import MIGRATE, ActionRecord
from optimizer.planning.config import PlannerConfig
from optimizer.states import ActionState

OVERALL = ("*", "*")  # the pair under which the bandwidth over every pair is kept
WEIGHT = 0.3          # share of a new sample in the mean


@dataclass(frozen=True)
class MigrationSample:
    """The bandwidth one migration got between two hosts."""

    source: str
    destination: str
    mb_s: float


@dataclass(frozen=True)
class Learnt:
    """The weighted mean bandwidth of a pair and how many samples made it."""

    mb_s: float
    samples: int


Table = Mapping[tuple[str, str], Learnt]


def migration_samples(actions: Iterable[ActionRecord], memory_mb: Mapping[str, float],
                      overhead_s: float) -> list[MigrationSample]:
    """Bandwidth samples of the succeeded, timed migrations; ``memory_mb`` by instance uuid."""
    samples = []
    for action in actions:
        if action.type != MIGRATE or action.state != ActionState.SUCCEEDED:
            continue
        memory = memory_mb.get(action.parameters.get("instance"), 0.0)
        if action.duration_s is None or memory <= 0 or action.duration_s <= overhead_s:
            continue
        samples.append(MigrationSample(action.parameters["source"],
                                       action.parameters["destination"],
                                       memory / (action.duration_s - overhead_s)))
    return samples


def learn(table: Table, samples: Sequence[MigrationSample],
          weight: float = WEIGHT) -> dict[tuple[str, str], Learnt]:
    """``table`` updated by ``samples`` in order (the pairs they touch, and OVERALL)."""
    out = dict(table)
    for sample in samples:
        for pair in ((sample.source, sample.destination), OVERALL):
            old = out.get(pair)
            out[pair] = (Learnt(sample.mb_s, 1) if old is None else
                         Learnt(old.mb_s + weight * (sample.mb_s - old.mb_s), old.samples + 1))
    return out


def calibrated(config: PlannerConfig, table: Table) -> PlannerConfig:
    """``config`` estimating migrations with the learnt bandwidths, where known."""
    if not table:
        return config
    overall = table.get(OVERALL)
    return replace(
        config,
        migration_bandwidth_mb_s=overall.mb_s if overall else config.migration_bandwidth_mb_s,
        pair_bandwidth_mb_s={pair: learnt.mb_s for pair, learnt in table.items()
                             if pair != OVERALL})
