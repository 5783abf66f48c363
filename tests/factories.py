"""Request bodies for tests, with just enough variety to be realistic."""

from __future__ import annotations

import itertools
from typing import Any

from scim_server.schema import ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA

_serial = itertools.count(1)


def user_body(user_name: str | None = None, **attributes: Any) -> dict[str, Any]:
    number = next(_serial)
    name = user_name or f"user{number}@example.com"
    body: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "userName": name,
        "name": {"givenName": "Test", "familyName": f"User {number}"},
        "emails": [{"value": name, "type": "work", "primary": True}],
        "active": True,
    }
    body.update(attributes)
    return body


def enterprise_user_body(**enterprise: Any) -> dict[str, Any]:
    body = user_body()
    body["schemas"] = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA]
    body[ENTERPRISE_USER_SCHEMA] = enterprise
    return body


def group_body(
    display_name: str | None = None, members: list[str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "displayName": display_name or f"Group {next(_serial)}",
    }
    if members is not None:
        body["members"] = [{"value": member} for member in members]
    return body
