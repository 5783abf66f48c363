"""Queries on groups and their members.

Groups may contain groups, to any depth, but never themselves: a write that
would close a cycle raises MembershipCycle and changes nothing. The check
runs in the write's own transaction, after it has taken the nesting lock
(see ``_lock_nesting``), so that two writes which are harmless one at a
time cannot close a cycle together either.

The built-in group ``users`` has every user as a member without a row per
user: its ``members`` lists every user (``listed_members``), and filters on
members see them (``storage.nesting`` has the queries for a user's side).
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Iterable, Sequence
from typing import Any

import peewee

from storage import ids
from storage.compiler import Position, compile_filter, select
from storage.database import database_proxy, is_postgresql, locking, rows, transaction
from storage.errors import (
    DuplicateName,
    MembershipCycle,
    ResourceNotFound,
    UnknownMembers,
    VersionMismatch,
)
from storage.filters import Selection
from storage.models import Group, Membership, User
from storage.nesting import EVERYONE, Node, groups_above
from storage.pages import keyset_page
from storage.prepared import PreparedInQuery, PreparedSelection, convert
from storage.records import GroupFields, GroupRecord, MemberChange, MemberRef

ALL = Selection()

GROUP_COLUMNS = (
    Group.id,
    Group.display_name,
    Group.external_id,
    Group.builtin,
    Group.document,
    Group.created,
    Group.last_modified,
    Group.version,
)

# SQLite allows at most 32,766 bound parameters per statement (999 before
# 3.32); batches of this size stay far below either limit.
BATCH = 500

# The key of the PostgreSQL advisory lock that writes nesting groups take;
# any constant that nothing else in the database uses as a lock key.
NESTING_LOCK = 0x5C1A_6E57


def _record(row: Group) -> GroupRecord:
    return GroupRecord(
        id=row.id,
        display_name=row.display_name,
        external_id=row.external_id,
        builtin=row.builtin,
        document=row.document,
        created=row.created,
        last_modified=row.last_modified,
        version=row.version,
    )


def _from_row(row: Sequence[Any]) -> GroupRecord:
    return GroupRecord(*convert(GROUP_COLUMNS, row[: len(GROUP_COLUMNS)]))


def create_group(
    fields: GroupFields,
    member_ids: Sequence[int],
    *,
    now: datetime.datetime,
    builtin: str | None = None,
    id_source: ids.IdSource = ids.random_id,
) -> GroupRecord:
    """Insert a group with its members, all or nothing.

    Raises DuplicateName when the display name is taken (case-insensitively)
    and UnknownMembers when a member id is neither a user nor a group.
    """
    with transaction():
        _check_name_free(fields.display_name)
        types = member_types(member_ids)
        group_id = ids.allocate("Group", id_source)
        try:
            Group.insert(
                id=group_id,
                builtin=builtin,
                created=now,
                last_modified=now,
                version=1,
                **_columns(fields),
            ).execute()
        except peewee.IntegrityError as ex:
            raise DuplicateName("displayName", fields.display_name) from ex
        # No cycle check: nothing contains a group that did not exist, so
        # its members cannot lead back to it.
        _insert_members(group_id, types)
    return get_group(group_id)


def find_group(group_id: int) -> GroupRecord | None:
    row = Group.select(*GROUP_COLUMNS).where(Group.id == group_id).first()
    return _record(row) if row else None


def lock_group(group_id: int) -> GroupRecord | None:
    """Read a group for a read-modify-write; call inside ``transaction()``."""
    query = locking(Group.select(*GROUP_COLUMNS).where(Group.id == group_id))
    found = list(rows(query))
    return _from_row(found[0]) if found else None


def get_group(group_id: int) -> GroupRecord:
    record = find_group(group_id)
    if record is None:
        raise ResourceNotFound("Group", str(group_id))
    return record


def find_builtin_group(name: str) -> GroupRecord | None:
    row = Group.select(*GROUP_COLUMNS).where(Group.builtin == name).first()
    return _record(row) if row else None


def get_builtin_group(name: str) -> GroupRecord:
    record = find_builtin_group(name)
    if record is None:
        raise ResourceNotFound("Group", name)
    return record


def find_group_by_name(display_name: str) -> GroupRecord | None:
    query = Group.select(*GROUP_COLUMNS).where(
        Group.display_name_key == display_name.casefold()
    )
    row = query.first()
    return _record(row) if row else None


def replace_group(
    group_id: int,
    fields: GroupFields,
    member_ids: Sequence[int] | None,
    *,
    now: datetime.datetime,
    expected_version: int | None = None,
    change: MemberChange | None = None,
) -> GroupRecord:
    """Overwrite a group's attributes and, unless None, its member list.

    Members are changed by difference: only the rows of members that left or
    joined are written, so replacing a large list with a nearly equal one
    costs what the change costs. ``change`` adds and removes members without
    reading the others, which keeps one member's arrival in a group of a
    hundred thousand as cheap as in a group of ten.

    Raises MembershipCycle when a group joining would contain this one.
    """
    with transaction():
        _check_name_free(fields.display_name, except_id=group_id)
        condition = Group.id == group_id
        if expected_version is not None:
            condition &= Group.version == expected_version
        changes = {
            **_columns(fields),
            Group.last_modified.name: now,
            Group.version.name: Group.version + 1,
        }
        try:
            updated = Group.update(changes).where(condition).execute()
        except peewee.IntegrityError as ex:
            raise DuplicateName("displayName", fields.display_name) from ex
        if not updated:
            _raise_missing_or_changed(group_id, expected_version)
        if member_ids is not None:
            _replace_members(group_id, member_ids)
        if change is not None:
            _remove_members(group_id, change.removed)
            _add_members(group_id, change.added)
    return get_group(group_id)


def delete_group(group_id: int) -> None:
    """Delete a group, its member rows, and its own memberships elsewhere."""
    with transaction():
        deleted = Group.delete().where(Group.id == group_id).execute()
        if not deleted:
            raise ResourceNotFound("Group", str(group_id))
        Membership.delete().where(Membership.group == group_id).execute()
        Membership.delete().where(Membership.member_id == group_id).execute()


def list_groups(
    offset: int, limit: int, selection: Selection = ALL
) -> list[GroupRecord]:
    """A page of the groups that ``selection`` picks, in its order."""
    return [_from_row(row) for row in _PAGES.rows(selection, offset, limit)]


# Filters on members of the built-in users group are resolved while
# compiling, so such filters are rendered each time.
_PAGES = PreparedSelection(
    lambda selection: select(Group.select(*GROUP_COLUMNS), "Group", selection),
    rendered_each_time=frozenset({"members"}),
)


def page_of_groups(
    selection: Selection,
    after: Position | None,
    limit: int,
    *,
    backwards: bool = False,
) -> list[tuple[GroupRecord, Position]]:
    """A keyset page of groups, each with its position for the next cursor."""
    query = Group.select(*GROUP_COLUMNS)
    return keyset_page(
        query, "Group", selection, after, limit, _from_row, backwards=backwards
    )


def count_groups(selection: Selection = ALL) -> int:
    query = Group.select()
    if selection.filter is not None:
        query = query.where(compile_filter("Group", selection.filter))
    return int(query.count())


def add_members(
    group_id: int, member_ids: Sequence[int], *, now: datetime.datetime
) -> None:
    """Add members to a group; members it already has are left alone.

    Like every write to a group, it moves the group to a new version. Raises
    MembershipCycle when a group joining would contain this one.
    """
    with transaction():
        bumped = (
            Group.update(
                {
                    Group.last_modified.name: now,
                    Group.version.name: Group.version + 1,
                }
            )
            .where(Group.id == group_id)
            .execute()
        )
        if not bumped:
            raise ResourceNotFound("Group", str(group_id))
        _add_members(group_id, member_ids)


def has_members(group_id: int) -> bool:
    return bool(Membership.select().where(Membership.group == group_id).exists())


def _members_query(group_ids: list[int]) -> peewee.Query:
    member_group = Group.alias("member_group")
    return (
        Membership.select(
            Membership.group,
            Membership.member_id,
            Membership.member_type,
            peewee.fn.COALESCE(
                User.display_name, User.user_name, member_group.display_name
            ),
        )
        .join(User, peewee.JOIN.LEFT_OUTER, on=(User.id == Membership.member_id))
        .switch(Membership)
        .join(
            member_group,
            peewee.JOIN.LEFT_OUTER,
            on=(member_group.id == Membership.member_id),
        )
        .where(Membership.group.in_(group_ids))
        .order_by(Membership.group, Membership.member_id)
    )


_MEMBERS_OF_GROUPS = PreparedInQuery(_members_query)


def members_of_groups(group_ids: Iterable[int]) -> dict[int, list[MemberRef]]:
    """The members each group's rows name, with current display names.

    These are the members that can be removed; ``listed_members`` adds the
    ones of ``users`` that no row names.
    """
    wanted = list(group_ids)
    found: dict[int, list[MemberRef]] = {group_id: [] for group_id in wanted}
    if not wanted:
        return found
    for group_id, member_id, member_type, display in _MEMBERS_OF_GROUPS.rows(wanted):
        found[group_id].append(MemberRef(member_id, member_type, display))
    return found


def listed_members(groups: Sequence[GroupRecord]) -> dict[int, list[MemberRef]]:
    """What each group's ``members`` lists, in order of id (RFC 7643 §4.2).

    That is its rows, and for ``users`` every user besides. One query reads
    the rows of all the groups; a second, only when ``users`` is among them,
    reads the users, so reading any other group costs what it did before
    ``users`` had members without rows.
    """
    found = members_of_groups(group.id for group in groups)
    for group in groups:
        if group.builtin == EVERYONE:
            found[group.id] = _with_every_user(found[group.id])
    return found


def _with_every_user(stored: list[MemberRef]) -> list[MemberRef]:
    named = {member.id for member in stored}
    query = User.select(
        User.id, peewee.fn.COALESCE(User.display_name, User.user_name)
    ).order_by(User.id)
    implied = (
        MemberRef(user_id, "User", display)
        for user_id, display in rows(query)
        if user_id not in named
    )
    return list(heapq.merge(stored, implied, key=lambda member: member.id))


def member_types(member_ids: Sequence[int]) -> dict[int, str]:
    """Map each id to "User" or "Group"; raise UnknownMembers for the rest."""
    wanted = set(member_ids)
    types: dict[int, str] = {}
    batches = [list(wanted)[i : i + BATCH] for i in range(0, len(wanted), BATCH)]
    for batch in batches:
        for (user_id,) in rows(User.select(User.id).where(User.id.in_(batch))):
            types[user_id] = "User"
        for (group_id,) in rows(Group.select(Group.id).where(Group.id.in_(batch))):
            types[group_id] = "Group"
    missing = sorted(wanted - types.keys())
    if missing:
        raise UnknownMembers([str(member_id) for member_id in missing])
    return types


def _insert_members(group_id: int, types: dict[int, str]) -> None:
    rows = [
        {
            Membership.group.name: group_id,
            Membership.member_id.name: member_id,
            Membership.member_type.name: member_type,
        }
        for member_id, member_type in types.items()
    ]
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        Membership.insert_many(batch).on_conflict_ignore().execute()


def _replace_members(group_id: int, member_ids: Sequence[int]) -> None:
    wanted = set(member_ids)
    query = Membership.select(Membership.member_id).where(Membership.group == group_id)
    current = {member_id for (member_id,) in rows(query)}
    _remove_members(group_id, list(current - wanted))
    _add_members(group_id, sorted(wanted - current))


def _add_members(group_id: int, member_ids: Sequence[int]) -> None:
    types = member_types(member_ids)
    groups = [member_id for member_id, kind in types.items() if kind == "Group"]
    if groups:
        _refuse_cycles(group_id, groups)
    _insert_members(group_id, types)


def _refuse_cycles(group_id: int, joining: Sequence[int]) -> None:
    """Raise MembershipCycle if a joining group is, or contains, this group.

    Putting group J into group G closes a cycle exactly when G is already
    inside J, so the search walks up from G through the groups that hold
    it: usually a handful, however large the groups are.
    """
    _lock_nesting()
    chain = _chain_down(group_id, set(joining), _groups_holding(group_id))
    if chain is not None:
        # G would contain J, which already contains ... which contains G.
        cycle = [group_id, *chain]
        names = _display_names(cycle)
        raise MembershipCycle([(member, names[member]) for member in cycle])


def _lock_nesting() -> None:
    """Let one transaction at a time add groups to groups, until it ends.

    A cycle can be closed by two writes that are each harmless alone: with
    C inside B and A inside D, putting B into A and D into C at once makes
    A, B, C, D and A again each contain the next. On PostgreSQL (READ
    COMMITTED) each write's check sees only committed rows, so neither sees
    the other's, and locking the rows of the groups involved would not help:
    the two writes touch four different groups. A transaction-level
    advisory lock makes such writes take turns instead. It is held until
    commit, and the check that follows it is a new statement, so it sees
    every row that an earlier holder committed. Writes that add only users,
    and readers, never take it.

    SQLite needs nothing: its write transactions begin IMMEDIATE, so only
    one runs at a time and it reads the latest committed state.
    """
    db = database_proxy.obj
    if is_postgresql(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (NESTING_LOCK,))


def _groups_holding(group_id: int) -> dict[int, list[int]]:
    """Every group that holds ``group_id`` at any depth, as member -> groups."""
    above = (
        Membership.select(Membership.member_id, Membership.group)
        .where(Membership.member_id == group_id)
        .cte("scim_holding", recursive=True, columns=("member_id", "group_id"))
    )
    outer = Membership.alias("scim_outer")
    step = outer.select(outer.member_id, outer.group).join(
        above, on=(outer.member_id == above.c.group_id)
    )
    edges = above.union(step)
    holders: dict[int, list[int]] = {}
    for member_id, holder in rows(
        edges.select_from(edges.c.member_id, edges.c.group_id)
    ):
        holders.setdefault(member_id, []).append(holder)
    return holders


def _chain_down(
    group_id: int, tops: set[int], holders: dict[int, list[int]]
) -> list[int] | None:
    """A shortest chain from a group in ``tops`` down to ``group_id``, if any.

    Each group in the chain contains the next; the chain is ``[group_id]``
    alone when ``group_id`` is in ``tops`` itself.
    """
    # For each group reached on the way up, the group it holds on the way.
    held: dict[int, int | None] = {group_id: None}
    frontier = [group_id]
    while frontier:
        top = next((group for group in frontier if group in tops), None)
        if top is not None:
            chain = [top]
            while (inner := held[chain[-1]]) is not None:
                chain.append(inner)
            return chain
        upper = []
        for group in frontier:
            for holder in holders.get(group, ()):
                if holder not in held:
                    held[holder] = group
                    upper.append(holder)
        frontier = upper
    return None


def _display_names(group_ids: Iterable[int]) -> dict[int, str]:
    query = Group.select(Group.id, Group.display_name).where(
        Group.id.in_(list(set(group_ids)))
    )
    return dict(rows(query))


def _remove_members(group_id: int, member_ids: Sequence[int]) -> None:
    leaving = list(member_ids)
    for start in range(0, len(leaving), BATCH):
        (
            Membership.delete()
            .where(
                (Membership.group == group_id)
                & Membership.member_id.in_(leaving[start : start + BATCH])
            )
            .execute()
        )


def _columns(fields: GroupFields) -> dict[str, object]:
    return {
        Group.display_name.name: fields.display_name,
        Group.display_name_key.name: fields.display_name.casefold(),
        Group.external_id.name: fields.external_id,
        Group.document.name: fields.document,
        Group.search.name: fields.search,
    }


def _check_name_free(display_name: str, except_id: int | None = None) -> None:
    query = Group.select(Group.id).where(
        Group.display_name_key == display_name.casefold()
    )
    if except_id is not None:
        query = query.where(Group.id != except_id)
    if query.exists():
        raise DuplicateName("displayName", display_name)


def _raise_missing_or_changed(group_id: int, expected_version: int | None) -> None:
    exists = Group.select().where(Group.id == group_id).exists()
    if expected_version is None or not exists:
        raise ResourceNotFound("Group", str(group_id))
    raise VersionMismatch(f"Group {group_id} has changed")


def in_builtin_group(user_id: Node, name: str) -> Node:
    """Whether the user ``user_id`` belongs to the built-in group ``name``.

    ``user_id`` is a column of the enclosing query, such as ``User.id``.
    Peewee must have met that column's table before it renders this
    condition: through an earlier column of the SELECT list when the
    condition is selected, or through FROM when it is in WHERE. Memberships
    through nested groups count, at any depth, and so does the implicit
    membership of ``users``: were ``users`` nested inside ``admins``, every
    user would be an admin.

    The walk starts at the user's own groups and goes up, so its cost
    follows the number of groups the user is in, not the size of ``name``.
    """
    direct = Membership.select(Membership.group).where(
        Membership.member_id == _Enclosing(user_id)
    )
    everyone = Group.select(Group.id).where(Group.builtin == EVERYONE)
    # Two index lookups joined by UNION: one WHERE with OR would make
    # PostgreSQL read every group.
    above = groups_above(direct | everyone)
    target = Group.alias("scim_target")
    found = (
        target.select(peewee.SQL("1"))
        .join(above, on=(target.id == above.c.group_id))
        .where(target.builtin == name)
        .with_cte(above)
    )
    return peewee.fn.EXISTS(found)


class _Enclosing(peewee.ColumnBase):
    """A column of an enclosing query, referred to from inside a CTE.

    Peewee gives the tables inside a common table expression aliases of
    their own, so a plain reference to an outer column would name a table
    the CTE does not have. This node looks the table's alias up in the
    enclosing scopes instead.
    """

    def __init__(self, column: peewee.Field) -> None:
        super().__init__()
        self.column = column

    def __sql__(self, ctx: Any) -> Any:
        # Peewee keys a model's alias by its table, an aliased model's by the
        # alias itself.
        source: Any = self.column.model
        is_model = isinstance(source, type) and issubclass(source, peewee.Model)
        table = source._meta.table if is_model else source
        alias = ctx.alias_manager.get(table, any_depth=True)
        return ctx.sql(peewee.Entity(alias, self.column.column_name))
