"""Consuming Nova notifications from the bus into a :class:`LiveModel`.

A batch notification listener hands the endpoint up to ``batch_size``
messages at a time; each is parsed, the good ones queued on the model and
applied as one batch. An unknown, malformed, out-of-order or future-dated
notification is logged and skipped — alone: the rest of its batch applies,
and the listener never stops for one. A resync thread
replaces the model by a full collection every ``resync_interval_s``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import oslo_messaging

from optimizer.listener.live_model import LiveModel
from optimizer.listener.nova import MalformedNotification, UnknownNotification, parse
from optimizer.messaging.transport import notification_transport
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.observability import current_metrics

LOG = logging.getLogger(__name__)
NOVA_EXCHANGE = "nova"


class NovaEndpoint:
    """Batch endpoint: parse every message, queue the events, apply them at once."""

    def __init__(self, model: LiveModel):
        self.model = model

    def info(self, messages: list[dict]) -> None:
        events = []
        for message in messages:
            event_type = message.get("event_type")
            try:
                events.append(parse(str(event_type), message.get("payload"),
                                    message.get("metadata")))
            except UnknownNotification as exc:
                self.model.counts.skip("unknown", "%s", exc)
            except MalformedNotification as exc:
                self.model.counts.skip("malformed", "%s", exc)
            except Exception as exc:  # whatever arrives, the listener carries on
                self.model.counts.skip("malformed", "%s: %s", event_type, exc)
        current_metrics().notifications_received(len(messages), [e.timestamp for e in events])
        self.model.submit(events)
        self.model.apply_pending()

    warn = error = info


class NovaListener:
    """A running notification listener feeding ``model``, and its resync loop."""

    def __init__(self, model: LiveModel, transport_url: str, topic: str,
                 collect: Callable[[], ClusterSnapshot] | None = None,
                 resync_interval_s: float = 600.0, pool: str | None = None,
                 batch_size: int = 1000, batch_timeout: float = 0.1):
        self.model = model
        self.collect = collect
        self.resync_interval_s = resync_interval_s
        targets = [oslo_messaging.Target(topic=topic),
                   oslo_messaging.Target(topic=topic, exchange=NOVA_EXCHANGE)]
        self.server = oslo_messaging.get_batch_notification_listener(
            notification_transport(transport_url), targets, [NovaEndpoint(model)],
            pool=pool, batch_size=batch_size,
            batch_timeout=batch_timeout)
        self._stop = threading.Event()
        self._resync = threading.Thread(target=self._resync_loop, name="model-resync",
                                        daemon=True)

    def start(self) -> None:
        self.server.start()
        if self.collect is not None:
            self._resync.start()

    def stop(self) -> None:
        self._stop.set()
        self.server.stop()
        self.server.wait()
        if self._resync.is_alive():
            self._resync.join(timeout=5)

    def resync_now(self) -> None:
        """Replace the model by a full collection, keeping newer queued events."""
        taken_at = time.time()
        try:
            snapshot = self.collect()
        except Exception:  # a failed collection leaves the model as it was
            LOG.exception("live model resync failed; keeping the current model")
            return
        self.model.resync(snapshot, taken_at)

    def _resync_loop(self) -> None:
        while not self._stop.wait(self.resync_interval_s):
            self.resync_now()
