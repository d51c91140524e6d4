"""The planner: dependency rules, cycle breaking, and safety in every execution order."""
from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from optimizer.models.records import Host, Instance, ServerGroup
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.moves import disable_emptied
from optimizer.strategies.solution import (
    ChangePowerState,
    ChangeServiceState,
    Migrate,
    Nop,
    Sleep,
    Solution,
)

from optimizer.planner import ActionGraph, PlanInfeasible, PlannerConfig, plan
from tests.builders import ClusterBuilder
from tests.referee import referee


def solution(*actions) -> Solution:
    return Solution("test", "dummy", tuple(actions))


def move(vm: str, src: str, dst: str) -> Migrate:
    return Migrate(instance=vm, source=src, destination=dst)


def edges(graph: ActionGraph) -> set[tuple[int, int]]:
    return set(graph.graph.edges)


def random_order(graph: ActionGraph, rng: random.Random) -> list[int]:
    """A topological order picking uniformly among the ready nodes."""
    waiting = {n: len(graph.parents(n)) for n in graph.graph.nodes}
    ready = [n for n, count in waiting.items() if not count]
    order = []
    while ready:
        node = ready.pop(rng.randrange(len(ready)))
        order.append(node)
        for child in graph.graph.succ[node]:
            waiting[child] -= 1
            if not waiting[child]:
                ready.append(child)
    return order


def replay_violations(snapshot: ClusterSnapshot, graph: ActionGraph, order: list[int]) -> list:
    actions = tuple(graph.action(n) for n in order)
    return referee(snapshot, solution(*actions), allow_repeat_moves=True).violations


# ----- host state rules -------------------------------------------------------


def evacuation() -> ClusterSnapshot:
    return (ClusterBuilder().hosts(3, memory_gb=16)
            .vm("a", on="h1").vm("b", on="h1").build())


def test_a_host_being_emptied_is_disabled_before_the_migrations_off_it():
    snap = evacuation()
    graph = plan(snap, solution(move("a", "h1", "h2"), move("b", "h1", "h3"),
                                ChangeServiceState(host="h1", state="disabled")))
    assert edges(graph) == {(2, 0), (2, 1)}
    assert graph.topological_order() == [2, 0, 1]


def test_without_disable_before_evacuation_the_host_is_disabled_once_empty():
    snap = evacuation()
    graph = plan(snap, solution(move("a", "h1", "h2"), move("b", "h1", "h3"),
                                ChangeServiceState(host="h1", state="disabled")),
                 PlannerConfig(disable_before_evacuation=False))
    assert edges(graph) == {(0, 2), (1, 2)}


def test_a_host_is_powered_off_only_after_every_migration_off_it():
    snap = evacuation()
    graph = plan(snap, solution(ChangePowerState(host="h1", state="off"),
                                move("a", "h1", "h2"), move("b", "h1", "h3")))
    assert graph.parents(0) == [1, 2]
    assert replay_violations(snap, graph, graph.topological_order()) == []


def test_a_host_is_powered_on_and_enabled_before_migrations_into_it():
    snap = (ClusterBuilder().host("h1").host("h2", state="down", status="disabled")
            .vm("a", on="h1").build())
    graph = plan(snap, solution(move("a", "h1", "h2"),
                                ChangePowerState(host="h2", state="on"),
                                ChangeServiceState(host="h2", state="enabled")))
    assert edges(graph) == {(1, 2), (1, 0), (2, 0)}
    assert graph.topological_order() == [1, 2, 0]


def test_a_disabled_destination_the_solution_does_not_enable_is_refused():
    snap = ClusterBuilder().host("h1").host("h2", status="disabled").vm("a", on="h1").build()
    with pytest.raises(PlanInfeasible, match="destination host h2 is disabled"):
        plan(snap, solution(move("a", "h1", "h2")))


def test_a_migration_from_where_the_instance_is_not_is_refused():
    snap = evacuation()
    with pytest.raises(PlanInfeasible, match="instance a is on host h1 at that point, not on"):
        plan(snap, solution(move("a", "h2", "h3")))


def test_nop_and_sleep_need_nothing():
    graph = plan(evacuation(), solution(Nop(message="hi"), Sleep(duration=2.0)))
    assert edges(graph) == set()
    assert graph.schedule().duration_s == pytest.approx(2.0)


# ----- room and anti-affinity ---------------------------------------------------


def test_arrivals_that_fit_the_free_room_wait_for_nothing_the_others_for_the_room():
    # h2 holds 8 GB of 12: one 4 GB arrival fits now, the second needs c gone
    snap = (ClusterBuilder().host("h1").host("h2", memory_gb=12).host("h3")
            .vm("a", on="h1").vm("b", on="h1").vm("c", on="h2", memory_gb=8).build())
    graph = plan(snap, solution(move("c", "h2", "h3"), move("a", "h1", "h2"),
                                move("b", "h1", "h2")))
    assert edges(graph) == {(0, 2)}


def test_an_arrival_waits_for_the_room_even_when_listed_first():
    snap = (ClusterBuilder().host("h1").host("h2", memory_gb=8).host("h3")
            .vm("a", on="h1", memory_gb=8).vm("c", on="h2", memory_gb=8).build())
    graph = plan(snap, solution(move("a", "h1", "h2"), move("c", "h2", "h3")))
    assert edges(graph) == {(1, 0)}


def test_a_group_member_waits_for_the_member_leaving_its_destination():
    snap = (ClusterBuilder().hosts(3)
            .vm("a", on="h1", group="g").vm("b", on="h2", group="g")
            .group("g", "anti-affinity").build())
    graph = plan(snap, solution(move("b", "h2", "h1"), move("a", "h1", "h3")))
    assert edges(graph) == {(1, 0)}


def test_a_final_placement_over_capacity_names_the_host_and_resource():
    snap = (ClusterBuilder().host("h1").host("h2", memory_gb=6)
            .vm("a", on="h1").vm("b", on="h1").build())
    with pytest.raises(PlanInfeasible, match="host h2: .*memory_mb 2048 above its allocatable"):
        plan(snap, solution(move("a", "h1", "h2"), move("b", "h1", "h2")))


def test_a_final_anti_affinity_violation_names_the_group_and_host():
    snap = (ClusterBuilder().hosts(2).vm("a", on="h1", group="g").vm("b", on="h2", group="g")
            .group("g", "anti-affinity").build())
    with pytest.raises(PlanInfeasible, match="group 'g' .* 2 members on host h2"):
        plan(snap, solution(move("a", "h1", "h2")))


# ----- cycles -------------------------------------------------------------------


def full_swap(spare_host: bool) -> ClusterSnapshot:
    builder = (ClusterBuilder().host("A", memory_gb=8).host("B", memory_gb=8)
               .vm("x", on="A", memory_gb=8).vm("y", on="B", memory_gb=8))
    if spare_host:
        builder.host("T", memory_gb=16).vm("t", on="T", memory_gb=4)
    return builder.build()


def test_a_swap_between_full_hosts_detours_through_a_host_with_room():
    snap = full_swap(spare_host=True)
    graph = plan(snap, solution(move("x", "A", "B"), move("y", "B", "A")))
    assert len(graph) == 3
    assert graph.action(0) == Migrate(instance="x", source="A", destination="T",
                                      reason=graph.action(0).reason)
    assert "detour via T" in graph.action(0).reason
    assert graph.action(2).source == "T" and graph.action(2).destination == "B"
    assert edges(graph) == {(0, 1), (0, 2), (1, 2)}
    assert replay_violations(snap, graph, graph.topological_order()) == []


def test_a_host_emptied_after_serving_as_a_detour_is_disabled_after_its_last_arrival():
    # y leaves h1 to make room for x, which stops on h1 on its way to B; h1 ends empty
    snap = (ClusterBuilder().host("A", memory_gb=8).host("h1", memory_gb=8)
            .host("B", memory_gb=8).host("C", memory_gb=8)
            .vm("x", on="A", memory_gb=8).vm("y", on="h1", memory_gb=8).build())
    graph = plan(snap, solution(move("y", "h1", "C"), move("x", "A", "h1"),
                                move("x", "h1", "B"),
                                ChangeServiceState(host="h1", state="disabled")))
    assert edges(graph) == {(0, 1), (1, 2), (1, 3), (3, 2)}
    assert replay_violations(snap, graph, graph.topological_order()) == []


def test_a_swap_with_no_host_to_detour_through_is_infeasible_naming_both_hosts():
    with pytest.raises(PlanInfeasible, match="hosts A, B wait on each other"):
        plan(full_swap(spare_host=False), solution(move("x", "A", "B"), move("y", "B", "A")))


# ----- the graph as data and as a schedule ---------------------------------------


def test_execution_records_put_parents_first_and_number_them_by_position():
    snap = evacuation()
    graph = plan(snap, solution(move("a", "h1", "h2"), move("b", "h1", "h3"),
                                ChangeServiceState(host="h1", state="disabled", reason="empty")))
    stored = graph.execution_records()
    records = graph.to_records()
    order = graph.topological_order()
    assert order[0] == 2, "the host is disabled before its instances leave"
    assert [r["type"] for r in stored] == [records[node]["type"] for node in order]
    assert stored[0] == {"type": "change_service_state", "reason": "empty", "parents": [],
                         "parameters": {"host": "h1", "state": "disabled"}}
    assert [r["parents"] for r in stored[1:]] == [[0], [0]]
    assert stored[1]["parameters"] == records[0]["parameters"]


def test_records_round_trip():
    snap = evacuation()
    graph = plan(snap, solution(move("a", "h1", "h2"), move("b", "h1", "h3"),
                                ChangeServiceState(host="h1", state="disabled", reason="empty")))
    records = graph.to_records()
    assert records[2] == {"id": 2, "type": "change_service_state",
                          "parameters": {"host": "h1", "state": "disabled"},
                          "reason": "empty", "parents": []}
    assert records[0]["parents"] == [2]
    again = ActionGraph.from_records(records, memory_mb={"a": 4096, "b": 4096})
    assert again.to_records() == records
    assert again.schedule().duration_s == pytest.approx(graph.schedule().duration_s)


def test_schedule_respects_the_concurrency_limits():
    snap = ClusterBuilder().hosts(4).vm("a", on="h1").vm("b", on="h2").vm("c", on="h3").build()
    actions = solution(move("a", "h1", "h4"), move("b", "h2", "h4"), move("c", "h3", "h4"))
    one_move = 5.0 + 4096 / 1000.0
    unlimited = plan(snap, actions, PlannerConfig(max_migrations_per_host=3)).schedule()
    assert unlimited.duration_s == pytest.approx(one_move)
    per_host = plan(snap, actions, PlannerConfig(max_migrations_per_host=2)).schedule()
    assert per_host.duration_s == pytest.approx(2 * one_move)
    assert per_host.critical_path_s == pytest.approx(one_move)
    serial = plan(snap, actions, PlannerConfig(max_migrations_per_host=3,
                                               max_parallel_migrations=1)).schedule()
    assert serial.duration_s == pytest.approx(3 * one_move)
    assert serial.peak_parallel_migrations == 1


def test_levels_group_nodes_by_depth():
    graph = plan(evacuation(), solution(move("a", "h1", "h2"), move("b", "h1", "h3"),
                                        ChangeServiceState(host="h1", state="disabled")))
    assert graph.levels() == [[2], [0, 1]]


# ----- every execution order is safe ---------------------------------------------

GB = 1024


@st.composite
def clusters_and_targets(draw):
    """A small full-ish cluster with anti-affinity groups, and a target placement
    that fits: both placements are drawn as preferred hosts, filled first-fit."""
    n_hosts = draw(st.integers(3, 8))
    memory = [draw(st.sampled_from([8, 12, 16])) for _ in range(n_hosts)]
    n_inst = draw(st.integers(n_hosts * 2, n_hosts * 4))
    sizes = [(draw(st.integers(1, 2)), draw(st.integers(1, 4))) for _ in range(n_inst)]
    groups = [draw(st.sampled_from([-1, -1, 0, 1, 2])) for _ in range(n_inst)]
    capacity = np.array([[8.0, m] for m in memory])

    def place(prefs):
        used = np.zeros_like(capacity)
        members: set[tuple[int, int]] = set()
        hosts = []
        for i, pref in enumerate(prefs):
            for k in range(n_hosts):
                h = (pref + k) % n_hosts
                if np.all(used[h] + sizes[i] <= capacity[h]) and (groups[i], h) not in members:
                    break
            else:
                return None
            used[h] += sizes[i]
            if groups[i] >= 0:
                members.add((groups[i], h))
            hosts.append(h)
        return hosts

    start = place([draw(st.integers(0, n_hosts - 1)) for _ in range(n_inst)])
    target = place([draw(st.integers(0, n_hosts - 1)) for _ in range(n_inst)])
    assume(start is not None and target is not None)
    hosts = [Host(f"h{h}", vcpus=8, memory_mb=memory[h] * GB, disk_gb=1000,
                  cpu_allocation_ratio=1.0) for h in range(n_hosts)]
    instances = [Instance(uuid=f"v{i}", name=f"v{i}", host=f"h{start[i]}", vcpus=sizes[i][0],
                          memory_mb=sizes[i][1] * GB, disk_gb=10, state="active",
                          cpu_util=0.5, server_group=f"g{groups[i]}" if groups[i] >= 0 else None)
                 for i in range(n_inst)]
    snap = ClusterSnapshot.from_records(
        hosts, instances, [ServerGroup(f"g{g}", "anti-affinity") for g in range(3)])
    return snap, np.array(target, dtype=np.int32), draw(st.randoms(use_true_random=False))


def sequential_moves(snap: ClusterSnapshot, target: np.ndarray) -> tuple[list[Migrate], bool]:
    """Moves in an order safe one at a time, found greedily; when stuck, the rest as they
    come (the planner must then break the cycle). Also says whether it got stuck."""
    where = snap.inst_host.copy()
    used = snap.allocated.copy()
    pending = [int(i) for i in np.flatnonzero(target != where)]
    ordered: list[int] = []
    progressed = True
    while pending and progressed:
        progressed = False
        for i in list(pending):
            h, g = int(target[i]), int(snap.inst_group[i])
            peers = g >= 0 and np.any((snap.inst_group == g) & (where == h))
            if np.all(used[h] + snap.inst_size[i] <= snap.allocatable[h]) and not peers:
                used[where[i]] -= snap.inst_size[i]
                used[h] += snap.inst_size[i]
                where[i] = h
                ordered.append(i)
                pending.remove(i)
                progressed = True
    moves = [move(snap.inst_uuids[i], snap.host_names[snap.inst_host[i]],
                  snap.host_names[target[i]]) for i in ordered + pending]
    return moves, bool(pending)


def assert_safe_in_random_orders(snap, graph, rng, orders=8):
    expected = list(range(len(graph)))
    for _ in range(orders):
        order = random_order(graph, rng)
        assert sorted(order) == expected  # every action exactly once
        assert replay_violations(snap, graph, order) == []


@pytest.mark.parametrize("listing", ["greedy", "shuffled"])
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(case=clusters_and_targets())
def test_every_order_of_a_planned_solution_is_safe(listing, case):
    snap, target, rng = case
    moves, stuck = sequential_moves(snap, target)
    if listing == "shuffled":
        rng.shuffle(moves)
    sol = solution(*moves, *disable_emptied(snap, target, "emptied"))
    try:
        graph = plan(snap, sol)
    except PlanInfeasible as exc:
        assert "wait on each other" in str(exc)
        assert stuck or listing == "shuffled"
        return
    detours = len(graph) - len(sol.actions)
    assert detours >= 0 and (detours == 0 or stuck or listing == "shuffled")
    assert_safe_in_random_orders(snap, graph, rng)
