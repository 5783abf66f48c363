"""POST /oauth2/introspect (RFC 7662), on both databases."""

from __future__ import annotations

import falcon.testing
import pytest

from scim_server.bootstrap import token_policy
from tests.factories import group_body, user_body
from tests.test_protocol_api import assert_scim_error
from tokens import format as token_format
from tokens import issue, revoke

INTROSPECT = "/oauth2/introspect"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def member(client, keys, settings):
    """A user who is not an admin, in one group, and a token of theirs."""
    user = client.simulate_post("/scim/v2/Users", json=user_body("m@example.com")).json
    client.simulate_post(
        "/scim/v2/Groups", json=group_body("Readers", members=[user["id"]])
    )
    issued = issue(
        keys, token_policy(settings), user_id=int(user["id"]), now=settings.clock()
    )
    return user, issued


def holding(client, token: str) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(
        client.app, headers={"Authorization": f"Bearer {token}"}
    )


def admin_token(client, keys, settings, **options) -> str:
    admin_id = int(client.simulate_get("/scim/v2/Me").json["id"])
    policy = token_policy(settings)
    return issue(keys, policy, user_id=admin_id, now=settings.clock(), **options).token


def test_an_active_token_is_described_form_encoded(client, member, settings):
    user, issued = member

    response = client.simulate_post(
        INTROSPECT, body=f"token={issued.token}", headers=FORM
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json == {
        "active": True,
        "token_type": "Bearer",
        "scope": "introspect scim:read scim:write tokens",
        "client_id": str(issued.id),
        "jti": str(issued.id),
        "sub": user["id"],
        "username": "m@example.com",
        "iat": int(settings.clock().timestamp()),
        "exp": int(issued.expires.timestamp()),
        "groups": ["Readers", "users"],
    }


def test_a_json_body_is_accepted_too(client, member):
    _, issued = member

    response = client.simulate_post(
        INTROSPECT, json={"token": issued.token, "token_type_hint": "access_token"}
    )

    assert response.status_code == 200
    assert response.json["jti"] == str(issued.id)


@pytest.mark.parametrize("cause", ["revoked", "unknown", "garbage"])
def test_a_token_that_does_not_verify_is_inactive_and_nothing_more(
    client, keys, member, settings, cause
):
    _, issued = member
    presented = {
        "revoked": issued.token,
        "unknown": token_format.generate(keys.current),
        "garbage": "hello",
    }[cause]
    if cause == "revoked":
        revoke(issued.id, now=settings.clock())

    response = client.simulate_post(INTROSPECT, json={"token": presented})

    assert response.status_code == 200
    assert response.json == {"active": False}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"token": ""}, id="empty"),
        pytest.param({"token": 42}, id="not-a-string"),
        pytest.param(["token"], id="not-an-object"),
    ],
)
def test_a_request_without_a_token_is_refused(client, body):
    response = client.simulate_post(INTROSPECT, json=body)

    assert_scim_error(response, 400, "invalidSyntax")


def test_an_empty_form_is_refused(client):
    response = client.simulate_post(INTROSPECT, body="", headers=FORM)

    assert_scim_error(response, 400, "invalidSyntax")


def test_the_caller_must_present_a_token_of_its_own(client, member):
    _, issued = member
    anonymous = falcon.testing.TestClient(client.app)

    response = anonymous.simulate_post(INTROSPECT, json={"token": issued.token})

    assert_scim_error(response, 401)


def test_a_member_who_is_not_an_admin_may_not_introspect(client, member):
    _, issued = member

    response = holding(client, issued.token).simulate_post(
        INTROSPECT, json={"token": issued.token}
    )

    assert_scim_error(response, 403)


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        pytest.param(["introspect"], 200, id="narrowed-to-introspect"),
        pytest.param(["scim:read", "scim:write", "tokens"], 403, id="without-it"),
    ],
)
def test_an_admin_token_needs_the_introspect_scope_when_narrowed(
    client, keys, settings, member, scopes, status
):
    _, issued = member
    caller = admin_token(client, keys, settings, scopes=scopes)

    response = holding(client, caller).simulate_post(
        INTROSPECT, json={"token": issued.token}
    )

    assert response.status_code == status


def test_get_is_not_allowed(client):
    response = client.simulate_get(INTROSPECT)

    assert_scim_error(response, 405)
