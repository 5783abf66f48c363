"""Users and groups by name, for APIs that address them so (Databricks)."""

from __future__ import annotations

from storage.database import rows
from storage.models import Group, Membership, User


def group_names() -> list[str]:
    """Every group's displayName, in name order."""
    query = Group.select(Group.display_name).order_by(Group.display_name_key)
    return [name for (name,) in rows(query)]


def parent_group_names(member_id: int) -> list[str]:
    """The groups that ``member_id`` is a direct member of, in name order."""
    query = (
        Group.select(Group.display_name)
        .join(Membership, on=(Membership.group == Group.id))
        .where(Membership.member_id == member_id)
        .order_by(Group.display_name_key)
    )
    return [name for (name,) in rows(query)]


def member_names(group_id: int) -> list[tuple[str, str]]:
    """A group's direct members as (type, name): users by userName, groups
    by displayName, users first, each in name order."""
    users = (
        User.select(User.user_name)
        .join(Membership, on=(Membership.member_id == User.id))
        .where(Membership.group == group_id)
        .order_by(User.user_name_key)
    )
    groups = (
        Group.select(Group.display_name)
        .join(Membership, on=(Membership.member_id == Group.id))
        .where(Membership.group == group_id)
        .order_by(Group.display_name_key)
    )
    found = [("User", name) for (name,) in rows(users)]
    found.extend(("Group", name) for (name,) in rows(groups))
    return found


def is_direct_member(group_id: int, member_id: int) -> bool:
    query = Membership.select().where(
        (Membership.group == group_id) & (Membership.member_id == member_id)
    )
    return bool(query.exists())
