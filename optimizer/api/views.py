"""Pieces every resource representation shares: links, times and catalog uuids.

Goals and strategies are stored by name; Watcher's API gives them uuids.
Theirs are derived from the name (UUID 5), so they are the same on every
installation and never need storing.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import Request

from optimizer.api.pagination import base_url

_NAMESPACE = uuid.UUID("0c1b5f3e-6f6e-5c1a-9f4e-6f7074696d7a")


def goal_uuid(name: str | None) -> str | None:
    """The stable uuid the API gives the goal ``name``."""
    return None if name is None else str(uuid.uuid5(_NAMESPACE, f"goal:{name}"))


def strategy_uuid(name: str | None) -> str | None:
    """The stable uuid the API gives the strategy ``name``."""
    return None if name is None else str(uuid.uuid5(_NAMESPACE, f"strategy:{name}"))


def scoring_engine_uuid(name: str) -> str:
    """The stable uuid the API gives the scoring engine ``name``."""
    return str(uuid.uuid5(_NAMESPACE, f"scoring_engine:{name}"))


def host_uuid(name: str) -> str:
    """The stable uuid the data model gives a compute host (nodes have no other)."""
    return str(uuid.uuid5(_NAMESPACE, f"node:{name}"))


def iso(moment: datetime | None) -> str | None:
    """A stored time as ISO 8601 text, as Watcher writes it."""
    return None if moment is None else moment.isoformat()


def links(request: Request, resource: str, ident: str) -> list[dict]:
    """Watcher's ``self`` and ``bookmark`` links of one item."""
    base = base_url(request)
    return [{"href": f"{base}/v1/{resource}/{ident}", "rel": "self"},
            {"href": f"{base}/{resource}/{ident}", "rel": "bookmark"}]


def only(item: dict, fields: tuple[str, ...]) -> dict:
    """The short form of an item in a list without ``detail``."""
    return {name: item[name] for name in fields if name in item}
