"""List and search requests: their parameters and their answer.

The same request arrives as query parameters of a GET (RFC 7644 §3.4.2) or
as a SearchRequest body POSTed to ``.search`` (RFC 7644 §3.4.3);
``ListRequest`` is the one form both become.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import falcon

from scim_server.errors import InvalidSyntax, InvalidValue

SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
MAX_START_INDEX = 2**62


@dataclasses.dataclass(frozen=True)
class ListRequest:
    filter: str | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    start_index: str | int | None = None
    count: str | int | None = None
    attributes: tuple[str, ...] = ()
    excluded_attributes: tuple[str, ...] = ()
    # RFC 9865: present (even empty) asks for cursor paging.
    cursor: str | None = None

    @classmethod
    def from_query(cls, req: falcon.Request) -> ListRequest:
        return cls(
            filter=req.get_param("filter"),
            sort_by=req.get_param("sortBy"),
            sort_order=req.get_param("sortOrder"),
            start_index=req.get_param("startIndex"),
            count=req.get_param("count"),
            attributes=comma_list(req, "attributes"),
            excluded_attributes=comma_list(req, "excludedAttributes"),
            cursor=req.get_param("cursor"),
        )

    @classmethod
    def from_search_request(cls, body: Any) -> ListRequest:
        """Read a SearchRequest (RFC 7644 §3.4.3); names match in any case."""
        if not isinstance(body, Mapping):
            raise InvalidSyntax("a SearchRequest must be a JSON object")
        fields = {key.lower(): value for key, value in body.items()}
        return cls(
            filter=_optional(fields, "filter", str),
            sort_by=_optional(fields, "sortBy", str),
            sort_order=_optional(fields, "sortOrder", str),
            start_index=_optional(fields, "startIndex", int),
            count=_optional(fields, "count", int),
            attributes=_names(fields, "attributes"),
            excluded_attributes=_names(fields, "excludedAttributes"),
            cursor=_optional(fields, "cursor", str),
        )


def comma_list(req: falcon.Request, name: str) -> tuple[str, ...]:
    """A parameter given as ``a,b``, repeated, or both (RFC 7644 §3.4.2.5)."""
    values = req.get_param_as_list(name) or []
    return tuple(
        part.strip() for value in values for part in value.split(",") if part.strip()
    )


def _optional(fields: Mapping[str, Any], name: str, kind: type) -> Any:
    value = fields.get(name.lower())
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidValue(f"{name} must be a {kind.__name__}")
    return value


def _names(fields: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = fields.get(name.lower())
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidValue(f"{name} must be a list of attribute names")
    return tuple(v.strip() for v in value if v.strip())


@dataclasses.dataclass(frozen=True)
class Page:
    start_index: int  # 1-based, as SCIM counts
    count: int

    @property
    def offset(self) -> int:
        return self.start_index - 1

    @classmethod
    def parse(
        cls,
        start_index: str | int | None,
        count: str | int | None,
        *,
        default_count: int,
        max_count: int,
    ) -> Page:
        """Read ``startIndex`` and ``count`` the way real clients send them.

        A startIndex below 1 means 1 and a negative count means 0 (RFC 7644
        §3.4.2.4). A count above the cap is lowered to it rather than refused:
        the Databricks SDK asks for 10,000 per page and pages on regardless.
        """
        start = _integer("startIndex", start_index, 1)
        wanted = _integer("count", count, default_count)
        # Any startIndex past the last resource gives an empty page, so a
        # larger one is lowered to a value the database and JSON can carry.
        start = min(max(start, 1), MAX_START_INDEX)
        return cls(start_index=start, count=min(max(wanted, 0), max_count))


def _integer(name: str, raw: str | int | None, default: int) -> int:
    if isinstance(raw, int):
        return raw
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidValue(f"{name} must be an integer, got {raw!r}") from None


def cursor_response(
    resources: list[dict[str, Any]],
    total: int,
    next_cursor: str | None,
    previous_cursor: str | None,
) -> dict[str, Any]:
    """A ListResponse of a cursor page (RFC 9865): cursors instead of index."""
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "itemsPerPage": len(resources),
    }
    if next_cursor is not None:
        body["nextCursor"] = next_cursor
    if previous_cursor is not None:
        body["previousCursor"] = previous_cursor
    body["Resources"] = resources
    return body


def list_response(
    resources: list[dict[str, object]], total: int, page: Page
) -> dict[str, object]:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "itemsPerPage": len(resources),
        "startIndex": page.start_index,
        "Resources": resources,
    }
