"""PATCH requests that fail: RFC 7644 §3.5.2 with the error types of §3.12.

A PATCH is atomic (§3.5.2): when any of its operations fails, the server
answers with the error and the resource stays exactly as it was, so every
test here also reads the resource back and compares it with what it was.
"""

from __future__ import annotations

import pytest

from conformance_tests.scim_http import (
    PATCH_OP_SCHEMA,
    assert_scim_error,
    patch_op,
)

pytestmark = pytest.mark.requires_feature("patch")


@pytest.fixture
def ada(provisioner):
    return provisioner.user(
        "ada",
        title="Analyst",
        name={"givenName": "Ada", "familyName": "Lovelace"},
        emails=[{"value": "ada@work.example", "type": "work"}],
    )


# (operation, scimType); each is refused with 400.
REFUSED = [
    # §3.12 invalidPath: the path was invalid or malformed.
    pytest.param(
        {"op": "replace", "path": "favouriteColour", "value": "blue"},
        "invalidPath",
        id="unknown-attribute",
    ),
    pytest.param(
        {"op": "replace", "path": "name.nickname", "value": "Ada"},
        "invalidPath",
        id="unknown-sub-attribute",
    ),
    pytest.param(
        {"op": "replace", "path": 'emails[type eq "work"', "value": "a@b.example"},
        "invalidPath",
        id="unclosed-filter",
    ),
    pytest.param(
        {"op": "replace", "path": 'title[value eq "Analyst"]', "value": "Countess"},
        "invalidPath",
        id="filter-on-a-single-value",
    ),
    # §3.5.2.2: remove without a path is noTarget; §3.5.2.3: so is a
    # replace whose value filter matches no value.
    pytest.param({"op": "remove"}, "noTarget", id="remove-without-a-path"),
    pytest.param(
        {
            "op": "replace",
            "path": 'emails[value sw "nobody@"].value',
            "value": "a@b.example",
        },
        "noTarget",
        id="filter-matching-nothing",
    ),
    # §3.5.2: a client MUST NOT modify a readOnly attribute.
    pytest.param(
        {"op": "replace", "path": "id", "value": "chosen-by-client"},
        "mutability",
        id="replace-id",
    ),
    pytest.param(
        {"op": "replace", "path": "meta.created", "value": "2001-01-01T00:00:00Z"},
        "mutability",
        id="replace-meta-created",
    ),
    # §3.5.2.2: an attribute that is required (userName, RFC 7643 §4.1.1)
    # cannot be removed: mutability.
    pytest.param(
        {"op": "remove", "path": "userName"},
        "mutability",
        id="remove-a-required-attribute",
    ),
    # §3.12 invalidValue: a value missing or not of the attribute's type.
    pytest.param(
        {"op": "replace", "path": "active", "value": {"not": "a boolean"}},
        "invalidValue",
        id="value-of-the-wrong-type",
    ),
    pytest.param(
        {"op": "add", "path": "title"},
        "invalidValue",
        id="add-without-a-value",
    ),
    # §3.12 invalidSyntax: the request does not follow the PatchOp schema.
    pytest.param(
        {"op": "copy", "path": "title", "value": "Countess"},
        "invalidSyntax",
        id="unknown-op",
    ),
]


@pytest.mark.parametrize(("operation", "scim_type"), REFUSED)
def test_a_refused_operation_is_400_and_changes_nothing(
    client, ada, operation, scim_type
):
    """RFC 7644 §3.5.2: an operation incompatible with the attribute's
    schema or mutability SHALL be answered with an error as §3.12 defines,
    whose scimType names the cause; the resource is left as it was."""
    location = ada["meta"]["location"]
    before = client.get(location).json()

    response = client.patch(location, patch_op(operation))

    assert_scim_error(response, 400, scim_type)
    assert client.get(location).json() == before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"Operations": [{"op": "replace", "path": "title", "value": "X"}]},
            id="no-schemas",
        ),
        pytest.param({"schemas": [PATCH_OP_SCHEMA]}, id="no-operations"),
        pytest.param(
            {"schemas": [PATCH_OP_SCHEMA], "Operations": {"op": "remove"}},
            id="operations-not-a-list",
        ),
    ],
)
def test_a_body_that_is_not_a_patch_op_is_400_invalid_syntax(client, ada, body):
    """RFC 7644 §3.5.2: the body MUST carry the PatchOp schema URN and an
    Operations array; §3.12: a body that does not follow the request schema
    is 400 invalidSyntax."""
    location = ada["meta"]["location"]
    before = client.get(location).json()

    response = client.patch(location, body)

    assert_scim_error(response, 400, "invalidSyntax")
    assert client.get(location).json() == before


def test_patching_an_unknown_resource_is_404(client, provisioner):
    """RFC 7644 §3.12: a PATCH of a resource that does not exist is 404."""
    gone = provisioner.gone(provisioner.user("gone"))
    operation = {"op": "replace", "path": "title", "value": "Ghost"}

    response = client.patch(f"/Users/{gone}", patch_op(operation))

    assert_scim_error(response, 404)


# A second operation that fails after a first that would have succeeded.
LATER_FAILURES = [
    pytest.param(
        {"op": "replace", "path": "favouriteColour", "value": "blue"}, id="invalidPath"
    ),
    pytest.param(
        {"op": "replace", "path": 'emails[value sw "nobody@"].value', "value": "x"},
        id="noTarget",
    ),
    pytest.param({"op": "replace", "path": "id", "value": "x"}, id="mutability"),
    pytest.param({"op": "replace", "path": "active", "value": [1]}, id="invalidValue"),
]


@pytest.mark.parametrize("failing", LATER_FAILURES)
def test_a_patch_is_atomic(client, ada, failing):
    """RFC 7644 §3.5.2: a PATCH is atomic; if a single operation fails, the
    original resource MUST be restored and a failure returned, even when an
    earlier operation of the request had succeeded."""
    location = ada["meta"]["location"]
    before = client.get(location).json()
    succeeding = {"op": "replace", "path": "title", "value": "Countess"}

    response = client.patch(location, patch_op(succeeding, failing))

    assert_scim_error(response, 400)
    assert client.get(location).json() == before


def test_a_group_patch_is_atomic(client, provisioner):
    """RFC 7644 §3.5.2: atomicity holds for a Group's members too: a rename
    followed by an add of a member that does not exist (RFC 7643 §4.2: a
    member is the id of a resource) leaves name and members as they were."""
    ada = provisioner.user("ada")
    team = provisioner.group("team", members=[ada])
    gone = provisioner.gone(provisioner.user("gone"))
    location = team["meta"]["location"]
    before = client.get(location).json()
    operations = [
        {"op": "replace", "path": "displayName", "value": "Renamed"},
        {"op": "add", "path": "members", "value": [{"value": gone}]},
    ]

    response = client.patch(location, patch_op(*operations))

    assert_scim_error(response, 400)
    assert client.get(location).json() == before
