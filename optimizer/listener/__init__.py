"""Keeping the cluster model fresh between full collections.

``nova`` turns Nova's versioned notifications into small events,
``live_model`` applies them in batches to the latest snapshot, and
``service`` consumes them from the message bus and resyncs periodically.
"""
from optimizer.listener.live_model import LiveModel
from optimizer.listener.nova import InstanceEvent, MalformedNotification, ServiceEvent, parse

__all__ = ["InstanceEvent", "LiveModel", "MalformedNotification", "ServiceEvent", "parse"]
