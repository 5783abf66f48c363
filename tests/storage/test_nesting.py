"""Groups inside groups in storage, on both databases: a user's direct and
indirect groups, the implicit members of ``users``, cycles refused (also
between concurrent writes), and membership of a built-in group at any depth.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import peewee
import pytest

from scim_server.filtering import parse_filter
from scim_server.schema import group_type, user_type
from storage import groups as group_store
from storage import users as user_store
from storage.compiler import compile_filter
from storage.database import is_postgresql, transaction
from storage.errors import MembershipCycle
from storage.filters import Selection, UnsupportedFilter
from storage.models import AccessToken, Membership, User
from storage.nesting import NAMED_GROUPS
from storage.prepared import PreparedQuery
from storage.records import (
    GroupFields,
    GroupRecord,
    GroupRef,
    MemberChange,
    MemberRef,
    UserFields,
    UserRecord,
)

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def new_user(clock) -> Callable[..., UserRecord]:
    def create(user_name: str, display_name: str | None = None) -> UserRecord:
        fields = UserFields(
            user_name=user_name,
            display_name=display_name,
            document={"userName": user_name},
            search={},
        )
        return user_store.create_user(fields, now=clock())

    return create


def _fields(display_name: str) -> GroupFields:
    return GroupFields(
        display_name=display_name, document={"displayName": display_name}, search={}
    )


@pytest.fixture
def new_group(clock) -> Callable[..., GroupRecord]:
    def create(
        display_name: str, members: Sequence[Any] = (), builtin: str | None = None
    ) -> GroupRecord:
        ids = [member.id for member in members]
        return group_store.create_group(
            _fields(display_name), ids, now=clock(), builtin=builtin
        )

    return create


@pytest.fixture
def add(clock) -> Callable[..., None]:
    """Add members to a group as a PATCH does."""

    def add_members(group: GroupRecord, *members: Any) -> None:
        change = MemberChange(added=tuple(member.id for member in members))
        current = group_store.get_group(group.id)
        group_store.replace_group(
            group.id, _fields(current.display_name), None, now=clock(), change=change
        )

    return add_members


def groups_of(user: UserRecord) -> list[tuple[str, str]]:
    found = user_store.groups_of_users([user.id])[user.id]
    return [(group.display, group.type) for group in found]


# A user's groups (RFC 7643 §4.1.2)


def test_a_user_has_its_groups_and_every_group_above_them(new_user, new_group):
    ada = new_user("ada")
    inner = new_group("Inner", [ada])
    middle = new_group("middle", [inner])
    new_group("Outer", [middle])
    new_group("Unrelated", [new_user("bob")])

    # In name order, case aside.
    assert groups_of(ada) == [
        ("Inner", "direct"),
        ("middle", "indirect"),
        ("Outer", "indirect"),
    ]


def test_a_group_reached_twice_is_listed_once_and_direct_wins(new_user, new_group):
    ada = new_user("ada")
    left = new_group("Left", [ada])
    right = new_group("Right", [ada])
    # Top holds Left both directly and through Right; Right is also direct.
    new_group("Top", [left, right])
    new_group("Wide", [left, right])
    right_holder = new_group("Right holder", [right])
    new_group("Also direct", [ada, right_holder])

    assert groups_of(ada) == [
        ("Also direct", "direct"),
        ("Left", "direct"),
        ("Right", "direct"),
        ("Right holder", "indirect"),
        ("Top", "indirect"),
        ("Wide", "indirect"),
    ]


def test_every_user_is_a_direct_member_of_users(new_user, new_group, add):
    everyone = new_group("users", builtin="users")
    ada, bob = new_user("ada"), new_user("bob")
    # A stored row for a user already in "users" changes nothing.
    add(everyone, bob)
    # A group holding "users" holds every user.
    new_group("Staff", [everyone])

    assert groups_of(ada) == [("Staff", "indirect"), ("users", "direct")]
    assert groups_of(bob) == [("Staff", "indirect"), ("users", "direct")]


def test_a_page_of_users_takes_one_query(new_user, new_group, sql):
    ada, bob, loner = new_user("ada"), new_user("bob"), new_user("loner")
    team = new_group("Team", [ada, bob])
    new_group("Org", [team, bob])

    with sql.capture() as statements:
        found = user_store.groups_of_users([ada.id, bob.id, loner.id])

    assert [(g.display, g.type) for g in found[ada.id]] == [
        ("Org", "indirect"),
        ("Team", "direct"),
    ]
    assert [(g.display, g.type) for g in found[bob.id]] == [
        ("Org", "direct"),
        ("Team", "direct"),
    ]
    assert found[loner.id] == []
    assert len(statements) == 1


def test_group_refs_carry_ids(new_user, new_group):
    ada = new_user("ada")
    team = new_group("Team", [ada])
    org = new_group("Org", [team])

    assert user_store.groups_of_users([ada.id])[ada.id] == [
        GroupRef(org.id, "Org", "indirect"),
        GroupRef(team.id, "Team", "direct"),
    ]


# Filters on a user's groups


def users_in(expression: str) -> set[str]:
    selection = Selection(filter=parse_filter(expression, user_type()))
    return {user.user_name for user in user_store.list_users(0, 100, selection)}


def test_a_filter_reaching_more_groups_than_it_names_walks_them(
    new_user, new_group, add
):
    # Past NAMED_GROUPS groups the filter walks the nesting inside its query
    # instead of naming the groups; the answers are the same.
    everyone = new_group("users", builtin="users")
    ada = new_user("ada")
    new_user("bob")
    wide = new_group("Wide", [new_group(f"Part {n}") for n in range(NAMED_GROUPS)])
    add(wide, new_group("Deep", [new_group("Deeper", [ada])]))
    staff = new_group("Staff", [wide])

    before = users_in(f'groups.value eq "{staff.id}"')
    add(wide, everyone)
    after = users_in(f'groups.value eq "{staff.id}"')

    assert (before, after) == ({"ada"}, {"ada", "bob"})
    assert users_in(f'not (groups.value eq "{staff.id}")') == set()


def test_a_filter_on_a_group_holding_users_selects_everyone(new_user, new_group, add):
    everyone = new_group("users", builtin="users")
    new_user("ada")
    new_user("bob")
    team = new_group("Team")

    assert users_in(f'groups.value eq "{everyone.id}"') == {"ada", "bob"}
    assert users_in(f'groups.value eq "{team.id}"') == set()
    add(team, everyone)
    assert users_in(f'groups.value eq "{team.id}"') == {"ada", "bob"}


@pytest.mark.parametrize(
    ("resource_type", "expression", "detail"),
    [
        (
            "User",
            'groups[type eq "indirect"]',
            "inside groups[...] only value, display can be filtered on",
        ),
        (
            "Group",
            'members[display eq "ada"]',
            "inside members[...] only value, type can be filtered on",
        ),
    ],
)
def test_value_filters_on_sub_attributes_without_a_column_are_refused(
    resource_type, expression, detail
):
    # The search document holds neither attribute, so reading it there would
    # match nothing rather than what the client asked.
    kind = user_type() if resource_type == "User" else group_type()

    with pytest.raises(UnsupportedFilter) as refused:
        compile_filter(resource_type, parse_filter(expression, kind))

    assert str(refused.value) == detail


# The members of "users"


def test_users_lists_every_user_once_in_order_of_id(new_user, new_group, add, sql):
    everyone = new_group("users", builtin="users")
    ada = new_user("ada", display_name="Ada Lovelace")
    bob = new_user("bob")
    team = new_group("Team", [bob])
    add(everyone, bob, team)

    with sql.capture() as statements:
        found = group_store.listed_members([everyone, team])

    expected = [
        MemberRef(ada.id, "User", "Ada Lovelace"),
        MemberRef(bob.id, "User", "bob"),
        MemberRef(team.id, "Group", "Team"),
    ]
    assert found[everyone.id] == sorted(expected, key=lambda member: member.id)
    assert found[team.id] == [MemberRef(bob.id, "User", "bob")]
    # The rows of both groups, then the users.
    assert len(statements) == 2


def test_only_stored_members_of_users_can_be_removed(new_user, new_group, add):
    everyone = new_group("users", builtin="users")
    new_user("ada")
    bob = new_user("bob")
    add(everyone, bob)

    assert group_store.members_of_groups([everyone.id]) == {
        everyone.id: [MemberRef(bob.id, "User", "bob")]
    }


def test_other_groups_list_only_their_rows_in_one_query(new_user, new_group, sql):
    new_group("users", builtin="users")
    ada = new_user("ada")
    new_user("bob")
    team = new_group("Team", [ada])

    with sql.capture() as statements:
        found = group_store.listed_members([team])

    assert found == {team.id: [MemberRef(ada.id, "User", "ada")]}
    assert len(statements) == 1


# Cycles


def test_a_group_cannot_contain_itself(new_group, add):
    alone = new_group("Alone")

    with pytest.raises(MembershipCycle) as refused:
        add(alone, alone)

    assert refused.value.cycle == [(alone.id, "Alone"), (alone.id, "Alone")]


@pytest.mark.parametrize("how", ["change", "replacement", "add_members"])
def test_a_cycle_through_other_groups_is_refused_and_nothing_changes(
    new_group, clock, how
):
    top = new_group("Top")
    middle = new_group("Middle")
    bottom = new_group("Bottom")
    group_store.add_members(top.id, [middle.id], now=clock())
    group_store.add_members(middle.id, [bottom.id], now=clock())
    before = group_store.get_group(bottom.id)

    with pytest.raises(MembershipCycle) as refused:
        if how == "add_members":
            group_store.add_members(bottom.id, [top.id], now=clock())
        else:
            group_store.replace_group(
                bottom.id,
                _fields("Bottom renamed"),
                [top.id] if how == "replacement" else None,
                now=clock(),
                change=MemberChange(added=(top.id,)) if how == "change" else None,
            )

    ids = [group_id for group_id, _ in refused.value.cycle]
    assert ids == [bottom.id, top.id, middle.id, bottom.id]
    assert group_store.get_group(bottom.id) == before
    assert group_store.members_of_groups([bottom.id]) == {bottom.id: []}


def test_a_refusal_names_the_groups_of_the_cycle_in_order(new_group, add):
    bottom = new_group("Bottom")
    top = new_group("Top", [new_group("Middle", [bottom])])

    with pytest.raises(MembershipCycle) as refused:
        add(bottom, top)

    assert str(refused.value) == (
        '"Bottom" would contain "Top", which contains "Middle", which contains "Bottom"'
    )


def test_shared_groups_without_a_cycle_are_allowed(new_user, new_group, add):
    shared = new_group("Shared", [new_user("ada")])
    left = new_group("Left", [shared])
    right = new_group("Right", [shared])
    top = new_group("Top", [left])

    add(top, right, shared)
    add(top, left)  # already a member

    members = group_store.members_of_groups([top.id])[top.id]
    assert {member.display for member in members} == {"Left", "Right", "Shared"}


def test_users_can_be_nested_without_a_cycle(new_user, new_group, add):
    everyone = new_group("users", builtin="users")
    staff = new_group("Staff")

    add(staff, everyone)
    with pytest.raises(MembershipCycle):
        add(everyone, staff)


def test_two_writes_cannot_close_a_cycle_together(db, new_group, clock):
    # C inside B and A inside D: putting B into A and D into C would make A,
    # B, C, D and A again each contain the next, though either write alone
    # is harmless and the two touch four different groups.
    c = new_group("C")
    b = new_group("B", [c])
    a = new_group("A")
    d = new_group("D", [a])
    first_wrote, release = threading.Event(), threading.Event()

    def first() -> None:
        with transaction():
            group_store.add_members(a.id, [b.id], now=clock())
            first_wrote.set()
            release.wait(timeout=30)

    def second() -> None:
        group_store.add_members(c.id, [d.id], now=clock())

    first_thread, first_outcome = _start(db, first)
    assert first_wrote.wait(timeout=30)
    second_thread, second_outcome = _start(db, second)
    # Give the second write every chance to race the first, which has
    # written but not committed: it must wait for it.
    _wait_until_waiting_or_done(db, second_thread)
    release.set()
    first_thread.join()
    second_thread.join()

    assert first_outcome == [None]
    [refusal] = second_outcome
    assert isinstance(refusal, MembershipCycle)
    assert [name for _, name in refusal.cycle] == ["C", "D", "A", "B", "C"]


def _start(
    db: peewee.Database, action: Callable[[], None]
) -> tuple[threading.Thread, list[BaseException | None]]:
    """Run ``action`` on a thread of its own, with its own connection."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        db.connect(reuse_if_open=True)
        try:
            action()
            outcome.append(None)
        except Exception as ex:
            outcome.append(ex)
        finally:
            db.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _wait_until_waiting_or_done(db: peewee.Database, thread: threading.Thread) -> None:
    """Return once ``thread`` has ended or waits for a PostgreSQL lock.

    SQLite shows no waiting writer; its writers take turns whatever happens.
    """
    if not is_postgresql(db):
        return
    waiting = "SELECT 1 FROM pg_locks WHERE NOT granted"
    deadline = time.monotonic() + 30
    while thread.is_alive() and not db.execute_sql(waiting).fetchall():
        assert time.monotonic() < deadline, "the second write neither ran nor waited"
        time.sleep(0.01)


# Built-in group membership at any depth


def _admins(query: peewee.Query) -> set[str]:
    return {name for (name,) in query.tuples()}


@pytest.fixture
def builtins(new_group) -> dict[str, GroupRecord]:
    return {name: new_group(name, builtin=name) for name in ("admins", "users")}


def test_admins_include_members_of_nested_groups(new_user, new_group, add, builtins):
    direct, deep, outsider = new_user("direct"), new_user("deep"), new_user("out")
    team = new_group("Team", [deep])
    add(builtins["admins"], direct, new_group("Ops", [new_group("Oncall", [team])]))
    new_group("Elsewhere", [outsider])

    in_where = User.select(User.user_name).where(
        group_store.in_builtin_group(User.id, "admins")
    )
    selected = User.select(
        User.user_name, group_store.in_builtin_group(User.id, "admins")
    )

    assert _admins(in_where) == {"direct", "deep"}
    assert {name for name, admin in selected.tuples() if admin} == {"direct", "deep"}


def test_users_nested_in_admins_makes_everyone_an_admin(new_user, add, builtins):
    new_user("ada")
    new_user("bob")
    query = User.select(User.user_name).where(
        group_store.in_builtin_group(User.id, "admins")
    )
    assert _admins(query) == set()

    add(builtins["admins"], builtins["users"])

    assert _admins(query) == {"ada", "bob"}


def test_everyone_is_in_users(new_user, builtins):
    new_user("ada")

    query = User.select(User.user_name).where(
        group_store.in_builtin_group(User.id, "users")
    )

    assert _admins(query) == {"ada"}


def test_in_builtin_group_fits_a_prepared_token_query(
    new_user, new_group, add, builtins, clock
):
    # The shape of storage.tokens' owner query: the condition in the SELECT
    # list after a column of the joined user, the SQL rendered once.
    ada, bob = new_user("ada"), new_user("bob")
    add(builtins["admins"], new_group("Ops", [ada]))
    for number, user in enumerate((ada, bob)):
        AccessToken.insert(
            id=number + 1,
            user=user.id,
            key_id="k1",
            secret_hash=f"hash-{user.user_name}",
            hint="x",
            created=clock(),
        ).execute()

    def owner(secret_hash: str) -> peewee.Query:
        return (
            AccessToken.select(
                AccessToken.id,
                User.user_name,
                group_store.in_builtin_group(User.id, "admins").alias("is_admin"),
            )
            .join(User, on=(User.id == AccessToken.user))
            .where(AccessToken.secret_hash == secret_hash)
        )

    prepared = PreparedQuery(owner, "placeholder-hash")

    assert [tuple(row[1:]) for row in prepared.rows("hash-ada")] == [("ada", 1)]
    assert [tuple(row[1:]) for row in prepared.rows("hash-bob")] == [("bob", 0)]


def test_in_builtin_group_reads_tables_only_through_indexes(db, builtins):
    # Every authenticated request runs it; a scan grows with the directory.
    query = User.select(User.id, group_store.in_builtin_group(User.id, "admins"))
    sql, params = query.where(User.id == 1).sql()

    with transaction():
        if is_postgresql(db):
            # On near-empty tables a scan is rightly cheaper; forbid it.
            db.execute_sql("SET LOCAL enable_seqscan = off")
            plan = db.execute_sql(f"EXPLAIN {sql}", params).fetchall()
        else:
            plan = db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()

    text = "\n".join(str(row[-1]) for row in plan).lower()
    assert "seq scan" not in text, text
    assert not re.search(r"\bscan t\d+$", text, re.MULTILINE), text


def test_membership_rows_are_untouched_by_reads(new_user, new_group, builtins):
    # Implicit memberships are computed, never stored.
    new_user("ada")
    new_group("Team")

    user_store.groups_of_users([user.id for user in User.select()])
    group_store.listed_members([builtins["users"]])

    assert Membership.select().count() == 0
