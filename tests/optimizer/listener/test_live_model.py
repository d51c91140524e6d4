"""The live model: Nova notifications applied in batches, bad ones skipped with a log line."""
from __future__ import annotations

import logging
import re
import time

import numpy as np
import oslo_messaging
import pytest
from optimizer.models.records import Host, Instance
from optimizer.models.snapshot import ClusterSnapshot

from optimizer.cloud.simulated import SimulatedCloud
from optimizer.listener import InstanceEvent, LiveModel, MalformedNotification, parse
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


def garbled(uuid, **data):
    """An instance payload with some fields replaced (or added) as given."""
    payload = instance_payload(uuid, "h1", "active", 2, 2048, 20)
    payload["nova_object.data"].update(data)
    return payload


def test_one_malformed_event_costs_only_itself(caplog):
    """Regression: a host given as a list raised in apply_pending and lost the whole batch."""
    model = LiveModel(cluster(), taken_at=100.0)
    nan_flavor = instance_payload("i1", "h2", "active", float("nan"), 4096, 40)
    with caplog.at_level(logging.WARNING, logger="optimizer.listener.live_model"):
        apply(model,
              message("instance.update", garbled("i0", host=["h1", "h2"]), 101.0),
              message("instance.live_migration_post_dest.end",
                      instance_payload("i0", "h2", "active", 2, 2048, 20), 102.0),
              message("instance.update", garbled("i1", state=3), 103.0),
              message("instance.update", nan_flavor, 104.0),
              message("instance.update", garbled("i1", display_name={"x": 1}), 105.0),
              message("service.update", {"nova_object.data": {"host": "h0", "disabled": "yes"}},
                      106.0),
              message("instance.power_off.end",
                      instance_payload("i1", "h1", "stopped", 4, 4096, 40), 107.0))
    snap = model.snapshot()
    assert snap.host_names[snap.inst_host[0]] == "h2"
    assert snap.inst_state[1] == "stopped" and snap.host_enabled[0]
    assert model.counts.applied == 2 and model.counts.reasons == {"malformed": 5}
    for fragment in ("instance.update for i0: payload field 'host' must be a string, "
                     "got list ['h1', 'h2']",
                     "payload field 'state' must be a string, got int 3",
                     "instance.update for i1: flavor vcpus must be between 0 and 65536, got nan",
                     "payload field 'display_name' must be a string",
                     "service.update for host h0: payload field 'disabled' must be true or "
                     "false, got str 'yes'"):
        assert fragment in caplog.text


def test_a_bad_event_handed_to_the_model_directly_is_skipped_alone(caplog):
    model = LiveModel(cluster(), taken_at=100.0)
    good = InstanceEvent("i0", 102.0, host="h2")
    model.submit([InstanceEvent("i1", 101.0, host=["h0"]), good,
                  InstanceEvent("i1", float("nan"), host="h0"),
                  InstanceEvent("i1", 103.0, flavor=(4.0, -1.0, 40.0))])
    with caplog.at_level(logging.WARNING, logger="optimizer.listener.live_model"):
        assert model.apply_pending() == 1
    snap = model.snapshot()
    assert snap.host_names[snap.inst_host[0]] == "h2"
    assert snap.inst_size[1].tolist() == [4, 4096, 40]
    assert model.counts.reasons == {"malformed": 3}
    assert "InstanceEvent i1: field 'host' must be a string, got list ['h0']" in caplog.text
    assert "flavor memory_mb must be between 0 and 67108864, got -1.0" in caplog.text


@pytest.mark.parametrize("sizes, fragment", [
    ((float("nan"), 2048, 20), "vcpus must be between 0 and 65536, got nan"),
    ((2, -2048, 20), "memory_mb must be between 0 and 67108864, got -2048"),
    ((2, 2048, 1e300), "root_gb must be between 0 and 1048576, got 1e+300"),
    ((2, float("inf"), 20), "memory_mb must be between 0 and 67108864, got inf"),
    (("2", 2048, 20), "vcpus must be a number, got str '2'"),
    ((True, 2048, 20), "vcpus must be a number, got bool True"),
])
def test_a_flavor_with_impossible_sizes_is_refused(sizes, fragment):
    """Regression: a NaN flavor was accepted and later failed every audit on PostgreSQL."""
    with pytest.raises(MalformedNotification, match=re.escape(fragment)):
        parse("instance.create.end", instance_payload("i9", "h1", "active", *sizes),
              {"timestamp": 101.0})
    model = LiveModel(cluster(), taken_at=100.0)
    apply(model, message("instance.resize_confirm.end",
                         instance_payload("i0", "h0", "active", *sizes), 101.0))
    assert model.counts.reasons == {"malformed": 1}
    assert np.isfinite(model.snapshot().inst_size).all()
    assert model.snapshot().inst_size[0].tolist() == [2, 2048, 20]


def test_an_event_from_the_far_future_is_refused_and_does_not_pin_the_instance(caplog):
    """Regression: one event stamped years ahead made every later real event 'out of order'."""
    model = LiveModel(cluster())  # the default bound, on the real clock
    with caplog.at_level(logging.WARNING, logger="optimizer.listener.live_model"):
        apply(model, message("instance.update",
                             instance_payload("i0", "h2", "active", 2, 2048, 20),
                             time.time() + 10 * 365 * 86400),
              message("service.update", service_payload("h1", enabled=False, up=True),
                      "2999-01-01T00:00:00"))
    assert model.counts.reasons == {"from the future": 2}
    assert "more than 300s ahead of this clock" in caplog.text
    apply(model,
          message("instance.update", instance_payload("i0", "h1", "active", 2, 2048, 20),
                  time.time()),
          message("service.update", service_payload("h1", enabled=False, up=True),
                  time.time()))
    snap = model.snapshot()
    assert snap.host_names[snap.inst_host[0]] == "h1"
    assert not snap.host_enabled[1]
    assert model.counts.applied == 2


def test_a_sender_a_little_ahead_is_accepted_within_the_configured_skew():
    now = [1_000_000.0]
    model = LiveModel(cluster(), taken_at=now[0] - 10, max_clock_skew_s=60,
                      clock=lambda: now[0])
    apply(model, message("instance.update", instance_payload("i0", "h2", "active", 2, 2048, 20),
                         now[0] + 50),
          message("instance.update", instance_payload("i1", "h2", "active", 4, 4096, 40),
                  now[0] + 70))
    assert model.counts.applied == 1 and model.counts.reasons == {"from the future": 1}
    now[0] += 30  # the clock catches up: the same event is now within the bound
    apply(model, message("instance.update", instance_payload("i1", "h2", "active", 4, 4096, 40),
                         now[0] + 40))
    assert model.counts.applied == 2


def test_the_clock_skew_bound_is_checked():
    with pytest.raises(ValueError, match="max_clock_skew_s"):
        LiveModel(cluster(), max_clock_skew_s=-1)


def test_the_clock_skew_is_configured_under_listener(tmp_path, monkeypatch):
    from optimizer.config import load_config

    monkeypatch.delenv("OPTIMIZER_DATABASE_URL", raising=False)
    config = tmp_path / "optimizer.conf"
    config.write_text("[listener]\ntopic = versioned_notifications\n")
    assert load_config(str(config)).service.max_clock_skew_s == 300
    config.write_text("[listener]\nmax_clock_skew_s = 60\n")
    assert load_config(str(config)).service.max_clock_skew_s == 60
