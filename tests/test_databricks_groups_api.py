"""The Databricks REST API 2.0 groups endpoints and SCIM under its prefix."""

from __future__ import annotations

import falcon.testing
import pytest

from tests.factories import user_body

API = "/api/2.0/groups"


@pytest.fixture
def someone(client):
    response = client.simulate_post(
        "/scim/v2/Users", json=user_body("someone@example.com")
    )
    assert response.status_code == 201
    return response.json


def post(client, operation, body, status=200):
    response = client.simulate_post(f"{API}/{operation}", json=body)
    assert response.status_code == status, response.text
    return response.json


def members(client, group_name):
    return client.simulate_get(
        f"{API}/list-members", params={"group_name": group_name}
    ).json["members"]


def assert_databricks_error(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json["error_code"] == code
    assert isinstance(response.json["message"], str) and response.json["message"]
    assert set(response.json) == {"error_code", "message"}


def test_create_list_and_delete(client):
    assert post(client, "create", {"group_name": "Growth team"}) == {
        "group_name": "Growth team"
    }

    names = client.simulate_get(f"{API}/list").json["group_names"]
    assert names == ["admins", "Growth team", "users"]

    assert post(client, "delete", {"group_name": "Growth team"}) == {}
    assert "Growth team" not in client.simulate_get(f"{API}/list").json["group_names"]


def test_the_announcement_request_adds_a_user_to_a_group(client, someone):
    # {"group_name": G, "user_name": U} without parent_name: U joins G.
    post(client, "create", {"group_name": "Growth team"})

    post(
        client,
        "add-member",
        {"group_name": "Growth team", "user_name": "someone@example.com"},
    )

    assert members(client, "Growth team") == [{"user_name": "someone@example.com"}]


def test_the_curl_of_the_announcement_whatever_its_content_type(client, someone):
    # curl -d labels the body application/x-www-form-urlencoded.
    post(client, "create", {"group_name": "Growth team"})

    response = client.simulate_post(
        f"{API}/add-member",
        body='{"group_name": "Growth team", "user_name": "someone@example.com"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    assert members(client, "Growth team") == [{"user_name": "someone@example.com"}]


def test_the_legacy_cli_sends_text_json_on_gets_too(client, someone):
    post(client, "create", {"group_name": "Team"})
    client.simulate_post(
        f"{API}/add-member",
        body='{"parent_name": "Team", "user_name": "someone@example.com"}',
        headers={"Content-Type": "text/json"},
    )

    response = client.simulate_get(
        f"{API}/list-members",
        body='{"group_name": "Team"}',
        headers={"Content-Type": "text/json"},
    )

    assert response.json == {"members": [{"user_name": "someone@example.com"}]}


def test_add_and_remove_users_and_groups_with_parent_name(client, someone):
    post(client, "create", {"group_name": "Outer"})
    post(client, "create", {"group_name": "Inner"})

    post(
        client, "add-member", {"parent_name": "Outer", "user_name": someone["userName"]}
    )
    post(client, "add-member", {"parent_name": "Outer", "group_name": "Inner"})

    assert members(client, "Outer") == [
        {"user_name": "someone@example.com"},
        {"group_name": "Inner"},
    ]
    parents = client.simulate_get(
        f"{API}/list-parents", params={"group_name": "Inner"}
    ).json
    assert parents == {"group_names": ["Outer"]}
    user_parents = client.simulate_get(
        f"{API}/list-parents", params={"user_name": "SOMEONE@example.com"}
    ).json
    assert user_parents == {"group_names": ["Outer"]}

    post(client, "remove-member", {"parent_name": "Outer", "group_name": "Inner"})
    assert members(client, "Outer") == [{"user_name": "someone@example.com"}]


def test_changes_are_visible_over_scim(client, someone):
    post(client, "create", {"group_name": "Growth team"})
    post(
        client,
        "add-member",
        {"parent_name": "Growth team", "user_name": someone["userName"]},
    )

    user = client.simulate_get(f"/scim/v2/Users/{someone['id']}").json

    assert sorted(group["display"] for group in user["groups"]) == [
        "Growth team",
        "users",
    ]


def test_list_members_reads_a_json_body_too(client, someone):
    post(client, "create", {"group_name": "Team"})
    post(
        client, "add-member", {"parent_name": "Team", "user_name": someone["userName"]}
    )

    response = client.simulate_get(f"{API}/list-members", json={"group_name": "Team"})

    assert response.json == {"members": [{"user_name": "someone@example.com"}]}


@pytest.mark.parametrize(
    ("operation", "body", "status", "code"),
    [
        ("create", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("create", {"group_name": ""}, 400, "INVALID_PARAMETER_VALUE"),
        ("create", {"group_name": "admins"}, 409, "RESOURCE_ALREADY_EXISTS"),
        ("delete", {"group_name": "nope"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("delete", {"group_name": "admins"}, 400, "INVALID_PARAMETER_VALUE"),
        (
            "add-member",
            {"parent_name": "nope", "user_name": "someone@example.com"},
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "add-member",
            {"parent_name": "admins", "user_name": "nobody@example.com"},
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "add-member",
            {"parent_name": "admins", "user_name": "a", "group_name": "b"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        ("add-member", {"parent_name": "admins"}, 400, "INVALID_PARAMETER_VALUE"),
        (
            "add-member",
            {"parent_name": "admins", "group_name": "admins"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
    ],
)
def test_errors_have_the_databricks_shape(
    client, someone, operation, body, status, code
):
    response = client.simulate_post(f"{API}/{operation}", json=body)

    assert_databricks_error(response, status, code)


def test_malformed_json_and_unknown_endpoints(client):
    malformed = client.simulate_post(
        f"{API}/create", body="{", headers={"Content-Type": "application/json"}
    )
    assert_databricks_error(malformed, 400, "MALFORMED_REQUEST")
    assert_databricks_error(
        client.simulate_get("/api/2.0/nope"), 404, "ENDPOINT_NOT_FOUND"
    )


def test_authentication_errors_have_the_databricks_shape(app):
    response = falcon.testing.TestClient(app).simulate_get(f"{API}/list")

    assert_databricks_error(response, 401, "UNAUTHENTICATED")


class TestSCIMUnderTheDatabricksPrefix:
    PREFIX = "/api/2.0/preview/scim/v2"

    def test_users_groups_and_me(self, client, someone):
        users = client.simulate_get(
            f"{self.PREFIX}/Users",
            params={"filter": 'userName eq "someone@example.com"'},
        ).json
        assert [user["id"] for user in users["Resources"]] == [someone["id"]]
        assert client.simulate_get(f"{self.PREFIX}/Me").json["userName"] == "admin"
        groups = client.simulate_get(f"{self.PREFIX}/Groups").json
        assert groups["totalResults"] == 2

    def test_errors_there_are_scim_errors(self, client):
        response = client.simulate_get(f"{self.PREFIX}/Users/1")

        assert response.status_code == 404
        assert response.json["schemas"] == [
            "urn:ietf:params:scim:api:messages:2.0:Error"
        ]
