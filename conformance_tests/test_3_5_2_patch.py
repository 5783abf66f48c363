"""Modifying with PATCH: RFC 7644 §3.5.2, what the operations do.

A successful PATCH may be answered 200 with the resource or 204 with no
body (§3.5.2), so each test reads the result back with GET and checks what
the server stored, whichever answer it gave. Errors and atomicity are in
``test_3_5_2_patch_errors.py``.
"""

from __future__ import annotations

import time

import pytest

from conformance_tests.scim_http import (
    ENTERPRISE_USER_SCHEMA,
    USER_SCHEMA,
    patch_op,
)

pytestmark = pytest.mark.requires_feature("patch")

# What value_at gives for an attribute without a value. RFC 7643 §2.5 makes
# an absent attribute, null and an empty list or object the same state.
ABSENT = "<absent>"

WORK = {"value": "ada@work.example", "type": "work", "primary": True}
HOME = {"value": "ada@home.example", "type": "home"}


@pytest.fixture
def ada(provisioner):
    return provisioner.user(
        "ada",
        displayName="Ada Lovelace",
        title="Analyst",
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[WORK, HOME],
    )


def patched(client, resource, *operations, params=None):
    """PATCH ``operations`` into ``resource``; return it as a GET then sees it."""
    location = resource["meta"]["location"]

    response = client.patch(location, patch_op(*operations), params)

    assert response.status in (200, 204), str(response)
    fetched = client.get(location)
    assert fetched.status == 200, str(fetched)
    return fetched.json()


def value_at(resource, path):
    """The value at ``title``, ``name.givenName`` or an Enterprise URN path."""
    value = resource
    if path.startswith(f"{ENTERPRISE_USER_SCHEMA}:"):
        value = resource.get(ENTERPRISE_USER_SCHEMA, {})
        path = path.removeprefix(f"{ENTERPRISE_USER_SCHEMA}:")
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return ABSENT if value in (None, [], {}) else value


def emails_of(resource):
    """A User's email addresses and their types, in any order."""
    return {(email["value"], email.get("type")) for email in resource.get("emails", [])}


# ada starts with title "Analyst", name Ada Lovelace and no nickName; each
# row lists the values that its operations leave at some paths.
ON_PATHS = [
    # §3.5.2.1: an attribute without a value is added with the new value.
    pytest.param(
        [{"op": "add", "path": "nickName", "value": "Countess"}],
        {"nickName": "Countess", "title": "Analyst"},
        id="add-an-absent-attribute",
    ),
    # §3.5.2.1: add replaces the value of a single-valued attribute.
    pytest.param(
        [{"op": "add", "path": "title", "value": "Countess"}],
        {"title": "Countess"},
        id="add-to-a-single-valued-attribute",
    ),
    pytest.param(
        [{"op": "replace", "path": "title", "value": "Countess"}],
        {"title": "Countess", "displayName": "Ada Lovelace"},
        id="replace-an-attribute",
    ),
    # §3.5.2.2: a removed single-valued attribute is unassigned.
    pytest.param(
        [{"op": "remove", "path": "title"}],
        {"title": ABSENT, "displayName": "Ada Lovelace"},
        id="remove-an-attribute",
    ),
    pytest.param(
        [{"op": "replace", "path": "name.givenName", "value": "Augusta"}],
        {"name.givenName": "Augusta", "name.familyName": "Lovelace"},
        id="replace-a-sub-attribute",
    ),
    pytest.param(
        [{"op": "remove", "path": "name.givenName"}],
        {"name.givenName": ABSENT, "name.familyName": "Lovelace"},
        id="remove-a-sub-attribute",
    ),
    # §3.5.2.3: sub-attributes a complex value leaves out are unchanged.
    pytest.param(
        [{"op": "replace", "path": "name", "value": {"givenName": "Augusta"}}],
        {"name.givenName": "Augusta", "name.familyName": "Lovelace"},
        id="replace-a-complex-attribute",
    ),
    # §3.10: a core attribute may be named with its schema URN.
    pytest.param(
        [{"op": "replace", "path": f"{USER_SCHEMA}:displayName", "value": "A. L."}],
        {"displayName": "A. L."},
        id="core-attribute-with-its-urn",
    ),
    pytest.param(
        [{"op": "replace", "path": f"{USER_SCHEMA}:name.familyName", "value": "King"}],
        {"name.familyName": "King", "name.givenName": "Ada"},
        id="core-sub-attribute-with-its-urn",
    ),
    # RFC 7643 §2.1: attribute names are case-insensitive.
    pytest.param(
        [{"op": "replace", "path": "NAME.GIVENNAME", "value": "Augusta"}],
        {"name.givenName": "Augusta"},
        id="names-in-any-case",
    ),
    # §3.5.2.1 and §3.5.2.3: without a path the value holds the attributes.
    pytest.param(
        [{"op": "add", "value": {"nickName": "Countess"}}],
        {"nickName": "Countess", "title": "Analyst"},
        id="add-without-a-path",
    ),
    pytest.param(
        [{"op": "replace", "value": {"title": "Countess", "nickName": "Ada"}}],
        {"title": "Countess", "nickName": "Ada", "displayName": "Ada Lovelace"},
        id="replace-without-a-path",
    ),
]


@pytest.mark.parametrize(("operations", "expected"), ON_PATHS)
def test_an_operation_changes_its_target(client, ada, operations, expected):
    """RFC 7644 §3.5.2.1-§3.5.2.3: add and replace set the value at their
    path, or the attributes of a value without one; remove unassigns it;
    other attributes keep their values."""
    user = patched(client, ada, *operations)

    assert {path: value_at(user, path) for path in expected} == expected


def enterprise(name):
    """The URN-qualified path of an Enterprise User attribute (RFC 7644 §3.10)."""
    return f"{ENTERPRISE_USER_SCHEMA}:{name}"


# Each row starts from employeeNumber 1815 in the Mathematics department.
ON_ENTERPRISE_PATHS = [
    pytest.param(
        [{"op": "add", "path": enterprise("costCenter"), "value": "C1"}],
        {enterprise("costCenter"): "C1", enterprise("department"): "Mathematics"},
        id="add",
    ),
    pytest.param(
        [{"op": "replace", "path": enterprise("department"), "value": "Poetry"}],
        {enterprise("department"): "Poetry", enterprise("employeeNumber"): "1815"},
        id="replace",
    ),
    pytest.param(
        [{"op": "remove", "path": enterprise("department")}],
        {enterprise("department"): ABSENT, enterprise("employeeNumber"): "1815"},
        id="remove",
    ),
    pytest.param(
        [{"op": "add", "value": {ENTERPRISE_USER_SCHEMA: {"costCenter": "C1"}}}],
        {enterprise("costCenter"): "C1"},
        id="add-without-a-path",
    ),
]


@pytest.mark.usefixtures("enterprise_user")
@pytest.mark.parametrize(("operations", "expected"), ON_ENTERPRISE_PATHS)
def test_an_operation_on_an_extension_attribute(
    client, provisioner, operations, expected
):
    """RFC 7644 §3.10: an extension attribute is named by its schema URN, a
    colon and its name; RFC 7644 §3.5.2.1-§3.5.2.3 then apply to it as to a
    core attribute."""
    extension = {"employeeNumber": "1815", "department": "Mathematics"}
    clerk = provisioner.user("clerk", **{ENTERPRISE_USER_SCHEMA: extension})

    user = patched(client, clerk, *operations)

    assert {path: value_at(user, path) for path in expected} == expected


def test_add_appends_to_a_multi_valued_attribute(client, ada):
    """RFC 7644 §3.5.2.1: if the target is a multi-valued attribute, the new
    value is added to it; the others stay."""
    other = {"value": "ada@other.example", "type": "other"}

    user = patched(client, ada, {"op": "add", "path": "emails", "value": [other]})

    assert emails_of(user) == emails_of({"emails": [WORK, HOME, other]})


def test_add_does_not_repeat_a_value_already_there(client, ada):
    """RFC 7644 §3.5.2.1: if the target already contains the value, no
    change SHOULD be made, so the value is not listed twice."""
    user = patched(client, ada, {"op": "add", "path": "emails", "value": [HOME]})

    assert [email["value"] for email in user["emails"]].count(HOME["value"]) == 1


def test_adding_a_value_already_there_keeps_last_modified(client, ada):
    """RFC 7644 §3.5.2.1: unless other operations change the resource, an
    add of a value the target already contains SHALL NOT change the modify
    timestamp (meta.lastModified, RFC 7643 §3.1)."""
    before = client.get(ada["meta"]["location"]).json()
    # Servers write lastModified to the millisecond or coarser; the pause
    # makes sure that a timestamp the PATCH wrongly moved would differ.
    time.sleep(0.01)

    user = patched(client, ada, {"op": "add", "path": "emails", "value": [HOME]})

    assert user["meta"]["lastModified"] == before["meta"]["lastModified"]


# Each row changes the home address and must leave the work one alone.
FILTERED = [
    pytest.param(
        {
            "op": "replace",
            "path": 'emails[type eq "home"].value',
            "value": "lovelace@home.example",
        },
        {(WORK["value"], "work"), ("lovelace@home.example", "home")},
        id="replace-a-sub-attribute-of-matches",
    ),
    pytest.param(
        {
            "op": "replace",
            "path": 'emails[type eq "home"]',
            "value": {"value": "lovelace@home.example", "type": "home"},
        },
        {(WORK["value"], "work"), ("lovelace@home.example", "home")},
        id="replace-matches",
    ),
    pytest.param(
        {"op": "remove", "path": 'emails[type eq "home"]'},
        {(WORK["value"], "work")},
        id="remove-matches",
    ),
    pytest.param(
        {"op": "remove", "path": f'emails[value eq "{HOME["value"]}"]'},
        {(WORK["value"], "work")},
        id="remove-matches-by-value",
    ),
]


@pytest.mark.parametrize(("operation", "expected"), FILTERED)
def test_a_value_filter_touches_only_the_values_it_matches(
    client, ada, operation, expected
):
    """RFC 7644 §3.5.2.2 and §3.5.2.3: with a value selection filter, replace
    and remove apply to the matching values, and only to them."""
    user = patched(client, ada, operation)

    assert emails_of(user) == expected


def test_replace_without_a_filter_replaces_every_value(client, ada):
    """RFC 7644 §3.5.2.3: a multi-valued target without a filter has all its
    values replaced."""
    only = {"value": "countess@example.org", "type": "other"}

    user = patched(client, ada, {"op": "replace", "path": "emails", "value": [only]})

    assert emails_of(user) == {("countess@example.org", "other")}


def test_remove_without_a_filter_clears_the_attribute(client, ada):
    """RFC 7644 §3.5.2.2: removing a multi-valued attribute without a filter
    removes all its values; the attribute is then unassigned."""
    user = patched(client, ada, {"op": "remove", "path": "emails"})

    assert value_at(user, "emails") == ABSENT


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(
            {"op": "add", "path": "emails", "value": [{**HOME, "primary": True}]},
            id="add-a-primary-value",
        ),
        pytest.param(
            {"op": "replace", "path": 'emails[type eq "home"].primary', "value": True},
            id="make-a-value-primary",
        ),
    ],
)
def test_a_new_primary_value_takes_primary_from_the_others(client, ada, operation):
    """RFC 7644 §3.5.2: a PATCH that sets a value's primary to true SHALL make
    the server set primary to false on the attribute's other values."""
    user = patched(client, ada, operation)

    primaries = [email["value"] for email in user["emails"] if email.get("primary")]
    assert primaries == [HOME["value"]]


# Members of a group before the operation, the operation with {ada} and
# {bob} for their ids, and the members after it.
MEMBER_CHANGES = [
    pytest.param(
        ["ada"],
        {"op": "add", "path": "members", "value": ["bob"]},
        ["ada", "bob"],
        id="add-appends",
    ),
    pytest.param(
        ["ada"],
        {"op": "add", "path": "members", "value": ["ada"]},
        ["ada"],
        id="add-of-a-member-already-there",
    ),
    pytest.param(
        ["ada", "bob"],
        {"op": "remove", "path": 'members[value eq "{ada}"]'},
        ["bob"],
        id="remove-by-filter",
    ),
    pytest.param(
        ["ada"],
        {"op": "replace", "path": "members", "value": ["bob"]},
        ["bob"],
        id="replace",
    ),
    pytest.param(
        ["ada", "bob"],
        {"op": "remove", "path": "members"},
        [],
        id="remove-all",
    ),
]


@pytest.mark.parametrize(("before", "operation", "after"), MEMBER_CHANGES)
def test_group_members_change_as_asked(client, provisioner, before, operation, after):
    """RFC 7644 §3.5.2.1-§3.5.2.3 applied to a Group's members (RFC 7643
    §4.2): add appends members, a value filter removes the members it
    matches, replace sets the list, remove without a filter empties it."""
    users = {label: provisioner.user(label) for label in ("ada", "bob")}
    ids = {label: user["id"] for label, user in users.items()}
    team = provisioner.group("team", members=[users[label] for label in before])
    sent = {"op": operation["op"], "path": operation["path"].format(**ids)}
    if "value" in operation:
        sent["value"] = [{"value": ids[label]} for label in operation["value"]]

    group = patched(client, team, sent)

    members = [member["value"] for member in group.get("members", [])]
    assert sorted(members) == sorted(ids[label] for label in after)


@pytest.mark.parametrize("kind", ["user", "group"])
def test_success_is_200_with_the_resource_or_204(client, provisioner, kind):
    """RFC 7644 §3.5.2: a successful PATCH either answers 200 with the entire
    resource, or 204 No Content with no body."""
    resource = provisioner.user("ada") if kind == "user" else provisioner.group("team")
    location = resource["meta"]["location"]
    operation = {"op": "replace", "path": "displayName", "value": "Renamed"}

    response = client.patch(location, patch_op(operation))

    fetched = client.get(location).json()
    assert fetched["displayName"] == "Renamed"
    assert response.status in (200, 204), str(response)
    if response.status == 200:
        assert response.json() == fetched
    else:
        assert response.body == b""


@pytest.mark.parametrize("kind", ["user", "group"])
def test_attributes_asks_for_a_200_answer_with_them(client, provisioner, kind):
    """RFC 7644 §3.5.2: the server MUST answer 200 when the attributes
    parameter is given; §3.9: the resource is then returned with just those
    attributes, and id (RFC 7643 §7: returned always)."""
    ada = provisioner.user("ada", title="Analyst")
    resource = ada if kind == "user" else provisioner.group("team", members=[ada])
    operation = {"op": "replace", "path": "displayName", "value": "Renamed"}

    response = client.patch(
        resource["meta"]["location"],
        patch_op(operation),
        {"attributes": "displayName"},
    )

    assert response.status == 200, str(response)
    answer = response.json()
    assert answer["id"] == resource["id"]
    assert answer["displayName"] == "Renamed"
    assert not {"userName", "title", "members"} & set(answer)


def test_excluded_attributes_shape_a_200_answer(client, provisioner):
    """RFC 7644 §3.5.2 and §3.9: a 200 answer to a PATCH is subject to
    excludedAttributes, as any returned resource is."""
    team = provisioner.group("team", members=[provisioner.user("ada")])
    operation = {"op": "replace", "path": "displayName", "value": "Renamed"}

    response = client.patch(
        team["meta"]["location"], patch_op(operation), {"excludedAttributes": "members"}
    )

    assert response.status in (200, 204), str(response)
    if response.status == 200:
        assert response.json()["displayName"] == "Renamed"
        assert "members" not in response.json()
