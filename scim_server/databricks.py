"""The Databricks REST API 2.0 groups and token operations.

Databricks addresses users by ``user_name`` and groups by ``group_name``;
these functions find the resources by name and then make the same calls as
SCIM requests do, so every rule (unique names, built-in groups, cycles, the
last admin) holds whichever API a change comes through.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from scim_server.authorization import Access, Permission
from scim_server.errors import InvalidValue, NotFound
from scim_server.patch import PATCH_OP
from scim_server.provisioning import Provisioning
from scim_server.schema import GROUP_SCHEMA
from scim_server.settings import Clock
from storage import directory
from storage import groups as group_store
from storage import users as user_store
from storage.tokens import TokenRecord
from tokens import (
    NO_EXPIRY,
    IssuedToken,
    KeyRing,
    TokenPolicy,
    TokenPolicyError,
    TokenQuotaExceeded,
    find_token,
    issue,
    list_tokens,
)
from tokens import (
    revoke as revoke_token,
)


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


class QuotaExceeded(InvalidValue):
    """The caller holds as many live tokens as the policy allows."""

    databricks_code = "QUOTA_EXCEEDED"


@dataclasses.dataclass(frozen=True)
class DatabricksTokens:
    """The token and token-management APIs on the token lifecycle.

    Owners manage their own tokens through ``/token/*``; admins manage
    everyone's through ``/token-management/*``. A token that is not the
    caller's is reported missing rather than forbidden, so that its id
    reveals nothing.
    """

    keys: KeyRing
    policy: TokenPolicy
    clock: Clock

    def create(
        self,
        caller: Access,
        lifetime_seconds: int | None,
        comment: str | None,
        address: str | None,
    ) -> tuple[IssuedToken, TokenRecord]:
        lifetime = None
        if lifetime_seconds is not None and lifetime_seconds > 0:
            lifetime = datetime.timedelta(seconds=lifetime_seconds)
        elif lifetime_seconds is not None:
            # Databricks reads zero or a negative lifetime as "no expiry".
            lifetime = NO_EXPIRY
        try:
            issued = issue(
                self.keys,
                self.policy,
                user_id=caller.user_id,
                now=self.clock(),
                lifetime=lifetime,
                comment=comment,
                # A scoped token can only make tokens with its own scopes.
                scopes=caller.principal.scopes,
                actor_id=caller.user_id,
                address=address,
            )
        except TokenQuotaExceeded as ex:
            raise QuotaExceeded(str(ex)) from None
        except TokenPolicyError as ex:
            raise InvalidValue(str(ex)) from None
        record = find_token(issued.id)
        if record is None:  # deleted with its owner in the meantime
            raise NotFound(f"token {issued.id} does not exist")
        return issued, record

    def own(self, caller: Access) -> list[TokenRecord]:
        now = self.clock()
        return [t for t in list_tokens(caller.user_id) if t.is_live(now)]

    def everyone(
        self, created_by_id: int | None, created_by_username: str | None
    ) -> list[TokenRecord]:
        user_id = created_by_id
        if created_by_username is not None:
            user = user_store.find_user_by_name(created_by_username)
            if user is None or (user_id is not None and user.id != user_id):
                return []
            user_id = user.id
        now = self.clock()
        return [t for t in list_tokens(user_id) if t.is_live(now)]

    def find(self, caller: Access, token_id: str, *, anyones: bool) -> TokenRecord:
        """A live token the caller may manage, or NotFound.

        ``anyones`` is for the token-management API, where admins reach
        every user's tokens; the token API reaches the caller's own only.
        """
        record = find_token(_token_id(token_id))
        mine = record is not None and record.user_id == caller.user_id
        manageable = mine or (anyones and caller.allows(Permission.MANAGE_ALL_TOKENS))
        if record is None or not manageable or not record.is_live(self.clock()):
            raise NotFound(f"token {token_id} does not exist")
        return record

    def revoke(
        self, caller: Access, token_id: str, address: str | None, *, anyones: bool
    ) -> None:
        record = self.find(caller, token_id, anyones=anyones)
        revoke_token(
            record.id, now=self.clock(), actor_id=caller.user_id, address=address
        )


def token_info(record: TokenRecord, owner_names: Mapping[int, str]) -> dict[str, Any]:
    """A token as Databricks describes it: times in epoch milliseconds."""
    info: dict[str, Any] = {
        "token_id": str(record.id),
        "creation_time": _millis(record.created),
        "expiry_time": -1 if record.expires is None else _millis(record.expires),
        "comment": record.comment or "",
    }
    owner = owner_names.get(record.user_id)
    if owner is not None:
        info["created_by_id"] = record.user_id
        info["created_by_username"] = owner
        info["owner_id"] = record.user_id
    return info


def owner_names(records: list[TokenRecord]) -> dict[int, str]:
    names = {}
    for user_id in {record.user_id for record in records}:
        user = user_store.find_user(user_id)
        if user is not None:
            names[user_id] = user.user_name
    return names


def _millis(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _token_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise NotFound(f"token {text} does not exist") from None
