"""Versions and conditional requests (RFC 7644 §3.14), on both databases."""

from __future__ import annotations

import pytest

from tests.factories import group_body, user_body
from tests.test_protocol_api import assert_scim_error

USERS = "/scim/v2/Users"
GROUPS = "/scim/v2/Groups"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture
def user(client):
    response = client.simulate_post(USERS, json=user_body())
    assert response.status_code == 201
    return response.json


NICKNAME_PATCH = {
    "schemas": [PATCH_OP],
    "Operations": [{"op": "replace", "path": "nickName", "value": "N"}],
}


def test_every_write_changes_the_version(client, user):
    versions = [user["meta"]["version"]]
    location = f"{USERS}/{user['id']}"
    versions.append(
        client.simulate_patch(location, json=NICKNAME_PATCH).json["meta"]["version"]
    )
    versions.append(
        client.simulate_put(location, json=user_body(user["userName"])).json["meta"][
            "version"
        ]
    )

    assert len(set(versions)) == 3
    assert client.simulate_get(location).headers["etag"] == versions[-1]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_write_with_a_stale_if_match_is_412_and_changes_nothing(client, user, method):
    location = f"{USERS}/{user['id']}"
    client.simulate_patch(location, json=NICKNAME_PATCH)
    current = client.simulate_get(location).json
    body = {"PUT": user_body(user["userName"], title="x"), "PATCH": NICKNAME_PATCH}.get(
        method
    )

    response = client.simulate_request(
        method, location, json=body, headers={"If-Match": user["meta"]["version"]}
    )

    assert_scim_error(response, 412)
    assert client.simulate_get(location).json == current


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("tag", ["current", "*", "strong", "listed"])
def test_write_with_a_matching_if_match_succeeds(client, user, method, tag):
    location = f"{USERS}/{user['id']}"
    version = user["meta"]["version"]
    header = {
        "current": version,
        "*": "*",
        # The same opaque value sent as a strong tag, as some clients do.
        "strong": version.removeprefix("W/"),
        "listed": f'W/"nope", {version}',
    }[tag]
    body = {"PUT": user_body(user["userName"]), "PATCH": NICKNAME_PATCH}.get(method)

    response = client.simulate_request(
        method, location, json=body, headers={"If-Match": header}
    )

    assert response.status_code in (200, 204), response.text


def test_group_writes_honour_if_match(client):
    group = client.simulate_post(GROUPS, json=group_body("Versioned")).json
    location = f"{GROUPS}/{group['id']}"
    client.simulate_put(location, json=group_body("Versioned 2"))

    response = client.simulate_delete(
        location, headers={"If-Match": group["meta"]["version"]}
    )

    assert_scim_error(response, 412)
    assert client.simulate_get(location).status_code == 200


def test_if_none_match_with_the_current_version_is_304(client, user):
    location = f"{USERS}/{user['id']}"

    response = client.simulate_get(
        location, headers={"If-None-Match": user["meta"]["version"]}
    )

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == user["meta"]["version"]


def test_if_none_match_with_an_old_version_returns_the_resource(client, user):
    location = f"{USERS}/{user['id']}"
    client.simulate_patch(location, json=NICKNAME_PATCH)

    response = client.simulate_get(
        location, headers={"If-None-Match": user["meta"]["version"]}
    )

    assert response.status_code == 200
    assert response.json["nickName"] == "N"


def test_if_match_on_a_missing_resource_is_404(client):
    response = client.simulate_delete(f"{USERS}/123", headers={"If-Match": "*"})

    assert_scim_error(response, 404)
