"""Groups inside groups: the recursive queries over the membership table.

A membership row makes its member belong to its group. When the member is
itself a group, everything that belongs to it belongs to the outer group
too, at any depth: RFC 7643 §4.1.2 calls a user's membership of a group
"direct" when a row names the user and "indirect" when it comes only
through groups nested inside that group. On top of the rows, every user
belongs directly to the built-in group ``users``, which stores no row per
user.

Each walk is one ``WITH RECURSIVE`` common table expression, which SQLite
and PostgreSQL both run. Upward walks (from a member to the groups that
contain it) follow the ``(member_id, group_id)`` index; downward walks
(from a group to the groups inside it) follow the primary key
``(group_id, member_id)``. Writes never let the rows form a cycle
(``storage.groups`` refuses them), yet every walk would still end on one:
each step is a ``UNION``, which adds only rows not yet found, from a finite
set of ids.
"""

from __future__ import annotations

from typing import Any

import peewee

from storage.database import rows
from storage.models import Group, Membership, User

# The built-in group that every user belongs to without a membership row.
EVERYONE = "users"

# The most groups that a condition on a user's groups is answered with by
# id (see members_within).
NAMED_GROUPS = 200

# Peewee's expression objects carry no type information; this alias names
# them for readers, and is Any to mypy.
Node = Any


def groups_within(seed: peewee.SelectBase) -> peewee.CTE:
    """The groups ``seed`` selects (one id column) and all groups inside them.

    Only members of type "Group" are followed, so a step never turns users
    into rows of the walk.
    """
    # TODO: each step reads every member of the groups it leaves, users
    # included, to pick out the groups among them, which costs a few
    # milliseconds on a group of 20,000; a partial index on membership
    # (group_id, member_id) WHERE member_type = 'Group' would read only the
    # groups.
    within = seed.cte("scim_within", recursive=True, columns=("group_id",))
    inner = Membership.alias("scim_inner")
    step = (
        inner.select(inner.member_id)
        .join(within, on=(inner.group == within.c.group_id))
        .where(inner.member_type == "Group")
    )
    return within.union(step)


def groups_above(seed: peewee.SelectBase) -> peewee.CTE:
    """The groups ``seed`` selects (one id column) and all groups holding them."""
    above = seed.cte("scim_above", recursive=True, columns=("group_id",))
    outer = Membership.alias("scim_outer")
    step = outer.select(outer.group).join(
        above, on=(outer.member_id == above.c.group_id)
    )
    return above.union(step)


def groups_above_each(seed: peewee.SelectBase) -> peewee.CTE:
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

    ``condition`` is on the columns of ``Group``. The members of every group
    found are listed, users and groups alike (ids are unique across both, so
    a caller comparing them with user ids gets only users), and when
    ``users`` is among the groups found, so is every user.

    The groups are found first, by a query of their own, and the query
    returned names them by id. The database then plans the lookup of their
    members from its statistics of those very groups, as it did before
    groups could nest: PostgreSQL reads a group of 20,000 members in
    creation order only up to the page wanted (0.7 ms rather than 30 ms
    when the walk was inside the query), and a group of ten through the
    index. A walk inside the query hides from the planner how many members
    it finds, and the members of ``users`` could be every user. Conditions
    that reach more than ``NAMED_GROUPS`` groups still walk inside the
    query.
    """
    named = _groups_within_ids(condition)
    if named is None:
        return _members_walked(condition)
    ids, everyone = named
    if everyone:
        return User.select(User.id)
    return Membership.select(Membership.member_id).where(Membership.group.in_(ids))


def _groups_within_ids(condition: Node) -> tuple[list[int], bool] | None:
    """The ids of the groups within those meeting ``condition``, and whether
    ``users`` is one; None when there are more than ``NAMED_GROUPS``."""
    within = groups_within(Group.select(Group.id).where(condition))
    query = (
        Group.select(Group.id, Group.builtin)
        .join(within, on=(Group.id == within.c.group_id))
        .limit(NAMED_GROUPS + 1)
        .with_cte(within)
    )
    found = list(rows(query))
    if len(found) > NAMED_GROUPS:
        return None
    ids = [group_id for group_id, _ in found]
    return ids, any(builtin == EVERYONE for _, builtin in found)


def _members_walked(condition: Node) -> peewee.Select:
    """What ``members_within`` answers, walking the groups inside the query."""
    within = groups_within(Group.select(Group.id).where(condition))
    stored = Membership.select(Membership.member_id).join(
        within, on=(Membership.group == within.c.group_id)
    )
    everyone = Group.alias("scim_everyone")
    holds_everyone = (
        everyone.select(peewee.SQL("1"))
        .join(within, on=(everyone.id == within.c.group_id))
        .where(everyone.builtin == EVERYONE)
    )
    # Both databases test a condition that reads no row of its table once,
    # before reading any: no user is read unless "users" was found.
    anyone = User.alias("scim_anyone")
    implied = anyone.select(anyone.id).where(peewee.fn.EXISTS(holds_everyone))
    found = (stored + implied).cte("scim_found", columns=("member_id",))
    return found.select_from(found.c.member_id).with_cte(within, found)
