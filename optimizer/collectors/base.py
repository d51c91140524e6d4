"""The collector interface and how a configured name becomes a collector."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot

if TYPE_CHECKING:
    from optimizer.config import Settings

COLLECTOR_GROUP = "optimizer.collectors"


class CollectorError(UserError):
    """A collector that cannot be found, loaded or read."""


@runtime_checkable
class Collector(Protocol):
    """Where the cluster model comes from.

    ``collect`` returns a full snapshot. Incremental updates (notifications
    between full collections) come through the model listener, which applies
    them to the latest snapshot; a collector only needs the full view.
    """

    name: str

    def collect(self) -> ClusterSnapshot: ...


def open_collector(settings: Settings, name: str | None = None) -> Collector:
    """The collector configured in ``settings`` (or called ``name``)."""
    from optimizer.plugins import load_group

    name = name or settings.collector.name
    factory = _only_entry_point(name)
    if factory is not None:
        return factory(settings)
    plugins = load_group(COLLECTOR_GROUP)  # to say what is wrong, with every collector's fate
    if name not in plugins.loaded:
        for failure in plugins.failures:
            if failure.name == name:
                raise CollectorError(f"collector {name!r} failed to load: {failure.error}")
        known = ", ".join(sorted(plugins.loaded)) or "none"
        raise CollectorError(f"unknown collector {name!r} (installed: {known})")
    return plugins.loaded[name](settings)


def _only_entry_point(name: str):
    """The factory of the one collector called ``name``, loaded alone; None when there is
    not exactly one or it fails to load. The others (OpenStack's pulls in an HTTP
    client) are then not imported by a command that does not use them."""
    from importlib.metadata import entry_points

    found = list(entry_points(group=COLLECTOR_GROUP, name=name))
    if len(found) != 1:
        return None
    try:
        return found[0].load()
    except Exception:  # reported, with its error, by the full load
        return None
