"""The Databricks token and token-management APIs, on both databases."""

from __future__ import annotations

import dataclasses
import datetime

import falcon.testing
import pytest

from scim_server.app import create_app
from scim_server.bootstrap import token_policy
from tests.conftest import START
from tests.factories import user_body
from tests.test_databricks_groups_api import assert_databricks_error
from tokens import issue

API = "/api/2.0"


@pytest.fixture
def member(client, keys, settings):
    """A user who is not an admin, and a client holding their token."""
    user = client.simulate_post(
        "/scim/v2/Users", json=user_body("someone@example.com")
    ).json
    token = issue(
        keys, token_policy(settings), user_id=int(user["id"]), now=settings.clock()
    ).token
    return user, falcon.testing.TestClient(
        client.app, headers={"Authorization": f"Bearer {token}"}
    )


def create(client, **body):
    response = client.simulate_post(f"{API}/token/create", json=body)
    assert response.status_code == 200, response.text
    return response.json


def listed(client):
    return client.simulate_get(f"{API}/token/list").json["token_infos"]


def test_create_shows_the_secret_once_and_the_token_works(member, app):
    _, as_member = member

    created = create(as_member, lifetime_seconds=3600, comment="laptop")

    millis = int(START.timestamp() * 1000)
    assert created["token_info"] == {
        "token_id": created["token_info"]["token_id"],
        "creation_time": millis,
        "expiry_time": millis + 3_600_000,
        "comment": "laptop",
    }
    fresh = falcon.testing.TestClient(
        app, headers={"Authorization": f"Bearer {created['token_value']}"}
    )
    assert fresh.simulate_get("/scim/v2/Me").json["userName"] == "someone@example.com"
    infos = listed(as_member)
    assert created["token_info"] in infos
    assert all("token_value" not in info for info in infos)
    assert created["token_value"] not in str(infos)


def test_a_lifetime_above_the_maximum_is_refused_not_shortened(member, settings):
    _, as_member = member
    too_long = settings.token_max_lifetime + datetime.timedelta(days=1)

    response = as_member.simulate_post(
        f"{API}/token/create",
        json={"lifetime_seconds": int(too_long.total_seconds())},
    )

    assert_databricks_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_delete_revokes_at_once(member, app):
    _, as_member = member
    created = create(as_member, comment="old")
    fresh = falcon.testing.TestClient(
        app, headers={"Authorization": f"Bearer {created['token_value']}"}
    )

    response = as_member.simulate_post(
        f"{API}/token/delete", json={"token_id": created["token_info"]["token_id"]}
    )

    assert response.json == {}
    assert fresh.simulate_get("/scim/v2/Me").status_code == 401
    assert created["token_info"]["token_id"] not in {
        info["token_id"] for info in listed(as_member)
    }


def test_nobody_deletes_another_users_token_through_the_token_api(client, member):
    _, as_member = member
    admins_token = create(client, comment="admin's")["token_info"]["token_id"]

    response = as_member.simulate_post(
        f"{API}/token/delete", json={"token_id": admins_token}
    )

    assert_databricks_error(response, 404, "RESOURCE_DOES_NOT_EXIST")
    # Not even an admin: the token API is for one's own tokens.
    members_token = create(as_member)["token_info"]["token_id"]
    response = client.simulate_post(
        f"{API}/token/delete", json={"token_id": members_token}
    )
    assert_databricks_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


class TestTokenManagement:
    def test_admins_list_everyones_tokens_with_their_owners(self, client, member):
        user, as_member = member
        token_id = create(as_member, comment="ci")["token_info"]["token_id"]

        everyone = client.simulate_get(f"{API}/token-management/tokens").json
        by_name = client.simulate_get(
            f"{API}/token-management/tokens",
            params={"created_by_username": "someone@example.com"},
        ).json
        by_id = client.simulate_get(
            f"{API}/token-management/tokens", params={"created_by_id": user["id"]}
        ).json

        mine = [i for i in everyone["token_infos"] if i["token_id"] == token_id]
        assert mine[0]["created_by_username"] == "someone@example.com"
        assert mine[0]["created_by_id"] == int(user["id"])
        assert {i["created_by_username"] for i in by_name["token_infos"]} == {
            "someone@example.com"
        }
        assert by_name == by_id

    def test_admins_get_and_delete_any_token(self, client, member):
        _, as_member = member
        token_id = create(as_member)["token_info"]["token_id"]
        path = f"{API}/token-management/tokens/{token_id}"

        assert client.simulate_get(path).json["token_info"]["token_id"] == token_id
        assert client.simulate_delete(path).json == {}
        assert_databricks_error(
            client.simulate_get(path), 404, "RESOURCE_DOES_NOT_EXIST"
        )
        assert token_id not in {info["token_id"] for info in listed(as_member)}

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", f"{API}/token-management/tokens"),
            ("GET", f"{API}/token-management/tokens/1"),
            ("DELETE", f"{API}/token-management/tokens/1"),
        ],
    )
    def test_members_may_not(self, member, method, path):
        _, as_member = member

        response = as_member.simulate_request(method, path)

        assert_databricks_error(response, 403, "PERMISSION_DENIED")

    def test_unknown_token_ids(self, client):
        for token_id in ("123", "not-a-number"):
            response = client.simulate_get(f"{API}/token-management/tokens/{token_id}")
            assert_databricks_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_a_token_beyond_the_quota_is_quota_exceeded(client, keys, settings, member):
    user, _ = member  # holds one token already
    limited = create_app(dataclasses.replace(settings, token_quota=3), keys=keys)
    token = issue(
        keys, token_policy(settings), user_id=int(user["id"]), now=settings.clock()
    ).token  # a second one
    as_member = falcon.testing.TestClient(
        limited, headers={"Authorization": f"Bearer {token}"}
    )

    assert as_member.simulate_post(f"{API}/token/create", json={}).status_code == 200
    response = as_member.simulate_post(f"{API}/token/create", json={})

    assert_databricks_error(response, 400, "QUOTA_EXCEEDED")
