"""Nova's real versioned notifications keep the live model current.

A :class:`~optimizer.listener.service.NovaListener` listens on the test
cloud's RabbitMQ vhost (topic ``versioned_notifications``), its model seeded
by the ``openstack`` collector; then Nova boots a server, live-migrates
another (through the ``nova`` actuator) and disables a compute service. The
model must show all three without a new collection.
"""
from __future__ import annotations

import time

from nova_cloud import sdk_connection

from optimizer.listener.live_model import LiveModel
from optimizer.listener.service import NovaListener
from optimizer.openstack.actuator import NovaActuator
from optimizer.openstack.collector import OpenStackCollector


def wait_until(check, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return check()


def test_boot_migration_and_service_change_reach_the_live_model(nova):
    flavor = nova.create_flavor("m1.notify", vcpus=1, ram_mb=256, disk_gb=1)
    moving = nova.boot("notify-moving", flavor)["id"]
    connection = sdk_connection(nova.compute_url, nova.placement_url)
    model = LiveModel(OpenStackCollector(connection).collect())
    listener = NovaListener(model, nova.transport_url, "versioned_notifications",
                            batch_timeout=0.1)
    listener.start()
    try:
        time.sleep(1)  # the listener's queue is bound before Nova sends anything
        booted = nova.boot("notify-new", flavor)["id"]
        actuator = NovaActuator(connection)
        source = nova.host_of(moving)
        destination = next(h for h in nova.compute_names if h != source)
        operation = actuator.start_migration(moving, source, destination, "live")
        assert wait_until(lambda: actuator.migration_status(operation).state == "succeeded")
        disabled = next(h for h in nova.compute_names if h not in (source, destination))
        actuator.set_service_state(disabled, False, "optimizer: notification test")

        def host_of(snapshot, uuid: str) -> str | None:
            if uuid not in snapshot.inst_uuids:
                return None
            return snapshot.host_names[snapshot.inst_host[snapshot.instance_id(uuid)]]

        def status_of(snapshot, host: str) -> str:
            return snapshot.host_record(snapshot.host_id(host)).status

        assert wait_until(lambda: host_of(model.snapshot(), booted) == nova.host_of(booted)
                          and status_of(model.snapshot(), disabled) == "disabled"), model.counts
        # post_dest.end names the destination; post.end, sent later by the
        # source, names the source and must not move the instance back
        assert wait_until(lambda: host_of(model.snapshot(), moving) == destination, 5), \
            f"the live model puts {moving} on {host_of(model.snapshot(), moving)}, " \
            f"not {destination} (it came from {source})"
    finally:
        listener.stop()
        actuator.set_service_state(disabled, True, None)
