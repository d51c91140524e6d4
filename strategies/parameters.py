"""Typed strategy parameters: declared once, validated, turned into a JSON schema.

A strategy's parameters are a frozen dataclass whose fields are made with
:func:`param`. From it come defaults, validation that reports every problem
at once, parsing of ``key=value`` strings from the command line, and the
JSON schema an API publishes.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

from optimizer.models.errors import UserError


class ParameterError(UserError):
    """Parameters a strategy cannot accept; the message lists every problem."""


def param(default: Any = dataclasses.MISSING, *, help: str, minimum: float | None = None,
          maximum: float | None = None, choices: tuple | None = None) -> Any:
    """A strategy parameter with its documentation and limits."""
    metadata = {"help": help, "minimum": minimum, "maximum": maximum, "choices": choices}
    if isinstance(default, list | tuple):
        return dataclasses.field(default_factory=lambda: tuple(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class ParameterSpec:
    """One parameter as users see it: name, type, default, limits, help."""

    name: str
    type: str
    default: Any
    required: bool
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None


_JSON_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean",
               "string": "string", "list": "array"}


def _kind(annotation: Any) -> tuple[str, bool]:
    """('integer'|'number'|'boolean'|'string'|'list', optional) for a field's type."""
    optional = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
    origin = typing.get_origin(annotation) or annotation
    kinds = {int: "integer", float: "number", bool: "boolean", str: "string",
             tuple: "list", list: "list"}
    return kinds.get(origin, "string"), optional


def describe(params_type: type) -> list[ParameterSpec]:
    """The parameters of a params dataclass, in declaration order."""
    hints = typing.get_type_hints(params_type)
    specs = []
    for f in dataclasses.fields(params_type):
        kind, _ = _kind(hints[f.name])
        if f.default is not dataclasses.MISSING:
            default, required = f.default, False
        elif f.default_factory is not dataclasses.MISSING:
            default, required = list(f.default_factory()), False
        else:
            default, required = None, True
        meta = f.metadata
        specs.append(ParameterSpec(
            name=f.name, type=kind, default=default, required=required,
            help=meta.get("help", ""), minimum=meta.get("minimum"),
            maximum=meta.get("maximum"), choices=meta.get("choices"),
        ))
    return specs


def json_schema(params_type: type) -> dict:
    """A JSON schema (draft 2020-12) describing the parameters."""
    properties, required = {}, []
    hints = typing.get_type_hints(params_type)
    for spec in describe(params_type):
        _, optional = _kind(hints[spec.name])
        prop: dict[str, Any] = {"description": spec.help}
        json_type = _JSON_TYPES[spec.type]
        prop["type"] = [json_type, "null"] if optional else json_type
        if spec.type == "list":
            prop["items"] = {"type": "string"}
        if not spec.required:
            prop["default"] = spec.default
        else:
            required.append(spec.name)
        if spec.minimum is not None:
            prop["minimum"] = spec.minimum
        if spec.maximum is not None:
            prop["maximum"] = spec.maximum
        if spec.choices is not None:
            prop["enum"] = list(spec.choices)
        properties[spec.name] = prop
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": properties, "required": required, "additionalProperties": False}


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}``; a pair without ``=`` is an error."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"parameter {pair!r}: expected key=value")
        out[key.strip()] = value
    return out


def build_parameters(params_type: type, values: Mapping[str, Any], *, strategy: str) -> Any:
    """Validated parameters from a mapping of JSON values or command-line strings.

    Every problem is collected and reported in one :class:`ParameterError`.
    """
    specs = {s.name: s for s in describe(params_type)}
    hints = typing.get_type_hints(params_type)
    problems = [f"unknown parameter {k!r} (known: {', '.join(specs) or 'none'})"
                for k in values if k not in specs]
    kwargs = {}
    for name, spec in specs.items():
        if name not in values:
            if spec.required:
                problems.append(f"parameter {name!r} is required")
            continue
        _, optional = _kind(hints[name])
        try:
            kwargs[name] = _coerce(spec, values[name], optional)
        except ValueError as exc:
            problems.append(f"parameter {name!r}: {exc}")
    if problems:
        raise ParameterError(f"strategy {strategy}: " + "; ".join(problems))
    return params_type(**kwargs)


def _coerce(spec: ParameterSpec, raw: Any, optional: bool) -> Any:
    if raw is None or (optional and isinstance(raw, str) and raw.lower() in ("", "none", "null")):
        if optional:
            return None
        raise ValueError("must have a value")
    value = _convert(spec.type, raw)
    if spec.choices is not None and value not in spec.choices:
        raise ValueError(f"must be one of {', '.join(map(str, spec.choices))}, got {raw!r}")
    if spec.minimum is not None and value < spec.minimum:
        raise ValueError(f"must be at least {spec.minimum}, got {raw!r}")
    if spec.maximum is not None and value > spec.maximum:
        raise ValueError(f"must be at most {spec.maximum}, got {raw!r}")
    return value


def _convert(kind: str, raw: Any) -> Any:
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(raw, str) and raw.lower() in ("false", "no", "0", "off"):
            return False
        raise ValueError(f"must be true or false, got {raw!r}")
    if kind in ("integer", "number"):
        if isinstance(raw, bool):
            raise ValueError(f"must be a number, got {raw!r}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"must be a number, got {raw!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"must be a finite number, got {raw!r}")
        if kind == "integer":
            if not value.is_integer():
                raise ValueError(f"must be a whole number, got {raw!r}")
            return int(value)
        return value
    if kind == "list":
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                try:
                    raw = json.loads(text)
                except json.JSONDecodeError:
                    raise ValueError(
                        f"must be a JSON list or comma-separated, got {raw!r}") from None
            else:
                raw = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
            raise ValueError(f"must be a list of strings, got {raw!r}")
        return tuple(raw)
    if not isinstance(raw, str):
        raise ValueError(f"must be a string, got {raw!r}")
    return raw
