"""Every strategy leaves alone the instances that may not move."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.models.simulated import SimulationSpec, simulate_cluster

from optimizer.plugins import load_strategies
from tests.strategies.test_contract import params_for

STRATEGIES = load_strategies().loaded


def cluster_with_unmovable():
    snapshot = simulate_cluster(SimulationSpec(hosts=10, server_groups=3, cpu_util=0.5, seed=9))
    pinned = np.zeros(snapshot.instance_count, dtype=bool)
    pinned[::3] = True  # a third of the instances are excluded by a scope
    return snapshot.restrict(np.ones(snapshot.host_count, dtype=bool), pinned)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_pinned_instances_never_move(name):
    snapshot = cluster_with_unmovable()
    solution = STRATEGIES[name].run(snapshot, params_for(name, snapshot))
    stay = {snapshot.inst_uuids[i] for i in np.flatnonzero(~snapshot.movable)}
    assert stay
    assert not [m.instance for m in solution.migrations if m.instance in stay]
