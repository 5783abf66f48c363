"""The PATCH engine on documents, without HTTP or a database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from scim_server.errors import InvalidPath, InvalidValue, NoTarget, SCIMError
from scim_server.patch import (
    ExtensionPath,
    MemberChanges,
    Members,
    PatchPath,
    apply_patch,
    parse_patch_request,
    parse_path,
)
from scim_server.schema import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    group_type,
    user_type,
)

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER: dict[str, Any] = {
    "schemas": [USER_SCHEMA],
    "userName": "bjensen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@home.org", "type": "home"},
    ],
}


def patched_user(*operations: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_patch_request(
        user_type(), {"schemas": [PATCH_OP], "Operations": list(operations)}
    )
    return apply_patch(user_type(), USER, parsed, resource_id="7").document


def parse_id(value: Any) -> int:
    if not isinstance(value, str) or not value.isdigit():
        raise InvalidValue(f"no member has id {value}")
    return int(value)


def member_changes(
    *operations: dict[str, Any], current: Sequence[str] = ()
) -> tuple[MemberChanges, int]:
    """The member changes of a group PATCH, and how often members were read."""
    loads = []

    def load() -> list[dict[str, Any]]:
        loads.append(1)
        return [
            {"value": value, "type": "Group" if value.startswith("9") else "User"}
            for value in current
        ]

    parsed = parse_patch_request(
        group_type(), {"schemas": [PATCH_OP], "Operations": list(operations)}
    )
    result = apply_patch(
        group_type(),
        {"schemas": [GROUP_SCHEMA], "displayName": "G"},
        parsed,
        resource_id="1",
        members=Members(load=load, parse_id=parse_id),
    )
    return result.members, len(loads)


class TestPaths:
    @pytest.mark.parametrize(
        ("text", "attribute", "sub", "schema"),
        [
            ("userName", "userName", None, None),
            ("USERNAME", "userName", None, None),
            ("name.givenName", "name", "givenName", None),
            (f"{USER_SCHEMA}:name.givenName", "name", "givenName", None),
            ('emails[type eq "work"].value', "emails", "value", None),
            (f"{ENTERPRISE_USER_SCHEMA}:manager.value", "manager", "value", "x"),
            (f"{ENTERPRISE_USER_SCHEMA.upper()}:department", "department", None, "x"),
        ],
    )
    def test_resolves_names_in_any_case(self, text, attribute, sub, schema):
        path = parse_path(user_type(), text)

        assert isinstance(path, PatchPath)
        assert path.attribute.name == attribute
        assert (path.sub.name if path.sub else None) == sub
        assert (path.schema is not None) == (schema is not None)

    def test_a_whole_extension(self):
        path = parse_path(user_type(), ENTERPRISE_USER_SCHEMA)

        assert isinstance(path, ExtensionPath)

    @pytest.mark.parametrize(
        "text",
        [
            "nope",
            "name.nope",
            "userName[value eq 1]",
            'emails[type eq "work"',
            'emails[type eq "work"] or [x]',
            "emails[nope eq 1]",
            "emails..value",
            "urn:other:thing:attr",
        ],
    )
    def test_bad_paths_are_invalid_path(self, text):
        with pytest.raises(InvalidPath):
            parse_path(user_type(), text)


class TestUserDocuments:
    def test_add_merges_into_a_complex_attribute(self):
        document = patched_user(
            {"op": "add", "path": "name", "value": {"middleName": "Ann"}}
        )

        assert document["name"] == {
            "givenName": "Barbara",
            "familyName": "Jensen",
            "middleName": "Ann",
        }

    def test_replace_with_null_unassigns(self):
        document = patched_user({"op": "replace", "path": "name", "value": None})

        assert "name" not in document

    def test_removing_the_last_sub_attribute_removes_the_attribute(self):
        document = patched_user(
            {"op": "remove", "path": "name.givenName"},
            {"op": "remove", "path": "name.familyName"},
        )

        assert "name" not in document

    def test_exact_duplicates_are_not_added(self):
        document = patched_user(
            {"op": "add", "path": "emails", "value": [USER["emails"][1]]}
        )

        assert document["emails"] == USER["emails"]

    def test_sub_attribute_without_a_filter_sets_every_value(self):
        document = patched_user(
            {"op": "replace", "path": "emails.type", "value": "other"}
        )

        assert [email["type"] for email in document["emails"]] == ["other", "other"]

    def test_filter_with_or_that_matches_nothing_is_no_target(self):
        with pytest.raises(NoTarget):
            patched_user(
                {
                    "op": "replace",
                    "path": 'emails[type eq "a" or type eq "b"].value',
                    "value": "x",
                }
            )

    def test_remove_with_a_filter_that_matches_nothing_changes_nothing(self):
        document = patched_user({"op": "remove", "path": 'emails[type eq "other"]'})

        assert document == USER

    def test_remove_listed_values(self):
        document = patched_user(
            {
                "op": "remove",
                "path": "emails",
                "value": [{"value": "babs@home.org"}],
            }
        )

        assert document["emails"] == [USER["emails"][0]]

    def test_the_input_document_is_not_changed(self):
        before = repr(USER)

        patched_user({"op": "remove", "path": "emails"})

        assert repr(USER) == before

    def test_enterprise_attributes_by_object_and_by_urn(self):
        document = patched_user(
            {"op": "add", "value": {ENTERPRISE_USER_SCHEMA: {"department": "R&D"}}},
            {
                "op": "add",
                "value": {f"{ENTERPRISE_USER_SCHEMA}:costCenter": "4130"},
            },
        )

        assert document[ENTERPRISE_USER_SCHEMA] == {
            "department": "R&D",
            "costCenter": "4130",
        }

    def test_replace_of_a_whole_extension_drops_its_other_attributes(self):
        start = patched_user(
            {"op": "add", "value": {ENTERPRISE_USER_SCHEMA: {"department": "R&D"}}},
            {
                "op": "replace",
                "path": ENTERPRISE_USER_SCHEMA,
                "value": {"division": "Labs"},
            },
        )

        assert start[ENTERPRISE_USER_SCHEMA] == {"division": "Labs"}

    def test_types_are_checked_as_in_a_post(self):
        with pytest.raises(InvalidValue):
            patched_user({"op": "replace", "path": "emails.primary", "value": "maybe"})

    def test_filters_ignore_case_where_the_schema_does(self):
        document = patched_user(
            {"op": "replace", "path": 'emails[value sw "BJENSEN"].type', "value": "x"}
        )

        assert document["emails"][0]["type"] == "x"


class TestGroupMembers:
    def test_adds_and_removes_in_order(self):
        changes, loads = member_changes(
            {"op": "add", "path": "members", "value": [{"value": "2"}, {"value": "3"}]},
            {"op": "remove", "path": 'members[value eq "2"]'},
            {"op": "remove", "path": 'members[value eq "4"]'},
        )

        assert changes.replacement is None
        assert list(changes.added) == [3]
        assert list(changes.removed) == [2, 4]
        assert loads == 0

    def test_remove_all_then_add_is_a_replacement(self):
        changes, loads = member_changes(
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": "5"}]},
        )

        assert changes.replacement == {5: None}
        assert loads == 0

    def test_filter_on_other_sub_attributes_reads_members_once(self):
        changes, loads = member_changes(
            {"op": "remove", "path": 'members[type eq "Group"]'},
            {"op": "remove", "path": 'members[type eq "User"]'},
            current=["2", "91", "92"],
        )

        assert sorted(changes.removed) == [2, 91, 92]
        assert loads == 1

    def test_filter_sees_the_changes_made_before_it(self):
        changes, _ = member_changes(
            {"op": "remove", "path": 'members[value eq "2"]'},
            {"op": "remove", "path": 'members[type eq "User"]'},
            current=["2", "3"],
        )

        assert sorted(changes.removed) == [2, 3]

    def test_a_member_value_that_names_nothing_is_ignored_by_remove(self):
        changes, _ = member_changes(
            {"op": "remove", "path": 'members[value eq "not-an-id"]'},
        )

        assert not changes.removed

    @pytest.mark.parametrize(
        "operation",
        [
            {"op": "add", "path": "members", "value": [{"value": "1"}]},
            {"op": "replace", "path": 'members[value eq "2"]', "value": {"value": "3"}},
            {"op": "replace", "path": "members.value", "value": "3"},
        ],
    )
    def test_refused_member_operations(self, operation):
        with pytest.raises(SCIMError):
            member_changes(operation)
