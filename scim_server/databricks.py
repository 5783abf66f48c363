"""The Databricks REST API 2.0 groups operations, on the SCIM domain.

Databricks addresses users by ``user_name`` and groups by ``group_name``;
these functions find the resources by name and then make the same calls as
SCIM requests do, so every rule (unique names, built-in groups, cycles, the
last admin) holds whichever API a change comes through.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from scim_server.errors import InvalidValue, NotFound
from scim_server.patch import PATCH_OP
from scim_server.provisioning import Provisioning
from scim_server.schema import GROUP_SCHEMA
from storage import directory
from storage import groups as group_store
from storage import users as user_store


@dataclasses.dataclass(frozen=True)
class Named:
    """A user or a group named in a request, as Databricks names them."""

    kind: str  # "User" or "Group"
    name: str

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Named:
        """The one of ``user_name`` and ``group_name`` that ``fields`` holds."""
        user_name = _optional_text(fields, "user_name")
        group_name = _optional_text(fields, "group_name")
        if user_name is not None and group_name is None:
            return cls("User", user_name)
        if group_name is not None and user_name is None:
            return cls("Group", group_name)
        raise InvalidValue("give exactly one of user_name and group_name")

    def resource_id(self) -> int:
        if self.kind == "Group":
            return _group_id(self.name)
        user = user_store.find_user_by_name(self.name)
        if user is None:
            raise NotFound(f"user {self.name!r} does not exist")
        return user.id


@dataclasses.dataclass(frozen=True)
class DatabricksGroups:
    provisioning: Provisioning

    def create(self, group_name: str) -> None:
        self.provisioning.create_group(
            {"schemas": [GROUP_SCHEMA], "displayName": group_name}
        )

    def delete(self, group_name: str) -> None:
        self.provisioning.delete_group(str(_group_id(group_name)))

    def add_member(self, parent_name: str, member: Named) -> None:
        self._change_members(parent_name, "add", member)

    def remove_member(self, parent_name: str, member: Named) -> None:
        self._change_members(parent_name, "remove", member)

    def _change_members(self, parent_name: str, op: str, member: Named) -> None:
        parent_id = _group_id(parent_name)
        member_id = str(member.resource_id())
        operation: dict[str, Any] = {"op": op, "path": "members"}
        if op == "add":
            operation["value"] = [{"value": member_id}]
        else:
            operation["path"] = f'members[value eq "{member_id}"]'
        self.provisioning.patch_group(
            str(parent_id), {"schemas": [PATCH_OP], "Operations": [operation]}
        )

    def list_names(self) -> list[str]:
        return directory.group_names()

    def list_members(self, group_name: str) -> list[dict[str, str]]:
        members = directory.member_names(_group_id(group_name))
        return [
            {"user_name": name} if kind == "User" else {"group_name": name}
            for kind, name in members
        ]

    def list_parents(self, member: Named) -> list[str]:
        return directory.parent_group_names(member.resource_id())


def _group_id(group_name: str) -> int:
    group = group_store.find_group_by_name(group_name)
    if group is None:
        raise NotFound(f"group {group_name!r} does not exist")
    return group.id


def _optional_text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"{name} must be a non-empty string")
    return value


def required_text(fields: Mapping[str, Any], name: str) -> str:
    value = _optional_text(fields, name)
    if value is None:
        raise InvalidValue(f"{name} is required")
    return value
