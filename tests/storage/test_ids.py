"""Resource ids: parsing, allocation, and never reusing one."""

from __future__ import annotations

import pytest

from storage import groups as group_store
from storage import transaction
from storage import users as user_store
from storage.ids import MAX_ATTEMPTS, allocate, parse_id
from storage.models import ResourceId
from storage.records import GroupFields, UserFields


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("42", 42),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("99999999999999999999", None),
        ("0", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("", None),
        ("1.0", None),
        ("1e3", None),
        ("0x1f", None),
        ("1_000", None),
        ("abc", None),
        ("\uff11", None),  # FULLWIDTH DIGIT ONE
        ("\u0661", None),  # ARABIC-INDIC DIGIT ONE
        ("\u00b9", None),  # SUPERSCRIPT ONE
        # Ids are exact strings: a second spelling of 1 names nothing.
        ("01", None),
        ("00", None),
    ],
)
def test_parse_id(text, expected):
    assert parse_id(text) == expected


def sequence(*values: int):
    """An id source that hands out ``values`` in order."""
    return iter(values).__next__


@pytest.mark.usefixtures("db")
def test_allocate_retries_until_the_source_gives_a_free_id():
    with transaction():
        allocate("User", sequence(1))
        allocate("Group", sequence(2))

        chosen = allocate("User", sequence(1, 2, 3))

    assert chosen == 3


@pytest.mark.usefixtures("db")
def test_allocate_gives_up_after_a_bounded_number_of_attempts():
    offered: list[int] = []

    def always_taken() -> int:
        offered.append(7)
        return 7

    with transaction():
        allocate("User", sequence(7))
        with pytest.raises(RuntimeError, match="no free id"):
            allocate("User", always_taken)

    assert len(offered) == MAX_ATTEMPTS


@pytest.mark.usefixtures("db")
def test_allocate_records_the_kind_of_resource():
    with transaction():
        allocate("Group", sequence(5))

    assert ResourceId.get_by_id(5).kind == "Group"


@pytest.mark.usefixtures("db")
def test_id_of_a_deleted_user_is_never_handed_out_again(clock):
    fields = UserFields(user_name="first", document={}, search={})
    first = user_store.create_user(fields, now=clock(), id_source=sequence(11))
    user_store.delete_user(first.id)

    second = user_store.create_user(
        UserFields(user_name="second", document={}, search={}),
        now=clock(),
        id_source=sequence(11, 12),
    )

    assert second.id == 12
    assert user_store.find_user(11) is None


@pytest.mark.usefixtures("db")
def test_id_of_a_deleted_group_is_never_handed_to_a_user(clock):
    fields = GroupFields(display_name="team", document={}, search={})
    group = group_store.create_group(fields, [], now=clock(), id_source=sequence(21))
    group_store.delete_group(group.id)

    user = user_store.create_user(
        UserFields(user_name="someone", document={}, search={}),
        now=clock(),
        id_source=sequence(21, 22),
    )

    assert user.id == 22
