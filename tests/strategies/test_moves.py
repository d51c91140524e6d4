"""order_moves and friends: a target placement becomes migrations safe at every step."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.strategies.moves import (
    InfeasibleOrder,
    consolidation_indicators,
    disable_emptied,
    migration_type,
    order_moves,
)
from optimizer.strategies.solution import Solution

from tests.builders import ClusterBuilder
from tests.referee import referee


def target_of(snapshot, where: dict[str, str]) -> np.ndarray:
    target = snapshot.inst_host.copy()
    for uuid, host in where.items():
        target[snapshot.instance_id(uuid)] = snapshot.host_id(host)
    return target


def replay(snapshot, moves, **kw):
    return referee(snapshot, Solution("test", "dummy", tuple(moves)), **kw)


def test_moves_wait_until_their_destination_has_room():
    # b must leave h2 before a fits there
    snap = (ClusterBuilder().hosts(3, memory_gb=16)
            .vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=12).build())
    target = target_of(snap, {"a": "h2", "b": "h3"})
    moves = order_moves(snap, target, {0: "pack"})
    assert [m.instance for m in moves] == ["b", "a"]
    assert moves[1].reason == "pack"
    verdict = replay(snap, moves)
    assert verdict.ok, verdict.violations
    assert verdict.placement.tolist() == target.tolist()


def test_a_swap_is_broken_by_a_detour():
    snap = (ClusterBuilder().hosts(3, memory_gb=16)
            .vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=12).build())
    target = target_of(snap, {"a": "h2", "b": "h1"})
    moves = order_moves(snap, target)
    assert len(moves) == 3 and "detour" in moves[0].reason
    verdict = replay(snap, moves, allow_repeat_moves=True)
    assert verdict.ok, verdict.violations
    assert verdict.placement.tolist() == target.tolist()


def test_a_swap_without_spare_room_is_infeasible():
    snap = (ClusterBuilder().hosts(2, memory_gb=16)
            .vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=12).build())
    with pytest.raises(InfeasibleOrder, match="h1, h2"):
        order_moves(snap, target_of(snap, {"a": "h2", "b": "h1"}))


def test_anti_affinity_holds_at_every_step():
    snap = (ClusterBuilder().hosts(3)
            .vm("a", on="h1", group="g").vm("b", on="h2", group="g")
            .group("g", "anti-affinity").build())
    target = target_of(snap, {"a": "h2", "b": "h3"})
    moves = order_moves(snap, target)
    assert [m.instance for m in moves] == ["b", "a"]
    assert replay(snap, moves).ok


def test_unchanged_target_gives_no_moves():
    snap = ClusterBuilder().hosts(2).vm("a", on="h1").build()
    assert order_moves(snap, snap.inst_host.copy()) == []


def test_migration_type_is_live_only_for_active():
    snap = (ClusterBuilder().host("h1").vm("a", on="h1").vm("b", on="h1", state="paused")
            .build())
    assert [migration_type(snap, i) for i in range(2)] == ["live", "cold"]


def test_disable_emptied_and_indicators():
    snap = (ClusterBuilder().hosts(3).host("off", status="disabled")
            .vm("a", on="h1", memory_gb=2).vm("b", on="h2", memory_gb=6)
            .vm("c", on="h3").vm("x", on="off").build())
    target = target_of(snap, {"a": "h3", "b": "h3", "x": "h3"})
    disabled = disable_emptied(snap, target, "emptied")
    assert [(d.host, d.state, d.reason) for d in disabled] == [
        ("h1", "disabled", "emptied"), ("h2", "disabled", "emptied")]
    moves = order_moves(snap, target)
    indicators = {i.name: i.value for i in consolidation_indicators(snap, target, moves)}
    assert indicators == {"compute_nodes_count": 4, "released_compute_nodes_count": 3,
                          "instance_migrations_count": 3, "migrated_memory_gb": 12.0}



def _tight_cluster(seed: int):
    """3-5 hosts nearly full, anti-affinity members, and a random final placement that fits."""
    import numpy as np
    from optimizer.models.records import Host, Instance, ServerGroup
    from optimizer.models.snapshot import ClusterSnapshot

    rng = np.random.default_rng(seed)
    count = int(rng.integers(3, 6))
    hosts = [Host(f"h{k}", vcpus=8, memory_mb=8192, disk_gb=100) for k in range(count)]
    groups = [ServerGroup("g0", "anti-affinity"), ServerGroup("g1", "anti-affinity")]
    instances, used = [], [0] * count
    for k in range(40):
        memory = int(rng.choice([1024, 2048, 4096]))
        h = int(rng.integers(count))
        if used[h] + memory > 8192:
            continue
        used[h] += memory
        group = f"g{int(rng.integers(2))}" if rng.random() < 0.2 else None
        if any(x.server_group == group and x.host == f"h{h}" for x in instances):
            group = None
        instances.append(Instance(f"v{k}", f"h{h}", vcpus=1, memory_mb=memory, disk_gb=1,
                                  server_group=group))
    snapshot = ClusterSnapshot.from_records(hosts, instances, groups)
    target = np.array(snapshot.inst_host, dtype=np.int64)
    free = snapshot.allocatable[:, 1] - np.bincount(target, weights=snapshot.inst_size[:, 1],
                                                    minlength=count)
    for i in rng.permutation(snapshot.instance_count):
        h, size, g = int(rng.integers(count)), snapshot.inst_size[i, 1], snapshot.inst_group[i]
        if g >= 0 and any(target[j] == h for j in np.flatnonzero(snapshot.inst_group == g)
                          if j != i):
            continue
        if free[h] >= size and h != target[i]:
            free[target[i]] += size
            free[h] -= size
            target[i] = h
    return snapshot, target


def test_order_moves_always_ends_on_tight_random_clusters():
    """A safe order or InfeasibleOrder, never an endless search (seed 1784 looped before)."""
    from optimizer.strategies.moves import InfeasibleOrder, order_moves
    from optimizer.strategies.solution import Solution

    from tests.referee import referee

    for seed in [1784, *range(200)]:
        snapshot, target = _tight_cluster(seed)
        try:
            moves = order_moves(snapshot, target)
        except InfeasibleOrder:
            continue
        verdict = referee(snapshot, Solution("t", "g", tuple(moves)), allow_repeat_moves=True)
        assert verdict.ok, (seed, verdict.violations[:2])
