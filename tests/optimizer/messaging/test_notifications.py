"""Notifications of audits, plans and actions, on the fake transport."""
from __future__ import annotations

import oslo_messaging
import pytest

from optimizer.db import add_action_plan, create_audit, delete_audit, open_database, set_audit_state
from optimizer.messaging.notifications import NotificationEmitter, watch_database
from optimizer.messaging.transport import notification_transport
from tests.optimizer.messaging.support import unique_topics, wait_for


class Recorder:
    def __init__(self):
        self.seen = []

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self.seen.append((publisher_id, event_type, payload))


@pytest.fixture
def watched(tmp_path):
    topic = unique_topics().notifications
    database = open_database(f"sqlite:///{tmp_path / 'n.db'}")
    emitter = NotificationEmitter("fake://", topic, "node-1", database)
    unhook = watch_database(database, emitter)
    recorder = Recorder()
    listener = oslo_messaging.get_notification_listener(
        notification_transport("fake://"), [oslo_messaging.Target(topic=topic)], [recorder])
    listener.start()
    yield database, emitter, recorder
    listener.stop(), listener.wait()
    unhook(), emitter.close(), database.close()


def test_create_state_change_and_delete_are_notified(watched):
    database, emitter, recorder = watched
    with database.session() as session:
        audit = create_audit(session, goal="dummy", name="a1")
    with database.session() as session:
        set_audit_state(session, audit.uuid, "ONGOING")
        add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy"},
                        [{"type": "nop"}])
    with database.session() as session:
        set_audit_state(session, audit.uuid, "SUCCEEDED")
    with database.session() as session:
        delete_audit(session, audit.uuid)
    emitter.flush()
    wait_for(lambda: len(recorder.seen) >= 8, what="8 notifications")
    events = [e for _, e, _ in recorder.seen]
    assert events[:4] == ["audit.create", "audit.update", "action_plan.create", "action.create"]
    assert "audit.delete" in events and "action_plan.delete" in events
    publisher, _, update = recorder.seen[1]
    assert publisher == "infra-optim:node-1"
    assert update["watcher_object.name"] == "AuditUpdatePayload"
    data = update["watcher_object.data"]
    assert data["uuid"] == audit.uuid and data["name"] == "a1"
    assert data["state_update"]["watcher_object.data"] == {"old_state": "PENDING",
                                                           "state": "ONGOING"}
    plan = recorder.seen[2][2]["watcher_object.data"]
    assert plan["audit_uuid"] == audit.uuid and plan["state"] == "RECOMMENDED"
    action = recorder.seen[3][2]["watcher_object.data"]
    assert action["action_type"] == "nop" and action["action_plan_uuid"] == plan["uuid"]


def test_nothing_is_notified_for_a_rolled_back_transaction(watched):
    database, emitter, recorder = watched
    with pytest.raises(RuntimeError), database.session() as session:
        create_audit(session, goal="dummy")
        raise RuntimeError("abandon")
    emitter.flush()
    assert recorder.seen == []
