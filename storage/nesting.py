"""Groups inside groups: the recursive queries over the membership table.

A membership row makes its member belong to its group. When the member is
itself a group, everything that belongs to it belongs to the outer group
too, at any depth: RFC 7643 §4.1.2 calls a user's membership of a group
"direct" when a row names the user and "indirect" when it comes only
through groups nested inside that group. On top of the rows, every user
belongs directly to the built-in group ``users``, which stores no row per
user.

Each query walks the nesting with one ``WITH RECURSIVE`` common table
expression, which SQLite and PostgreSQL both run. Upward walks (from a
member to the groups that contain it) follow the ``(member_id, group_id)``
index; downward walks (from a group to the groups inside it) follow the
primary key ``(group_id, member_id)``. Writes never let the rows form a
cycle (``storage.groups`` refuses them), yet every walk would still end on
one: each step is a ``UNION``, which adds only rows not yet found, from a
finite set of ids.
"""

from __future__ import annotations

from typing import Any

import peewee

from storage.models import Group, Membership

# The built-in group that every user belongs to without a membership row.
EVERYONE = "users"

# Peewee's expression objects carry no type information; this alias names
# them for readers, and is Any to mypy.
Node = Any


def groups_within(seed: peewee.Select) -> peewee.CTE:
    """The groups ``seed`` selects (one id column) and all groups inside them.

    Only members of type "Group" are followed, so a step never turns users
    into rows of the walk.
    """
    within = seed.cte("scim_within", recursive=True, columns=("group_id",))
    inner = Membership.alias("scim_inner")
    step = (
        inner.select(inner.member_id)
        .join(within, on=(inner.group == within.c.group_id))
        .where(inner.member_type == "Group")
    )
    return within.union(step)


def groups_above(seed: peewee.Select) -> peewee.CTE:
    """The groups ``seed`` selects (one id column) and all groups holding them."""
    above = seed.cte("scim_above", recursive=True, columns=("group_id",))
    outer = Membership.alias("scim_outer")
    step = outer.select(outer.group).join(
        above, on=(outer.member_id == above.c.group_id)
    )
    return above.union(step)


def groups_above_each(seed: peewee.Select) -> peewee.CTE:
    """``(start_id, group_id)``: each group ``seed`` selects, with itself and
    every group holding it.

    One walk serves a whole page of users: groups that several users share
    are walked once.
    """
    above = seed.cte("scim_above", recursive=True, columns=("start_id", "group_id"))
    outer = Membership.alias("scim_outer")
    step = outer.select(above.c.start_id, outer.group).join(
        above, on=(outer.member_id == above.c.group_id)
    )
    return above.union(step)


def members_within(condition: Node) -> peewee.Select:
    """Ids of the members of the groups meeting ``condition``, at any depth.

    ``condition`` is on the columns of ``Group``. Members of the groups found
    are listed, users and groups alike; ids are unique across both, so a
    caller comparing them with user ids gets only users.
    """
    within = groups_within(Group.select(Group.id).where(condition))
    return (
        Membership.select(Membership.member_id)
        .join(within, on=(Membership.group == within.c.group_id))
        .with_cte(within)
    )


def everyone_within(condition: Node) -> Node:
    """Whether ``users``, and so every user, is in a group meeting ``condition``.

    True when ``users`` itself meets it, or a group it is nested in does.
    """
    above = groups_above(Group.select(Group.id).where(Group.builtin == EVERYONE))
    found = (
        Group.select(peewee.SQL("1"))
        .join(above, on=(Group.id == above.c.group_id))
        .where(condition)
        .with_cte(above)
    )
    return peewee.fn.EXISTS(found)
