"""Index paging parameters of list requests (RFC 7644 §3.4.2.4)."""

from __future__ import annotations

import dataclasses

from scim_server.errors import InvalidValue


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
        start_index: str | None,
        count: str | None,
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
        return cls(start_index=max(start, 1), count=min(max(wanted, 0), max_count))


def _integer(name: str, raw: str | None, default: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidValue(f"{name} must be an integer, got {raw!r}") from None


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
