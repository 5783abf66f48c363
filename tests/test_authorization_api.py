"""Who may do what (one authorisation function), on both databases."""

from __future__ import annotations

import falcon.testing
import pytest

from scim_server.bootstrap import token_policy
from scim_server.schema import ENTERPRISE_USER_SCHEMA
from tests.factories import group_body, user_body
from tests.test_protocol_api import assert_scim_error
from tokens import issue

USERS = "/scim/v2/Users"
GROUPS = "/scim/v2/Groups"


@pytest.fixture
def member(client, keys, settings):
    """A user who is not an admin, and a client holding their token."""
    user = client.simulate_post(
        USERS,
        json=user_body(
            "plain@example.com", title="Engineer", displayName="Plain Person"
        ),
    ).json
    token = issue(
        keys, token_policy(settings), user_id=int(user["id"]), now=settings.clock()
    ).token
    return user, falcon.testing.TestClient(
        client.app, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def team(client, member):
    user, _ = member
    return client.simulate_post(
        GROUPS, json=group_body("Team", members=[user["id"]])
    ).json


class TestMembersWhoAreNotAdmins:
    def test_see_users_by_id_and_user_name_only(self, member):
        user, as_member = member

        response = as_member.simulate_get(USERS, params={"count": 100})

        assert response.status_code == 200
        for resource in response.json["Resources"]:
            assert set(resource) == {"schemas", "id", "userName"}
        assert user["id"] in {r["id"] for r in response.json["Resources"]}

    def test_see_groups_by_id_and_display_name_only(self, member, team):
        _, as_member = member

        response = as_member.simulate_get(f"{GROUPS}/{team['id']}")

        assert response.json == {
            "schemas": team["schemas"],
            "id": team["id"],
            "displayName": "Team",
        }

    def test_asking_for_hidden_attributes_gets_the_id_alone(self, member):
        user, as_member = member

        response = as_member.simulate_get(
            f"{USERS}/{user['id']}", params={"attributes": "emails,title"}
        )

        assert set(response.json) == {"schemas", "id"}

    def test_may_filter_by_what_they_see(self, member):
        user, as_member = member

        response = as_member.simulate_get(
            USERS, params={"filter": 'userName eq "PLAIN@example.com"'}
        )

        assert [r["id"] for r in response.json["Resources"]] == [user["id"]]

    @pytest.mark.parametrize(
        "params",
        [
            {"filter": 'title eq "Engineer"'},
            {"filter": 'userName pr and emails[value co "plain"]'},
            {"filter": f"{ENTERPRISE_USER_SCHEMA}:department pr"},
            {"sortBy": "title"},
        ],
    )
    def test_may_not_filter_or_sort_by_what_is_hidden(self, member, params):
        _, as_member = member

        assert_scim_error(as_member.simulate_get(USERS, params=params), 403)

    def test_root_search_is_limited_too(self, member, team):
        _, as_member = member

        response = as_member.simulate_post(
            "/scim/v2/.search",
            json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]},
        )

        assert response.status_code == 200
        for resource in response.json["Resources"]:
            assert set(resource) <= {"schemas", "id", "userName", "displayName"}

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("POST", USERS, user_body("new@example.com")),
            ("POST", GROUPS, group_body("New")),
            ("POST", "/scim/v2/Bulk", {"schemas": [], "Operations": []}),
        ],
    )
    def test_may_not_create(self, member, method, path, body):
        _, as_member = member

        response = as_member.simulate_request(method, path, json=body)

        assert_scim_error(response, 403)

    def test_may_not_change_or_delete_anyone_not_even_themselves(self, member, client):
        user, as_member = member
        location = f"{USERS}/{user['id']}"
        patch = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "Boss"}],
        }

        assert_scim_error(as_member.simulate_patch(location, json=patch), 403)
        assert_scim_error(as_member.simulate_put(location, json=user_body("x")), 403)
        assert_scim_error(as_member.simulate_delete(location), 403)
        assert client.simulate_get(location).json["title"] == "Engineer"


class TestMe:
    def test_me_is_the_token_owner_in_full(self, member, team):
        user, as_member = member

        response = as_member.simulate_get("/scim/v2/Me")

        assert response.status_code == 200
        assert response.json["id"] == user["id"]
        assert response.json["title"] == "Engineer"
        # Every user is also in the built-in users group, implicitly.
        groups = {g["display"]: g["value"] for g in response.json["groups"]}
        assert groups["Team"] == team["id"]
        assert set(groups) == {"Team", "users"}
        assert response.headers["location"].endswith(f"/Users/{user['id']}")
        assert response.headers["etag"] == response.json["meta"]["version"]

    def test_me_honours_attributes(self, member):
        _, as_member = member

        response = as_member.simulate_get("/scim/v2/Me", params={"attributes": "title"})

        assert set(response.json) == {"schemas", "id", "title"}

    def test_me_for_the_admin(self, client):
        assert client.simulate_get("/scim/v2/Me").json["userName"] == "admin"

    def test_me_needs_a_token(self, app):
        response = falcon.testing.TestClient(app).simulate_get("/scim/v2/Me")

        assert_scim_error(response, 401)

    @pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
    def test_me_is_read_only(self, member, method):
        _, as_member = member

        response = as_member.simulate_request(method, "/scim/v2/Me", json={})

        assert_scim_error(response, 405)


PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def admins_group(client):
    found = client.simulate_get(GROUPS, params={"filter": 'displayName eq "admins"'})
    return found.json["Resources"][0]


def me(client):
    return client.simulate_get("/scim/v2/Me").json


def patch(client, path, *operations):
    return client.simulate_patch(
        path, json={"schemas": [PATCH_OP], "Operations": list(operations)}
    )


class TestAdmins:
    def test_the_last_active_admin_cannot_be_deactivated(self, client):
        admin = me(client)

        response = patch(
            client,
            f"{USERS}/{admin['id']}",
            {"op": "replace", "path": "active", "value": False},
        )

        assert_scim_error(response, 400, "mutability")
        assert me(client)["active"] is True

    def test_the_last_active_admin_cannot_be_deleted(self, client):
        admin = me(client)

        assert_scim_error(
            client.simulate_delete(f"{USERS}/{admin['id']}"), 400, "mutability"
        )

    def test_the_last_active_admin_cannot_leave_admins(self, client):
        admin, admins = me(client), admins_group(client)

        response = patch(
            client,
            f"{GROUPS}/{admins['id']}",
            {"op": "remove", "path": f'members[value eq "{admin["id"]}"]'},
        )

        assert_scim_error(response, 400, "mutability")
        members = client.simulate_get(f"{GROUPS}/{admins['id']}").json["members"]
        assert [m["value"] for m in members] == [admin["id"]]

    def test_with_a_second_admin_the_first_may_go(
        self, client, app, admin_token, member
    ):
        user, as_member = member
        admin, admins = me(client), admins_group(client)
        patch(
            client,
            f"{GROUPS}/{admins['id']}",
            {"op": "add", "path": "members", "value": [{"value": user["id"]}]},
        )
        # The new admin now sees the whole directory.
        seen = as_member.simulate_get(f"{USERS}/{admin['id']}").json
        assert "meta" in seen

        deactivated = patch(
            as_member,
            f"{USERS}/{admin['id']}",
            {"op": "replace", "path": "active", "value": False},
        )

        assert deactivated.status_code == 200, deactivated.text
        # A deactivated user's tokens stop working at once...
        assert_scim_error(client.simulate_get("/scim/v2/Me"), 401)
        # ...and work again when the user is reactivated.
        patch(
            as_member,
            f"{USERS}/{admin['id']}",
            {"op": "replace", "path": "active", "value": True},
        )
        assert client.simulate_get("/scim/v2/Me").status_code == 200

    def test_deleting_a_user_ends_their_tokens(self, client, member):
        user, as_member = member

        client.simulate_delete(f"{USERS}/{user['id']}")

        assert_scim_error(as_member.simulate_get("/scim/v2/Me"), 401)


class TestScopes:
    @pytest.fixture
    def admin_with(self, client, keys, settings):
        """A client holding an admin token issued with the given scopes."""

        def make(*scopes):
            admin = me(client)
            token = issue(
                keys,
                token_policy(settings),
                user_id=int(admin["id"]),
                now=settings.clock(),
                scopes=scopes,
            ).token
            return falcon.testing.TestClient(
                client.app, headers={"Authorization": f"Bearer {token}"}
            )

        return make

    def test_a_read_scope_narrows_an_admin_to_reading(self, admin_with):
        reader = admin_with("scim:read")

        listed = reader.simulate_get(USERS)
        assert listed.status_code == 200
        # Still an admin's view: scopes narrow what a token may do, not
        # what its owner may see.
        assert "meta" in listed.json["Resources"][0]
        assert_scim_error(reader.simulate_post(USERS, json=user_body("x@y.z")), 403)

    def test_a_write_scope_includes_reading(self, admin_with):
        writer = admin_with("scim:write")

        assert writer.simulate_post(USERS, json=user_body("x@y.z")).status_code == 201

    def test_a_token_scope_alone_reaches_no_directory(self, admin_with):
        assert_scim_error(admin_with("tokens").simulate_get(USERS), 403)

    def test_scopes_never_widen_a_members_rights(self, client, keys, settings, member):
        user, _ = member
        token = issue(
            keys,
            token_policy(settings),
            user_id=int(user["id"]),
            now=settings.clock(),
            scopes=["scim:write"],
        ).token
        widened = falcon.testing.TestClient(
            client.app, headers={"Authorization": f"Bearer {token}"}
        )

        assert_scim_error(widened.simulate_post(USERS, json=user_body("x@y.z")), 403)
