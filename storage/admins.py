"""Questions about the built-in ``admins`` group that guard every write."""

from __future__ import annotations

import peewee

from storage.models import Group, Membership, User

ADMINS = "admins"


def an_active_admin_exists() -> bool:
    """Whether some active user is a member of ``admins``.

    Writes that could remove the last one (deactivating or deleting a user,
    changing or deleting a group) ask this inside their transaction, after
    the change, and roll back when the answer is no: a server nobody can
    administer can only be repaired from the command line.
    """
    # TODO: members of groups nested inside admins are admins too; this
    # counts direct members only until nested groups reach the token check.
    query = (
        Membership.select(peewee.SQL("1"))
        .join(Group, on=(Group.id == Membership.group))
        .switch(Membership)
        .join(User, on=(User.id == Membership.member_id))
        .where((Group.builtin == ADMINS) & (User.active == True))  # noqa: E712
    )
    return bool(query.exists())
