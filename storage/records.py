"""Plain records that storage takes and returns, free of Peewee objects."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

Document = dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class EmailRow:
    value: str
    type: str | None = None
    primary: bool | None = None  # None: the client did not say


@dataclasses.dataclass(frozen=True, slots=True)
class UserFields:
    """What a write sets on a user: indexed columns and the full document."""

    user_name: str
    document: Document
    search: Document
    display_name: str | None = None
    external_id: str | None = None
    active: bool = True
    emails: tuple[EmailRow, ...] = ()
    # None on a replace means "keep the current password": clients cannot
    # read a password back, so they cannot be expected to resend it.
    password_hash: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class GroupFields:
    display_name: str
    document: Document
    search: Document
    external_id: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class MemberChange:
    """Members a write adds to and removes from a group, leaving the rest."""

    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    user_name: str
    display_name: str | None
    external_id: str | None
    active: bool
    document: Document
    created: datetime.datetime
    last_modified: datetime.datetime
    version: int


@dataclasses.dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    display_name: str
    external_id: str | None
    builtin: str | None
    document: Document
    created: datetime.datetime
    last_modified: datetime.datetime
    version: int


@dataclasses.dataclass(frozen=True, slots=True)
class MemberRef:
    """A direct member of a group, with the member's current display name."""

    id: int
    type: str  # "User" or "Group"
    display: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class GroupRef:
    """A group that a user belongs to.

    ``type`` is "direct" for a membership of the group itself and
    "indirect" for one through groups nested inside it (RFC 7643 §4.1.2).
    """

    id: int
    display: str
    type: str = "direct"
