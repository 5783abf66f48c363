"""Who may do what: the one place where access decisions are made.

Every protected resource states the permission each of its methods needs;
the authentication middleware asks ``authorize`` before the responder runs.
A principal's permissions come from two things only: whether its user is an
admin (a member of the built-in ``admins`` group, directly or through
nested groups), and the scopes its token was issued with, which can narrow
those rights but never widen them.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection

from scim_server.errors import Forbidden
from tokens import Principal


class Permission(enum.Enum):
    """What a request does, in the words a refusal uses."""

    READ_DIRECTORY = "read users and groups"
    MANAGE_DIRECTORY = "create, change and delete users and groups"
    READ_SELF = "read your own user"
    MANAGE_OWN_TOKENS = "manage your own tokens"
    MANAGE_ALL_TOKENS = "manage everyone's tokens"
    INTROSPECT = "introspect tokens"


# Token scopes, and the permissions each lets a token use. A token without
# scopes may use all its owner's permissions.
SCOPES: dict[str, frozenset[Permission]] = {
    "scim:read": frozenset({Permission.READ_DIRECTORY, Permission.READ_SELF}),
    "scim:write": frozenset(
        {
            Permission.READ_DIRECTORY,
            Permission.READ_SELF,
            Permission.MANAGE_DIRECTORY,
        }
    ),
    "tokens": frozenset({Permission.MANAGE_OWN_TOKENS, Permission.MANAGE_ALL_TOKENS}),
    "introspect": frozenset({Permission.INTROSPECT}),
}

ADMIN_PERMISSIONS = frozenset(Permission)
MEMBER_PERMISSIONS = frozenset(
    {
        Permission.READ_DIRECTORY,
        Permission.READ_SELF,
        Permission.MANAGE_OWN_TOKENS,
    }
)

# What a user who is not an admin sees of the directory: enough to find a
# colleague or a group by name, nothing about them.
LIMITED_VIEW = {"User": ("userName",), "Group": ("displayName",)}


@dataclasses.dataclass(frozen=True)
class Access:
    """A verified principal and the permissions it may use in this request."""

    principal: Principal
    permissions: frozenset[Permission]

    @property
    def user_id(self) -> int:
        return self.principal.user_id

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin

    def allows(self, permission: Permission) -> bool:
        return permission in self.permissions

    def visible_attributes(self, resource_type: str) -> tuple[str, ...] | None:
        """The attributes of a resource type this principal may read.

        None means all of them. Admins read everything; everyone else sees
        the limited view, in which filters and sorting may use only these
        attributes too, so that a filter cannot probe what is hidden.
        """
        if self.is_admin:
            return None
        return LIMITED_VIEW.get(resource_type, ())


def access_for(principal: Principal, scopes: Collection[str] | None) -> Access:
    """The permissions of ``principal``, narrowed by its token's ``scopes``."""
    granted = ADMIN_PERMISSIONS if principal.is_admin else MEMBER_PERMISSIONS
    if scopes is not None:
        allowed: set[Permission] = set()
        for scope in scopes:
            allowed |= SCOPES.get(scope, frozenset())
        granted = granted & frozenset(allowed)
    return Access(principal=principal, permissions=frozenset(granted))


def authorize(access: Access, permission: Permission) -> None:
    """Refuse with 403 unless ``access`` includes ``permission``."""
    if not access.allows(permission):
        raise Forbidden(f"this token may not {permission.value}")
