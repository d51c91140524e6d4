"""simulate_cluster: the same spec gives the same cluster, and the spec is kept."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.models.errors import UserError
from optimizer.models.scenario import scenario_to_dict
from optimizer.models.simulated import SimulationSpec, simulate_cluster

SPEC = SimulationSpec(hosts=24, fill=0.5, zones=2, hosts_per_rack=8, disabled_hosts=3,
                      stopped_instances=7, server_groups=8, series_length=6, seed=11)


@pytest.fixture(scope="module")
def cluster():
    return simulate_cluster(SPEC)


def test_same_seed_same_cluster(cluster):
    assert scenario_to_dict(simulate_cluster(SPEC)) == scenario_to_dict(cluster)


def test_other_seed_other_cluster(cluster):
    other = simulate_cluster(SimulationSpec(**{**SPEC.__dict__, "seed": 12}))
    assert other.inst_uuids != cluster.inst_uuids


def test_hosts_follow_the_spec(cluster):
    assert cluster.host_count == 24
    assert set(cluster.host_zone) == {"az1", "az2"}
    assert len(set(cluster.host_rack)) == 3  # 8 hosts a rack
    assert int(np.count_nonzero(~cluster.host_enabled)) == 3
    disabled = np.flatnonzero(~cluster.host_enabled)
    assert cluster.instances_per_host[disabled].sum() == 0


def test_instances_follow_the_spec(cluster):
    assert sum(s == "shutoff" for s in cluster.inst_state) == 7
    assert cluster.inst_series is not None and cluster.inst_series.shape == (
        cluster.instance_count, 6)
    assert np.all(cluster.allocated <= cluster.allocatable + 1e-6)
    enabled = cluster.host_enabled
    memory_share = cluster.allocated[enabled, 1].sum() / cluster.allocatable[enabled, 1].sum()
    assert memory_share == pytest.approx(0.5, abs=0.05)


def test_groups_start_out_respected(cluster):
    assert len(cluster.group_names) == 8
    assert cluster.group_policies[0] == "affinity"
    for g, policy in enumerate(cluster.group_policies):
        hosts = cluster.inst_host[cluster.inst_group == g]
        if policy == "affinity":
            assert len(set(hosts.tolist())) <= 1
        else:
            assert len(set(hosts.tolist())) == len(hosts)


def test_bad_spec_lists_every_problem():
    with pytest.raises(UserError, match="hosts must be at least 1.*fill must be"):
        simulate_cluster(SimulationSpec(hosts=0, fill=2.0))
