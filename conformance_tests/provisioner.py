"""Users and Groups that a test creates, named apart and deleted afterwards.

The suite may run against a server that holds other people's data, or
alongside another run of itself. Every name it gives carries a prefix that
is random per session and distinct per ``Provisioner``, so a test finds its
own resources with a ``sw`` filter and never touches anyone else's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from conformance_tests.scim_http import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    NO_BODY,
    USER_SCHEMA,
    Response,
    SCIMClient,
)

Resource = dict[str, Any]


def user_body(user_name: str, **attributes: Any) -> Resource:
    """A User to POST or PUT; enterprise attributes go under their URN key."""
    schemas = [USER_SCHEMA]
    if ENTERPRISE_USER_SCHEMA in attributes:
        schemas.append(ENTERPRISE_USER_SCHEMA)
    return {"schemas": schemas, "userName": user_name, **attributes}


def group_body(
    display_name: str, members: Iterable[Mapping[str, Any]] = (), **attributes: Any
) -> Resource:
    """A Group whose members are the given Users or Groups, by id."""
    body: Resource = {"schemas": [GROUP_SCHEMA], "displayName": display_name}
    listed = [{"value": member["id"]} for member in members]
    if listed:
        body["members"] = listed
    body.update(attributes)
    return body


class Provisioner:
    """Create resources under one name prefix and delete them all later."""

    def __init__(self, client: SCIMClient, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._paths: list[str] = []

    def name(self, label: str) -> str:
        """The full name for ``label``: userName or displayName."""
        return f"{self.prefix}{label}"

    def label(self, name: str) -> str:
        """The label a full name was made from."""
        assert name.lower().startswith(self.prefix.lower()), name
        return name[len(self.prefix) :]

    def users_filter(self, expression: str | None = None) -> str:
        """A filter for this provisioner's users, narrowed by ``expression``."""
        return _narrowed(f'userName sw "{self.prefix}"', expression)

    def groups_filter(self, expression: str | None = None) -> str:
        """A filter for this provisioner's groups, narrowed by ``expression``."""
        return _narrowed(f'displayName sw "{self.prefix}"', expression)

    def post(self, endpoint: str, body: Any = NO_BODY, **options: Any) -> Response:
        """POST and remember what it created, for deletion.

        ``options`` go to ``SCIMClient.request``, such as a ``raw`` body.
        """
        response = self.client.request("POST", endpoint, body=body, **options)
        if response.status == 201:
            self.track(f"{endpoint}/{response.json()['id']}")
        return response

    def track(self, path: str) -> None:
        """Delete ``path`` at the end too, such as a resource made elsewhere."""
        self._paths.append(path)

    def user(self, label: str, **attributes: Any) -> Resource:
        response = self.post("/Users", user_body(self.name(label), **attributes))
        assert response.status == 201, str(response)
        return dict(response.json())

    def group(
        self, label: str, members: Iterable[Mapping[str, Any]] = (), **attributes: Any
    ) -> Resource:
        body = group_body(self.name(label), members, **attributes)
        response = self.post("/Groups", body)
        assert response.status == 201, str(response)
        return dict(response.json())

    def gone(self, resource: Mapping[str, Any]) -> str:
        """The id of a resource that existed and has been deleted.

        An id the server itself issued is the surest id it does not know.
        """
        location = str(resource["meta"]["location"])
        deleted = self.client.delete(location)
        assert deleted.status == 204, str(deleted)
        return str(resource["id"])

    def delete_all(self) -> None:
        """Delete, newest first, whatever this provisioner created.

        Groups are created after the members they list, so they go first. A
        resource that a test deleted already answers 404, which is fine.
        """
        failed = []
        for path in reversed(self._paths):
            response = self.client.delete(path)
            if response.status not in (204, 404):
                failed.append(str(response))
        self._paths.clear()
        assert not failed, "could not clean up:\n" + "\n".join(failed)


def _narrowed(own: str, expression: str | None) -> str:
    # The expression is parenthesised, so that its own precedence holds.
    return own if expression is None else f"({expression}) and {own}"
