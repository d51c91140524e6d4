"""Column types that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

import logging
import math
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime
from sqlalchemy.types import TypeDecorator

LOG = logging.getLogger(__name__)


class FiniteJSON(TypeDecorator):
    """A JSON document that never holds NaN or an infinity: each is stored as null.

    JSON has no such numbers. Python writes them as bare ``NaN`` tokens that
    PostgreSQL refuses (``invalid input syntax for type json``), failing the
    whole write; null is what they mean and every reader accepts it.
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        # JSONB on PostgreSQL (indexable, compact), JSON text on SQLite
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB  # imported by PostgreSQL's use

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())

    def process_bind_param(self, value: Any, dialect) -> Any:
        if _plainly_finite(value):
            return value
        cleaned, changed = finite(value)
        if changed:
            LOG.warning("a stored JSON document held NaN or infinite numbers; stored as null")
        return cleaned


def _plainly_finite(value: Any) -> bool:
    # orjson writes a non-finite float as null, so a document without null in
    # its text has none: one pass in C instead of a Python walk of every value
    # (a plan's host changes name every host of the cluster).
    try:
        return b"null" not in orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return False


def finite(value: Any) -> tuple[Any, bool]:
    """``value`` with non-finite floats replaced by None, and whether any was."""
    if isinstance(value, float):
        return (value, False) if math.isfinite(value) else (None, True)
    if isinstance(value, dict):
        items = [(k, *finite(v)) for k, v in value.items()]
        if any(changed for _, _, changed in items):
            return {k: v for k, v, _ in items}, True
        return value, False
    if isinstance(value, list | tuple):
        items = [finite(v) for v in value]
        if any(changed for _, changed in items):
            return [v for v, _ in items], True
        return value, False
    return value, False


JSONDocument = FiniteJSON()

UUID_LENGTH = 36


def new_uuid() -> str:
    """A random UUID as the 36-character string stored in ``uuid`` columns."""
    return str(uuid.uuid4())


def new_uuids(count: int) -> list[str]:
    """``count`` random UUIDs (version 4) as :func:`new_uuid` writes them, made in one go.

    ``uuid.uuid4`` builds an object per call; for the tens of thousands of
    actions of a plan that was a third of the time to store it.
    """
    random = os.urandom(16 * count).hex()
    made = []
    for k in range(0, 32 * count, 32):
        h = random[k:k + 32]
        # the version nibble is 4; the variant's two top bits are 10 (RFC 4122)
        made.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}")
    return made


_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, so values are normalised to UTC on the way in and
    marked UTC on the way out; naive values are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
