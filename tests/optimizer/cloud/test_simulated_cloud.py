"""The simulated cloud: persistence, migrations that take time, refusals, faults."""
from __future__ import annotations

import pytest

from optimizer.cloud.simulated import FAILED, RUNNING, SUCCEEDED, CloudError, Faults, SimulatedCloud
from tests.builders import ClusterBuilder


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def small_cluster():
    return (ClusterBuilder()
            .host("h1", vcpus=8, memory_gb=24, disk_gb=1000)
            .host("h2", vcpus=8, memory_gb=16, disk_gb=1000)
            .host("h3", vcpus=8, memory_gb=16, disk_gb=1000, status="disabled")
            .vm("a", on="h1", vcpus=2, memory_gb=8)
            .vm("b", on="h1", vcpus=2, memory_gb=8)
            .vm("c", on="h2", vcpus=2, memory_gb=4, state="shutoff")
            .build())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cloud(tmp_path, clock) -> SimulatedCloud:
    cloud = SimulatedCloud(tmp_path / "cloud.db", clock=clock)
    cloud.load(small_cluster())
    return cloud


def test_state_survives_reopening(tmp_path, cloud):
    cloud.start_migration("a", "h1", "h2", "live")
    again = SimulatedCloud(tmp_path / "cloud.db")
    snapshot = again.snapshot()
    assert again.host_of("a") == "h2"
    assert snapshot.host_names == ("h1", "h2", "h3")
    assert not snapshot.host_enabled[2]


def test_migration_takes_memory_over_bandwidth(cloud, clock):
    cloud.configure(bandwidth_mb_s=1024)  # 8 GB instance: 8 seconds
    migration = cloud.start_migration("a", "h1", "h2", "live")
    assert cloud.migration(migration).state == RUNNING
    assert cloud.host_of("a") == "h1"
    clock.now += 8
    assert cloud.migration(migration).state == SUCCEEDED
    assert cloud.host_of("a") == "h2"
    assert cloud.migration_count("a") == 1


def test_refuses_what_nova_would_refuse(cloud):
    with pytest.raises(CloudError, match="is on h1, not h2"):
        cloud.start_migration("a", "h2", "h1", "live")
    with pytest.raises(CloudError, match="not up and enabled"):
        cloud.start_migration("a", "h1", "h3", "live")
    with pytest.raises(CloudError, match="only active instances migrate live"):
        cloud.start_migration("c", "h2", "h1", "live")
    cloud.start_migration("a", "h1", "h2", "live")
    with pytest.raises(CloudError, match="no room: memory_mb"):
        cloud.start_migration("b", "h1", "h2", "live")  # 8 + 4 + 8 > 16 GB


def test_running_migrations_claim_room_on_their_destination(cloud, clock):
    cloud.configure(bandwidth_mb_s=1)
    cloud.start_migration("a", "h1", "h2", "live")
    with pytest.raises(CloudError, match="no room"):
        cloud.start_migration("b", "h1", "h2", "live")


def test_abort_leaves_instance_on_source(cloud, clock):
    cloud.configure(bandwidth_mb_s=1)
    migration = cloud.start_migration("a", "h1", "h2", "live")
    assert cloud.abort_migration(migration)
    clock.now += 10_000
    assert cloud.host_of("a") == "h1"
    assert not cloud.abort_migration(migration)


def test_injected_failures_and_hangs(cloud, clock):
    cloud.configure(faults=Faults(fail_instances=("a",), hang_instances=("c",)))
    failed = cloud.start_migration("a", "h1", "h2", "live")
    assert cloud.migration(failed).state == FAILED
    assert cloud.host_of("a") == "h1"
    hung = cloud.start_migration("c", "h2", "h1", "cold")
    clock.now += 10_000
    assert cloud.migration(hung).state == RUNNING


def test_failure_rate_is_repeatable(tmp_path):
    outcomes = []
    for run in range(2):
        cloud = SimulatedCloud(tmp_path / f"c{run}.db")
        cloud.load(small_cluster())
        cloud.configure(faults=Faults(failure_rate=0.5, seed=7))
        first = cloud.start_migration("a", "h1", "h2", "live")
        outcomes.append(cloud.migration(first).state)
    assert outcomes[0] == outcomes[1]


def test_service_and_power(cloud):
    cloud.set_service_state("h3", True)
    assert cloud.host_state("h3") == (True, True)
    with pytest.raises(CloudError, match="still runs 2 instance"):
        cloud.set_power_state("h1", False)
    cloud.set_power_state("h3", False)
    assert cloud.host_state("h3") == (False, True)
    with pytest.raises(CloudError, match="does not exist"):
        cloud.set_service_state("nope", False)


def test_many_threads_may_open_a_new_cloud_file_at_once(tmp_path):
    import threading

    errors = []

    def open_it():
        try:
            assert SimulatedCloud(tmp_path / "new.db").is_empty
        except Exception as exc:  # collected: an assertion in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
