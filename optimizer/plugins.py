"""Discovery of plugins declared as entry points.

Names become objects here, at the edge: the rest of the engine receives
strategy objects and never looks at entry points. A plugin that fails to load
is reported by name with its error, never silently dropped.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from optimizer.strategies.base import GOALS, Strategy, UnknownStrategy

LOG = logging.getLogger(__name__)
STRATEGY_GROUP = "optimizer.strategies"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, and why."""

    group: str
    name: str
    target: str
    error: str


@dataclass
class Plugins:
    """Loaded plugins of one entry point group, and the ones that failed."""

    group: str
    loaded: dict[str, Any] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)


def load_group(group: str, check: Any = None) -> Plugins:
    """Load every entry point of ``group``; ``check(obj)`` may raise to refuse one."""
    plugins = Plugins(group)
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            obj = ep.load()
            if check is not None:
                check(ep.name, obj)
        except Exception as exc:  # a broken plugin must not hide the others
            failure = PluginFailure(group, ep.name, ep.value, f"{type(exc).__name__}: {exc}")
            LOG.warning("plugin %s in %s failed to load: %s", ep.name, group, failure.error)
            plugins.failures.append(failure)
            continue
        if ep.name in plugins.loaded:
            plugins.failures.append(PluginFailure(group, ep.name, ep.value,
                                                  "duplicate name; the first one is kept"))
            continue
        plugins.loaded[ep.name] = obj
    return plugins


def _check_strategy(name: str, obj: Any) -> None:
    if not isinstance(obj, Strategy):
        raise TypeError(f"entry point does not name a strategies.base.Strategy (got {obj!r})")
    if obj.name != name:
        raise ValueError(f"entry point name {name!r} differs from the strategy's name {obj.name!r}")
    if obj.goal not in GOALS:
        raise ValueError(f"unknown goal {obj.goal!r} (known: {', '.join(GOALS)})")
    obj.sections()  # the docstring must follow the template


def load_strategies() -> Plugins:
    """All installed strategies, keyed by name, with the ones that failed to load."""
    return load_group(STRATEGY_GROUP, _check_strategy)


def find_strategy(name: str, plugins: Plugins | None = None) -> Strategy:
    """The installed strategy called ``name``; a clear error naming the choices otherwise."""
    plugins = plugins or load_strategies()
    if name in plugins.loaded:
        return plugins.loaded[name]
    for failure in plugins.failures:
        if failure.name == name:
            raise UnknownStrategy(f"strategy {name!r} failed to load: {failure.error}")
    raise UnknownStrategy(
        f"unknown strategy {name!r} (installed: {', '.join(sorted(plugins.loaded)) or 'none'})")


SCORING_ENGINE_GROUP = "optimizer.scoring_engines"


def _check_scoring_engine(name: str, obj: Any) -> None:
    missing = [attr for attr in ("name", "description", "metainfo", "calculate_score")
               if not hasattr(obj, attr)]
    if missing:
        raise TypeError(f"scoring engine lacks {', '.join(missing)} (got {obj!r})")
    if obj.name != name:
        raise ValueError(f"entry point name {name!r} differs from the engine's name {obj.name!r}")


def load_scoring_engines() -> Plugins:
    """Installed scoring engines (Watcher's machine-learning scorers), keyed by name.

    A scoring engine has ``name``, ``description``, ``metainfo`` (text saying
    what its features and scores mean) and ``calculate_score(features)``; none
    ships with the optimizer, a third party declares one under this group.
    """
    return load_group(SCORING_ENGINE_GROUP, _check_scoring_engine)
