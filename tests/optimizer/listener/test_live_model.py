"""The live model: Nova notifications applied in batches, bad ones skipped with a log line."""
from __future__ import annotations

import logging

import oslo_messaging
import pytest
from optimizer.models.records import Host, Instance
from optimizer.models.snapshot import ClusterSnapshot

from optimizer.cloud.simulated import SimulatedCloud
from optimizer.listener import LiveModel, parse
from optimizer.listener.nova import instance_payload, service_payload
from optimizer.listener.service import NovaEndpoint, NovaListener
from optimizer.messaging.transport import notification_transport
from tests.optimizer.messaging.support import unique_topics, wait_for


def cluster() -> ClusterSnapshot:
    hosts = [Host(f"h{k}", vcpus=32, memory_mb=65536, disk_gb=1000) for k in range(3)]
    instances = [Instance("i0", "h0", 2, 2048, 20), Instance("i1", "h1", 4, 4096, 40)]
    return ClusterSnapshot.from_records(hosts, instances)


def message(event_type, payload, at):
    return {"event_type": event_type, "payload": payload, "metadata": {"timestamp": at}}


def apply(model, *messages):
    NovaEndpoint(model).info(list(messages))


def test_events_move_create_delete_and_disable():
    model = LiveModel(cluster(), taken_at=100.0)
    apply(model,
          message("instance.live_migration_post_dest.end",
                  instance_payload("i0", "h2", "active", 2, 2048, 20), 101.0),
          message("instance.create.end", instance_payload("i9", "h1", "active", 8, 8192, 80),
                  102.0),
          message("instance.delete.end", instance_payload("i1", "h1", "deleted", 4, 4096, 40),
                  103.0),
          message("instance.power_off.end",
                  instance_payload("i9", "h1", "stopped", 8, 8192, 80), 104.0),
          message("service.update", service_payload("h0", enabled=False, up=True,
                                                    reason="maintenance"), 105.0))
    snap = model.snapshot()
    assert snap.inst_uuids == ("i0", "i9")
    assert [snap.host_names[h] for h in snap.inst_host] == ["h2", "h1"]
    assert snap.inst_state == ("active", "stopped")
    assert snap.inst_size[1].tolist() == [8, 8192, 80]
    assert snap.instance_id("i9") == 1
    assert not snap.host_enabled[0] and snap.host_disabled_reason[0] == "maintenance"
    assert snap.allocated[1].tolist() == [8, 8192, 80]  # derived arrays follow
    assert model.counts.applied == 5 and model.counts.skipped == 0


def test_malformed_unknown_and_out_of_order_are_logged_and_skipped(caplog):
    model = LiveModel(cluster(), taken_at=100.0)
    with caplog.at_level(logging.WARNING, logger="optimizer.listener.live_model"):
        apply(model, message("instance.live_migration_post_dest.end",
                             instance_payload("i0", "h2", "active", 2, 2048, 20), 110.0))
        # within a batch events are put in time order; across batches a late one is stale
        apply(model,
              message("instance.update", instance_payload("i0", "h1", "active", 2, 2048, 20),
                      105.0),  # older than the move already applied
              message("instance.update", {"no": "payload"}, 111.0),
              message("instance.exists", instance_payload("i0", "h1", "active", 2, 2048, 20),
                      112.0),
              message("instance.update", instance_payload("i1", "h7", "active", 4, 4096, 40),
                      113.0),  # unknown host
              message("instance.update", instance_payload("i1", "h1", "active", 4, 4096, 40),
                      99.0),  # before the last full resync
              message("instance.update", instance_payload("i1", "h1", "active", 4, 4096, 40),
                      "not a time"))
    snap = model.snapshot()
    assert snap.host_names[snap.inst_host[0]] == "h2"
    assert model.counts.applied == 1 and model.counts.skipped == 6
    assert model.counts.reasons == {"out of order": 2, "malformed": 2, "unknown": 1,
                                    "cannot apply": 1}
    assert "older than the state applied" in caplog.text and "instance.exists" in caplog.text


def test_a_large_batch_is_applied_at_once():
    model = LiveModel(cluster(), taken_at=0.0)
    events = [parse("instance.update", instance_payload("i0", f"h{k % 3}", "active", 2, 2048,
                                                        20), {"timestamp": float(k + 1)})
              for k in range(5000)]
    model.submit(events)
    assert model.apply_pending() == 5000
    assert model.snapshot().host_names[model.snapshot().inst_host[0]] == "h1"  # 5000 % 3


@pytest.fixture
def cloud(tmp_path):
    cloud = SimulatedCloud(tmp_path / "cloud.db")
    cloud.load(cluster())
    yield cloud
    cloud.close()


def test_simulated_cloud_changes_reach_the_model_over_the_bus(cloud):
    topic = unique_topics().nova
    notifier = oslo_messaging.Notifier(notification_transport("fake://"),
                                       publisher_id="nova-compute:sim", driver="messagingv2",
                                       topics=[topic])
    cloud.notify = lambda event_type, payload: notifier.info({}, event_type, payload)
    model = LiveModel(cloud.snapshot(), taken_at=0.0)
    listener = NovaListener(model, "fake://", topic, batch_timeout=0.05)
    listener.start()
    try:
        cloud.start_migration("i0", "h0", "h2", "live")  # instant: bandwidth 0
        cloud.set_service_state("h1", False, "drain")
        wait_for(lambda: model.counts.applied >= 2, what="two events applied")
        snap = model.snapshot()
        assert snap.host_names[snap.inst_host[snap.instance_id("i0")]] == "h2"
        assert not snap.host_enabled[snap.host_id("h1")]
    finally:
        listener.stop()


def test_live_migration_post_end_names_the_source_and_does_not_move_back():
    """Real Nova: post_dest.end (destination) first, then post.end from the source."""
    model = LiveModel(cluster(), taken_at=100.0)
    apply(model,
          message("instance.live_migration_post_dest.end",
                  instance_payload("i0", "h2", "active", 2, 2048, 20), 101.0),
          message("instance.live_migration_post.end",
                  instance_payload("i0", "h0", "active", 2, 2048, 20), 102.0))
    snap = model.snapshot()
    assert snap.host_names[snap.inst_host[snap.instance_id("i0")]] == "h2"
