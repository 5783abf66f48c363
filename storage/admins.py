"""Questions about the built-in ``admins`` group that guard every write."""

from __future__ import annotations

import peewee

from storage.models import Group, Membership, User
from storage.nesting import EVERYONE, groups_within

ADMINS = "admins"


def an_active_admin_exists() -> bool:
    """Whether some active user is an admin, directly or through nesting.

    Writes that could remove the last one (deactivating or deleting a user,
    changing or deleting a group) ask this inside their transaction, after
    the change, and roll back when the answer is no: a server nobody can
    administer can only be repaired from the command line. The walk goes
    down from ``admins`` through the groups nested in it, so its cost
    follows the size of that tree, not the number of users.
    """
    tree = groups_within(Group.select(Group.id).where(Group.builtin == ADMINS))
    # The members of the tree first, then whether one is an active user: in
    # a join, SQLite began with every active user and found the admins last.
    members = (
        Membership.select(Membership.member_id)
        .join(tree, on=(Membership.group == tree.c.group_id))
        .where(Membership.member_type == "User")
    )
    direct = (
        User.select(peewee.SQL("1"))
        .where(User.id.in_(members) & (User.active == True))  # noqa: E712
        .with_cte(tree)
    )
    if direct.exists():
        return True
    # Every user is implicitly in users; were users inside admins, every
    # active user would be an admin.
    everyone = (
        Group.select(peewee.SQL("1"))
        .join(tree, on=(Group.id == tree.c.group_id))
        .where(Group.builtin == EVERYONE)
        .with_cte(tree)
    )
    active = User.select(peewee.SQL("1")).where(User.active == True)  # noqa: E712
    return bool(everyone.exists() and active.exists())
