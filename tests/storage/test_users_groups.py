"""Users, groups and memberships in storage, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storage import (
    DuplicateName,
    ResourceNotFound,
    UnknownMembers,
    VersionMismatch,
)
from storage import groups as group_store
from storage import tokens as token_store
from storage import users as user_store
from storage.models import AccessToken, Membership, ResourceId, User, UserEmail
from storage.records import (
    EmailRow,
    GroupFields,
    GroupRecord,
    GroupRef,
    MemberRef,
    UserFields,
    UserRecord,
)

pytestmark = pytest.mark.usefixtures("db")


# Storage keeps the search document it is given without reading it; the
# HTTP layer derives the real one from the schema.
def user_fields(user_name: str, **fields: Any) -> UserFields:
    return UserFields(
        user_name=user_name,
        document={"userName": user_name},
        search={"userName": user_name.casefold()},
        **fields,
    )


def group_fields(display_name: str, **fields: Any) -> GroupFields:
    return GroupFields(
        display_name=display_name,
        document={"displayName": display_name},
        search={"displayName": display_name.casefold()},
        **fields,
    )


def sequence(*values: int) -> Callable[[], int]:
    """An id source that hands out ``values`` in order."""
    return iter(values).__next__


@pytest.fixture
def new_user(clock) -> Callable[..., UserRecord]:
    """Create a user, with the given id if there is one."""

    def create(user_name: str, *, id: int | None = None, **fields: Any) -> UserRecord:
        options = {} if id is None else {"id_source": sequence(id)}
        return user_store.create_user(
            user_fields(user_name, **fields), now=clock(), **options
        )

    return create


@pytest.fixture
def new_group(clock) -> Callable[..., GroupRecord]:
    """Create a group with members, with the given id if there is one."""

    def create(
        display_name: str, members: list[int] | None = None, *, id: int | None = None
    ) -> GroupRecord:
        options = {} if id is None else {"id_source": sequence(id)}
        return group_store.create_group(
            group_fields(display_name), members or [], now=clock(), **options
        )

    return create


def membership_rows(group_id: int) -> dict[int, str]:
    """The member rows of a group as stored: member id to member type."""
    query = Membership.select(Membership.member_id, Membership.member_type).where(
        Membership.group == group_id
    )
    return dict(query.tuples())


# Users


def test_create_user_stores_every_field(clock):
    fields = user_fields(
        "bjensen", display_name="Babs Jensen", external_id="ext-1", active=False
    )

    created = user_store.create_user(fields, now=clock())

    assert created == user_store.get_user(created.id)
    assert (created.user_name, created.display_name) == ("bjensen", "Babs Jensen")
    assert (created.external_id, created.active) == ("ext-1", False)
    assert created.document == {"userName": "bjensen"}
    assert created.created == created.last_modified == clock()
    assert created.version == 1


def test_find_user_by_name_ignores_case(new_user):
    alice = new_user("Alice")

    found = user_store.find_user_by_name("aLICE")

    assert found == alice


@pytest.mark.parametrize(
    ("find", "get", "resource_type"),
    [
        (user_store.find_user, user_store.get_user, "User"),
        (group_store.find_group, group_store.get_group, "Group"),
    ],
)
def test_find_returns_none_and_get_raises_for_an_unknown_id(find, get, resource_type):
    with pytest.raises(ResourceNotFound) as excinfo:
        get(404)

    assert find(404) is None
    assert (excinfo.value.resource_type, excinfo.value.resource_id) == (
        resource_type,
        "404",
    )


def test_replace_user_overwrites_fields_and_keeps_created(new_user, clock):
    original = new_user("bjensen", display_name="Babs")
    clock.advance(hours=1)

    replaced = user_store.replace_user(
        original.id, user_fields("barbara", external_id="ext-2"), now=clock()
    )

    assert replaced == user_store.get_user(original.id)
    assert (replaced.user_name, replaced.display_name) == ("barbara", None)
    assert replaced.external_id == "ext-2"
    assert replaced.created == original.created
    assert replaced.last_modified == clock()


def test_replace_user_without_a_password_hash_keeps_the_stored_one(new_user, clock):
    user = new_user("bjensen", password_hash="first")

    user_store.replace_user(user.id, user_fields("bjensen"), now=clock())
    kept = user_store.password_hash_of(user.id)
    user_store.replace_user(
        user.id, user_fields("bjensen", password_hash="second"), now=clock()
    )
    changed = user_store.password_hash_of(user.id)

    assert (kept, changed) == ("first", "second")


def test_replace_of_an_unknown_user_raises(clock):
    with pytest.raises(ResourceNotFound):
        user_store.replace_user(404, user_fields("nobody"), now=clock())


def test_delete_user_removes_it(new_user):
    user = new_user("bjensen")

    user_store.delete_user(user.id)

    assert user_store.find_user(user.id) is None
    with pytest.raises(ResourceNotFound):
        user_store.delete_user(user.id)


def test_delete_user_removes_its_emails_tokens_and_memberships(
    new_user, new_group, clock
):
    user = new_user("bjensen", emails=(EmailRow("bjensen@example.com"),))
    bystander = new_user("alice", emails=(EmailRow("alice@example.com"),))
    group = new_group("team", [user.id, bystander.id])
    token_store.insert_token(
        user_id=user.id,
        key_id="k1",
        secret_hash="0" * 64,
        hint="scimpat_k1_0000...",
        comment=None,
        created=clock(),
        expires=None,
    )

    user_store.delete_user(user.id)

    assert UserEmail.select().where(UserEmail.user == user.id).count() == 0
    assert AccessToken.select().where(AccessToken.user == user.id).count() == 0
    assert membership_rows(group.id) == {bystander.id: "User"}
    assert UserEmail.select().where(UserEmail.user == bystander.id).count() == 1


def test_replace_user_replaces_its_email_rows(new_user, clock):
    user = new_user(
        "bjensen",
        emails=(
            EmailRow("bjensen@example.com", "work", primary=True),
            EmailRow("babs@example.org", "home"),
        ),
    )
    replacement = user_fields(
        "bjensen", emails=(EmailRow("Barbara.Jensen@Example.com", "work"),)
    )

    user_store.replace_user(user.id, replacement, now=clock())

    rows = UserEmail.select(
        UserEmail.value, UserEmail.value_key, UserEmail.type_key, UserEmail.primary
    ).where(UserEmail.user == user.id)
    # The replacement did not say whether the address is primary: NULL.
    assert list(rows.tuples()) == [
        ("Barbara.Jensen@Example.com", "barbara.jensen@example.com", "work", None)
    ]


def test_users_are_listed_by_creation_time_then_id(new_user, clock):
    late = new_user("late", id=1)
    clock.advance(seconds=-1)
    second = new_user("second", id=3)
    first = new_user("first", id=2)

    listed = user_store.list_users(offset=0, limit=10)
    page = user_store.list_users(offset=1, limit=1)

    assert [user.id for user in listed] == [first.id, second.id, late.id]
    assert page == [second]
    assert user_store.count_users() == 3


# Names are unique without regard to case, compared by str.casefold(), which
# folds all of Unicode: "ß" is "ss", final sigma is sigma, KELVIN SIGN is "k".
CASE_TWINS = [
    ("alice", "ALICE"),
    ("Straße", "STRASSE"),
    ("ÉMILE", "émile"),
    ("ΣΊΣΥΦΟΣ", "σίσυφος"),
    ("\u212aelvin", "kelvin"),
]

# Names that differ by more than case stay distinct.
NEIGHBOURS = [
    ("émile", "emile"),
    ("alice", "alice "),
    ("Straße", "Strasse2"),
]


@pytest.fixture(params=["userName", "displayName"])
def named(request, new_user, new_group) -> Callable[[str], Any]:
    """Create a user or a group with a unique name."""
    return new_user if request.param == "userName" else new_group


@pytest.fixture
def find_by_name(named, new_user) -> Callable[[str], Any]:
    if named is new_user:
        return user_store.find_user_by_name
    return group_store.find_group_by_name


@pytest.mark.parametrize(("taken", "twin"), CASE_TWINS)
def test_names_that_differ_only_in_case_collide(named, find_by_name, taken, twin):
    existing = named(taken)

    with pytest.raises(DuplicateName) as excinfo:
        named(twin)

    assert excinfo.value.value == twin
    assert find_by_name(twin) == existing


@pytest.mark.parametrize(("taken", "other"), NEIGHBOURS)
def test_names_that_differ_in_more_than_case_coexist(named, find_by_name, taken, other):
    first = named(taken)

    second = named(other)

    assert first.id != second.id
    assert find_by_name(other) == second


def test_renaming_a_user_to_a_taken_name_raises_and_changes_nothing(new_user, clock):
    new_user("Straße")
    other = new_user("other")

    with pytest.raises(DuplicateName):
        user_store.replace_user(other.id, user_fields("STRASSE"), now=clock())

    assert user_store.get_user(other.id) == other


def test_renaming_a_group_to_a_taken_name_raises_and_changes_nothing(new_group, clock):
    new_group("ÉMILE")
    other = new_group("other")

    with pytest.raises(DuplicateName):
        group_store.replace_group(other.id, group_fields("émile"), None, now=clock())

    assert group_store.get_group(other.id) == other


def test_user_may_change_the_case_of_its_own_name(new_user, clock):
    user = new_user("bjensen")

    renamed = user_store.replace_user(user.id, user_fields("BJensen"), now=clock())

    assert renamed.user_name == "BJensen"


# Groups and members


def test_create_group_stores_its_members_with_current_display_names(
    new_user, new_group
):
    named = new_user("bjensen", id=1, display_name="Babs Jensen")
    unnamed = new_user("alice", id=2)
    child = new_group("child", id=3)

    group = new_group("parent", [child.id, unnamed.id, named.id])

    assert group_store.members_of_groups([group.id]) == {
        group.id: [
            MemberRef(1, "User", "Babs Jensen"),
            MemberRef(2, "User", "alice"),
            MemberRef(3, "Group", "child"),
        ]
    }


def test_delete_group_removes_its_member_rows_and_its_own_memberships(
    new_user, new_group
):
    user = new_user("bjensen")
    nested = new_group("nested")
    doomed = new_group("doomed", [user.id, nested.id])
    parent = new_group("parent", [doomed.id])

    group_store.delete_group(doomed.id)

    assert group_store.find_group(doomed.id) is None
    assert membership_rows(doomed.id) == {}
    assert membership_rows(parent.id) == {}
    assert user_store.find_user(user.id) == user
    assert group_store.find_group(nested.id) == nested


def test_delete_of_an_unknown_group_raises():
    with pytest.raises(ResourceNotFound):
        group_store.delete_group(404)


def test_replace_group_writes_only_the_members_that_changed(new_user, new_group, clock):
    stays, leaves, joins = new_user("stays"), new_user("leaves"), new_user("joins")
    group = new_group("team", [stays.id, leaves.id])
    # Mark the row of the member who stays: a row that was deleted and
    # written again would come back without the mark.
    (
        Membership.update(member_type="marked")
        .where(Membership.member_id == stays.id)
        .execute()
    )

    group_store.replace_group(
        group.id, group_fields("team"), [stays.id, joins.id], now=clock()
    )

    assert membership_rows(group.id) == {stays.id: "marked", joins.id: "User"}


def test_replace_group_without_a_member_list_keeps_the_members(
    new_user, new_group, clock
):
    user = new_user("bjensen")
    group = new_group("team", [user.id])

    group_store.replace_group(group.id, group_fields("renamed"), None, now=clock())

    assert membership_rows(group.id) == {user.id: "User"}


def test_create_group_with_unknown_members_names_them_and_writes_nothing(
    new_user, new_group
):
    user = new_user("bjensen")
    ids_before = ResourceId.select().count()

    with pytest.raises(UnknownMembers) as excinfo:
        new_group("team", [999, user.id, 998])

    assert excinfo.value.member_ids == ["998", "999"]
    assert "998, 999" in str(excinfo.value)
    assert group_store.find_group_by_name("team") is None
    assert ResourceId.select().count() == ids_before


def test_replace_group_with_unknown_members_changes_nothing(new_user, new_group, clock):
    user = new_user("bjensen")
    group = new_group("team", [user.id])
    clock.advance(hours=1)

    with pytest.raises(UnknownMembers) as excinfo:
        group_store.replace_group(group.id, group_fields("renamed"), [999], now=clock())

    assert excinfo.value.member_ids == ["999"]
    assert group_store.get_group(group.id) == group
    assert membership_rows(group.id) == {user.id: "User"}


def test_add_members_with_unknown_members_adds_none(new_user, new_group, clock):
    user = new_user("bjensen")
    group = new_group("team")

    with pytest.raises(UnknownMembers):
        group_store.add_members(group.id, [user.id, 999], now=clock())

    assert membership_rows(group.id) == {}


def test_unknown_members_message_names_ten_and_counts_the_rest():
    error = UnknownMembers([str(number) for number in range(1, 13)])

    assert (
        str(error) == "no user or group has id 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"
    )


def test_add_members_leaves_existing_members_alone(new_user, new_group, clock):
    first, second = new_user("first"), new_user("second")
    group = new_group("team", [first.id])

    group_store.add_members(group.id, [first.id, second.id], now=clock())

    assert membership_rows(group.id) == {first.id: "User", second.id: "User"}


# Versions


def test_every_replace_of_a_user_increments_its_version(new_user, clock):
    user = new_user("bjensen")

    versions = [
        user_store.replace_user(
            user.id, user_fields(f"bjensen{step}"), now=clock()
        ).version
        for step in range(3)
    ]

    assert [user.version, *versions] == [1, 2, 3, 4]


def _rename(group: GroupRecord, member_id: int, now) -> None:
    group_store.replace_group(group.id, group_fields("renamed"), None, now=now)


def _replace_members(group: GroupRecord, member_id: int, now) -> None:
    group_store.replace_group(group.id, group_fields("team"), [member_id], now=now)


def _add_member(group: GroupRecord, member_id: int, now) -> None:
    group_store.add_members(group.id, [member_id], now=now)


@pytest.mark.parametrize(
    "write",
    [
        _rename,
        _replace_members,
        _add_member,
    ],
)
def test_every_write_to_a_group_increments_its_version(
    new_user, new_group, clock, write
):
    member = new_user("bjensen")
    group = new_group("team")
    clock.advance(hours=1)

    write(group, member.id, clock())

    written = group_store.get_group(group.id)
    assert written.version == group.version + 1
    assert written.last_modified == clock()


@pytest.fixture(params=["User", "Group"])
def replace_stale(request, new_user, new_group, clock) -> Callable[[int], Any]:
    """Replace a user or a group, based on the given version."""
    if request.param == "User":
        user = new_user("bjensen")
        return lambda version: user_store.replace_user(
            user.id, user_fields("bjensen"), now=clock(), expected_version=version
        )
    group = new_group("team")
    return lambda version: group_store.replace_group(
        group.id, group_fields("team"), None, now=clock(), expected_version=version
    )


def test_replace_based_on_the_current_version_succeeds(replace_stale):
    written = replace_stale(1)

    assert written.version == 2


def test_replace_based_on_an_old_version_raises_and_changes_nothing(replace_stale):
    replace_stale(1)

    with pytest.raises(VersionMismatch):
        replace_stale(1)

    assert replace_stale(2).version == 3


@pytest.mark.parametrize(
    "replace",
    [
        lambda now: user_store.replace_user(
            404, user_fields("nobody"), now=now, expected_version=1
        ),
        lambda now: group_store.replace_group(
            404, group_fields("nobody"), None, now=now, expected_version=1
        ),
    ],
    ids=["User", "Group"],
)
def test_replace_of_an_unknown_resource_with_a_version_is_not_found(clock, replace):
    with pytest.raises(ResourceNotFound):
        replace(clock())


# Batch reads


def test_members_of_groups_answers_for_every_group_in_one_query(
    new_user, new_group, sql
):
    user = new_user("bjensen", id=1)
    first = new_group("first", [user.id], id=2)
    second = new_group("second", [first.id, user.id], id=3)
    empty = new_group("empty", id=4)

    with sql.capture() as statements:
        found = group_store.members_of_groups([first.id, second.id, empty.id])

    assert found == {
        first.id: [MemberRef(1, "User", "bjensen")],
        second.id: [MemberRef(1, "User", "bjensen"), MemberRef(2, "Group", "first")],
        empty.id: [],
    }
    assert len(statements) == 1


def test_members_of_groups_shows_a_member_under_its_new_name(
    new_user, new_group, clock
):
    user = new_user("bjensen")
    group = new_group("team", [user.id])

    user_store.replace_user(user.id, user_fields("barbara"), now=clock())

    assert group_store.members_of_groups([group.id]) == {
        group.id: [MemberRef(user.id, "User", "barbara")]
    }


def test_groups_of_users_answers_for_every_user_in_one_query(new_user, new_group, sql):
    member, loner = new_user("bjensen"), new_user("loner")
    beta = new_group("beta", [member.id])
    alpha = new_group("Alpha", [member.id])

    with sql.capture() as statements:
        found = user_store.groups_of_users([member.id, loner.id])

    # Ordered by name without regard to case: "Alpha" before "beta".
    assert found == {
        member.id: [GroupRef(alpha.id, "Alpha"), GroupRef(beta.id, "beta")],
        loner.id: [],
    }
    assert len(statements) == 1


@pytest.mark.parametrize(
    "batch", [group_store.members_of_groups, user_store.groups_of_users]
)
def test_batch_reads_of_nothing_run_no_query(batch, sql):
    with sql.capture() as statements:
        found = batch([])

    assert found == {}
    assert statements == []


def test_pages_of_one_filter_shape_are_built_once(new_user):
    from storage.filters import AttributePath, Compare, Selection
    from storage.prepared import PreparedSelection

    for name in ("ada", "bob", "cy"):
        new_user(name)
    built: list[Selection] = []
    pages = PreparedSelection(
        lambda selection: (
            built.append(selection)
            or user_store.select(
                User.select(*user_store.USER_COLUMNS), "User", selection
            )
        ),
        rendered_each_time=frozenset(),
    )
    path = AttributePath("userName")

    def named(name: str) -> list[str]:
        selection = Selection(filter=Compare(path, "eq", name))
        return [row[1] for row in pages.rows(selection, 0, 10)]

    assert named("ada") == ["ada"]
    assert named("bob") == ["bob"]
    assert named("nobody") == []
    assert len(built) == 1


def test_a_pattern_filter_is_rendered_each_time_and_still_right(new_user):
    from storage.filters import AttributePath, Compare, Selection

    for name in ("ada", "adam", "bob"):
        new_user(name)
    path = AttributePath("userName")

    def starting(prefix: str) -> list[str]:
        selection = Selection(filter=Compare(path, "sw", prefix))
        return sorted(u.user_name for u in user_store.list_users(0, 10, selection))

    assert starting("ad") == ["ada", "adam"]
    assert starting("b") == ["bob"]
