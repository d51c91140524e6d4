"""Audit scopes: include and exclude hosts, zones, aggregates and instances."""
from __future__ import annotations

import pytest

from optimizer.decision.scope import ScopeError, apply_scope, normalize_scope
from tests.builders import ClusterBuilder


@pytest.fixture
def cluster():
    return (ClusterBuilder()
            .host("a1", zone="az1").host("a2", zone="az1").host("b1", zone="az2")
            .vm("v1", on="a1").vm("v2", on="a2").vm("v3", on="b1")
            .build())


def test_empty_scope_is_the_whole_cluster(cluster):
    assert apply_scope(cluster, []) is cluster
    assert apply_scope(cluster, None) is cluster


def test_include_zone_keeps_its_hosts_and_their_instances(cluster):
    scoped = apply_scope(cluster, {"include": {"zones": ["az1"]}})
    assert scoped.host_names == ("a1", "a2")
    assert set(scoped.inst_uuids) == {"v1", "v2"}
    assert scoped.host_names[scoped.inst_host[scoped.instance_id("v2")]] == "a2"


def test_exclude_host_and_pin_instance(cluster):
    scoped = apply_scope(cluster, {"exclude": {"hosts": ["b1"], "instances": ["v1"]}})
    assert scoped.host_names == ("a1", "a2")
    assert scoped.movable.tolist() == [False, True]


def test_watcher_list_form(cluster):
    watcher = [{"compute": [{"availability_zones": [{"name": "az2"}]},
                            {"exclude": [{"instances": [{"uuid": "v3"}]}]}]}]
    assert normalize_scope(watcher) == {"include": {"zones": ["az2"]},
                                        "exclude": {"instances": ["v3"]}}
    scoped = apply_scope(cluster, watcher)
    assert scoped.host_names == ("b1",) and not scoped.movable[0]


@pytest.mark.parametrize("scope, message", [
    ({"include": {"zones": ["az9"]}}, "include.zones names unknown zone az9"),
    ({"exclude": {"instances": ["nope"]}}, "exclude.instances names unknown instance nope"),
    ({"include": {"racks": ["r1"]}}, "include has unknown key"),
    ({"everything": True}, "unknown key"),
    ({"include": {"hosts": "a1"}}, "must be a list of names"),
    (42, "must be an object or a list"),
])
def test_bad_scopes_are_named(cluster, scope, message):
    with pytest.raises(ScopeError, match=message):
        apply_scope(cluster, scope)
