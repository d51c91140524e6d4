"""State-change log lines, and the two formats ``optimizer serve`` logs in.

Every stored state change of an audit, an action plan or an action is one
INFO line of the ``optimizer.state`` logger, written after its transaction
committed (:func:`state_changed`), with the ids of the objects involved::

    2026-12-04 18:30:00.123 4242 INFO optimizer.state [audit=5a3c… action_plan=9e1b…]
    action_plan 9e1b…: RECOMMENDED -> PENDING

``[logging] format = json`` makes every line of the service one JSON object
instead (:class:`JsonFormatter`), the ids and states as fields::

    {"time": "2026-12-04T18:30:00.123456+00:00", "level": "INFO",
     "logger": "optimizer.state", "message": "action_plan 9e1b…: RECOMMENDED -> PENDING",
     "pid": 4242, "event": "state_change", "kind": "action_plan", "old_state": "RECOMMENDED",
     "new_state": "PENDING", "audit": "5a3c…", "action_plan": "9e1b…"}
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

STATE_LOG = logging.getLogger("optimizer.state")
FORMATS = ("text", "json")
# the ids of a state change, in the order a line names them
ID_FIELDS = ("audit", "action_plan", "action")


def state_changed(kind: str, uuid: str, old: str | None, new: str, **ids: str | None) -> None:
    """Log that the ``kind`` (audit, action_plan, action) ``uuid`` went ``old`` → ``new``.

    ``ids`` are the uuids of the objects it belongs to (``audit=``,
    ``action_plan=``); its own is added under ``kind``.
    """
    if not STATE_LOG.isEnabledFor(logging.INFO):
        return
    fields = {"event": "state_change", "kind": kind, "old_state": old, "new_state": new,
              **{k: v for k, v in ids.items() if v is not None}, kind: uuid}
    STATE_LOG.info("%s %s: %s -> %s", kind, uuid, old or "new", new, extra={"fields": fields})


class TextFormatter(logging.Formatter):
    """oslo.log's layout: time, pid, level, logger, ``[context]``, message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s "
                         "[%(context)s] %(message)s", datefmt="%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {}
        record.context = " ".join(f"{k}={fields[k]}" for k in ID_FIELDS if k in fields) or "-"
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, pid, and the fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname, "logger": record.name,
                "message": record.getMessage(), "pid": record.process,
                "thread": record.threadName}
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def formatter(name: str) -> logging.Formatter:
    """The formatter of ``[logging] format`` ``name`` (text or json)."""
    if name not in FORMATS:
        raise ValueError(f"log format {name!r} is not one of {', '.join(FORMATS)}")
    return JsonFormatter() if name == "json" else TextFormatter()


def use_format(name: str, root: logging.Logger | None = None) -> None:
    """Log every line of this process in format ``name``, at INFO at least.

    The handlers already on the root logger (the command line's stderr
    handler) get the formatter; a process without one gets a stderr handler.
    """
    root = root or logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(formatter(name))
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
