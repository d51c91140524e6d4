"""Packages whose names are imported from their modules on first use (PEP 562).

``from optimizer.db.errors import NotFound`` runs ``optimizer/db/__init__.py``
first; when that imports every module of the package (SQLAlchemy's ORM,
Alembic, the planner's networkx), a command that needs one small module pays
for all of them before it does anything. A package built with
:func:`lazy_exports` keeps its names (``from optimizer.db import list_audits``
works as before) but imports a module only when one of its names is asked for.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each name in ``exports`` comes,
    when first used, from the module named beside it (relative to the package)."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
