"""List requests: query parameters checked once, pages and the ``next`` link.

Watcher's lists take ``limit``, ``marker`` (the uuid of the last item seen),
``sort_key`` and ``sort_dir`` plus a few filters, and answer at most
``limit`` items (never more than :data:`MAX_LIMIT`) with a ``next`` URL
when the page is full. Unknown query parameters are refused, as Watcher's
WSME layer does, so a typo in a filter is not silently ignored.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from optimizer.api.errors import BadRequest
from optimizer.db import Page
from optimizer.db.query import is_uuid

MAX_LIMIT = 1000  # Watcher's [api] max_limit default
PAGE_PARAMETERS = ("limit", "marker", "sort_key", "sort_dir")


@dataclass(frozen=True)
class ListQuery:
    """A checked list request: the page and the filters given (by their API names)."""

    page: Page
    filters: dict[str, str]

    @property
    def limit(self) -> int:
        return self.page.limit or MAX_LIMIT


def parse_list_query(request: Request, filters: Collection[str],
                     sort_keys: Collection[str], default_sort: str = "id") -> ListQuery:
    """Check the query string of a list request; any problem is one 400 line."""
    params = request.query_params
    allowed = set(PAGE_PARAMETERS) | set(filters)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequest(f"unknown query parameter(s) {', '.join(unknown)} "
                         f"(allowed: {', '.join(sorted(allowed))})")
    limit = parse_limit(params.get("limit"))
    marker = params.get("marker")
    if marker is not None and not is_uuid(marker):
        raise BadRequest(f"marker {marker!r} is not a UUID")
    sort_key = params.get("sort_key", default_sort)
    if sort_key not in sort_keys:
        raise BadRequest(f"cannot sort by {sort_key!r} (sort keys: {', '.join(sort_keys)})")
    sort_dir = params.get("sort_dir", "asc").lower()
    if sort_dir not in ("asc", "desc"):
        raise BadRequest(f"sort_dir must be asc or desc, got {params.get('sort_dir')!r}")
    chosen = {name: params[name] for name in filters if params.get(name) not in (None, "")}
    return ListQuery(Page(limit, marker, sort_key, sort_dir), chosen)


def parse_limit(text: str | None) -> int:
    """``limit`` as a positive int, at most :data:`MAX_LIMIT` (none given: the maximum)."""
    if text is None or text == "":
        return MAX_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise BadRequest(f"limit must be a positive integer, got {text!r}") from None
    if limit < 1:
        raise BadRequest(f"limit must be a positive integer, got {limit}")
    return min(limit, MAX_LIMIT)


def next_link(request: Request, resource: str, query: ListQuery,
              items: Sequence[Mapping[str, Any]]) -> str | None:
    """The URL of the page after ``items``, or None when this page is the last."""
    if not items or len(items) < query.limit:
        return None
    args = dict(query.filters)
    if query.page.sort_key != "id":
        args["sort_key"] = query.page.sort_key
    if query.page.sort_dir != "asc":
        args["sort_dir"] = query.page.sort_dir
    args["limit"] = str(query.limit)
    args["marker"] = items[-1]["uuid"]
    return f"{base_url(request)}/v1/{resource}?{urlencode(args)}"


def base_url(request: Request) -> str:
    """The service's root URL, worked out once per request (a page links every item)."""
    cached = getattr(request.state, "base_url", None)
    if cached is None:
        cached = request.state.base_url = str(request.base_url).rstrip("/")
    return cached


def page_in_memory(items: list[dict], page: Page,
                   key: Callable[[dict], Any] | None = None) -> list[dict]:
    """One page of a short list kept in memory (goals, strategies, services)."""
    key = key or (lambda item: item.get(page.sort_key))
    ordered = sorted(items, key=lambda item: (_sortable(key(item)), item["uuid"]),
                     reverse=page.sort_dir == "desc")
    if page.marker is not None:
        uuids = [item["uuid"] for item in ordered]
        if page.marker not in uuids:
            raise BadRequest(f"marker {page.marker!r} is not the uuid of any listed item")
        ordered = ordered[uuids.index(page.marker) + 1:]
    return ordered[: page.limit] if page.limit else ordered


def _sortable(value: Any) -> tuple:
    # None sorts first; numbers and text never meet, each list holds one kind
    return (value is not None, value if value is not None else 0)
