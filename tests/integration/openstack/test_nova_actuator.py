"""The nova actuator against a real Nova: live and cold moves, service states, refusals."""
from __future__ import annotations

import time

import pytest
from nova_cloud import sdk_connection

from optimizer.applier.actuator import ActuatorError
from optimizer.openstack.actuator import NovaActuator


def finish(actuator: NovaActuator, operation: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = actuator.migration_status(operation)
        if status.state != "running":
            return status.state
        time.sleep(0.3)
    return "running"


@pytest.fixture(scope="module")
def actuator(nova):
    return NovaActuator(sdk_connection(nova.compute_url, nova.placement_url))


def test_live_then_cold_migration_end_on_their_destinations(nova, actuator):
    flavor = nova.create_flavor("m1.actuator", vcpus=1, ram_mb=256, disk_gb=1)
    uuid = nova.boot("actuator-vm", flavor)["id"]
    info = actuator.instance(uuid)
    assert (info.host, info.state, info.memory_mb) == (nova.host_of(uuid), "active", 256)

    first = next(h for h in nova.compute_names if h != info.host)
    live = actuator.start_migration(uuid, info.host, first, "live")
    assert finish(actuator, live) == "succeeded"
    assert actuator.migration_status(live).destination == first
    assert nova.host_of(uuid) == first

    second = next(h for h in nova.compute_names if h not in (info.host, first))
    cold = actuator.start_migration(uuid, first, second, "cold")
    assert finish(actuator, cold) == "succeeded"  # confirmed by the actuator on the way
    server = nova.compute("GET", f"/servers/{uuid}")["server"]
    assert (server["OS-EXT-SRV-ATTR:host"], server["status"]) == (second, "ACTIVE")
    # Finished migrations cannot be aborted, and none is running any more.
    assert actuator.abort_migration(live) is False
    assert actuator.running_migrations(uuid) == []


def test_service_disable_and_enable_with_reason(nova, actuator):
    host = nova.compute_names[-1]
    actuator.set_service_state(host, False, "optimizer: emptied by plan X")
    assert actuator.host_state(host) == (True, False)
    service = nova.compute("GET", f"/os-services?binary=nova-compute&host={host}")["services"][0]
    assert service["disabled_reason"] == "optimizer: emptied by plan X"
    actuator.set_service_state(host, True, None)
    assert actuator.host_state(host) == (True, True)


def test_refusals_are_one_clear_line(nova, actuator):
    assert actuator.instance("00000000-0000-0000-0000-000000000000") is None
    assert actuator.host_state("no-such-host") is None
    with pytest.raises(ActuatorError, match="no nova-compute service on host 'no-such-host'"):
        actuator.set_service_state("no-such-host", False, "x")
    with pytest.raises(ActuatorError, match="cannot power host 'compute-1' off"):
        actuator.set_power_state("compute-1", False)
    with pytest.raises(ActuatorError, match=r"nova POST /servers/0000.*/action: HTTP 404"):
        actuator.start_migration("00000000-0000-0000-0000-000000000000", "compute-1",
                                 "compute-2", "live")
