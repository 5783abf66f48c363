"""Errors, content types, authentication and discovery through the app."""

from __future__ import annotations

import datetime
import json

import falcon.testing
import pytest

from scim_server.authorization import Permission
from scim_server.bootstrap import token_policy
from tests.factories import user_body

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
USERS = "/scim/v2/Users"


def assert_scim_error(response, status, scim_type=None):
    assert response.status_code == status
    assert response.headers["content-type"] == "application/scim+json"
    assert response.json["schemas"] == [ERROR_SCHEMA]
    assert response.json["status"] == str(status)
    assert response.json.get("scimType") == scim_type
    assert response.json["detail"]


class TestContentTypes:
    @pytest.mark.parametrize(
        "content_type",
        [
            "application/scim+json",
            "application/json",
            "application/scim+json; charset=utf-8",
            "application/json;charset=UTF-8",
            None,
        ],
    )
    def test_json_bodies_are_accepted_with_any_usual_content_type(
        self, client, content_type
    ):
        headers = {"Content-Type": content_type} if content_type else {}

        response = client.simulate_post(
            USERS, body=json.dumps(user_body()), headers=headers
        )

        assert response.status_code == 201
        assert response.headers["content-type"] == "application/scim+json"

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded"]
    )
    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
    def test_other_media_types_are_415(self, client, content_type, method):
        path = USERS if method == "POST" else f"{USERS}/1"
        response = client.simulate_request(
            method, path, body="userName=x", headers={"Content-Type": content_type}
        )

        assert_scim_error(response, 415)

    @pytest.mark.parametrize("body", ["{not json", "", "[1, 2", '{"a": 1}}'])
    def test_malformed_json_is_invalid_syntax(self, client, body):
        response = client.simulate_post(
            USERS, body=body, headers={"Content-Type": "application/scim+json"}
        )

        assert_scim_error(response, 400, "invalidSyntax")

    @pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
    def test_a_body_that_is_not_an_object_is_invalid_syntax(self, client, body):
        response = client.simulate_post(
            USERS, body=body, headers={"Content-Type": "application/scim+json"}
        )

        assert_scim_error(response, 400, "invalidSyntax")


class TestErrors:
    def test_unknown_url_is_a_scim_404(self, client):
        assert_scim_error(client.simulate_get("/scim/v2/Nothing"), 404)

    def test_wrong_method_is_a_scim_405_with_allow(self, client):
        response = client.simulate_patch("/scim/v2/Schemas")

        assert_scim_error(response, 405)
        assert "GET" in response.headers["allow"]

    def test_type_errors_are_invalid_value(self, client):
        response = client.simulate_post(USERS, json=user_body(active="maybe"))

        assert_scim_error(response, 400, "invalidValue")
        assert "active" in response.json["detail"]

    def test_an_unexpected_failure_is_a_generic_500_logged_once(
        self, app, admin_token, caplog
    ):
        class Broken:
            permissions = {"GET": Permission.READ_DIRECTORY}

            def on_get(self, req, resp):
                raise RuntimeError("secret internals")

        app.add_route("/scim/v2/Broken", Broken())
        client = falcon.testing.TestClient(
            app, headers={"Authorization": f"Bearer {admin_token}"}
        )

        response = client.simulate_get("/scim/v2/Broken")

        assert_scim_error(response, 500)
        assert "secret internals" not in response.text
        logged = [r for r in caplog.records if r.exc_info]
        assert len(logged) == 1
        assert "secret internals" in str(logged[0].exc_info[1])

    def test_a_method_without_a_stated_permission_is_closed(self, app, admin_token):
        class Unguarded:
            def on_get(self, req, resp):
                resp.media = {"leaked": True}

        app.add_route("/scim/v2/Unguarded", Unguarded())
        client = falcon.testing.TestClient(
            app, headers={"Authorization": f"Bearer {admin_token}"}
        )

        assert_scim_error(client.simulate_get("/scim/v2/Unguarded"), 403)

    def test_trailing_slash_reaches_the_collection(self, client):
        assert client.simulate_get(f"{USERS}/").status_code == 200

    def test_request_id_is_echoed_or_assigned(self, client):
        given = client.simulate_get(USERS, headers={"X-Request-ID": "abc-123"})
        assigned = client.simulate_get(USERS)
        hostile = client.simulate_get(USERS, headers={"X-Request-ID": "x\u00e9 y"})

        assert given.headers["x-request-id"] == "abc-123"
        assert len(assigned.headers["x-request-id"]) == 16
        assert hostile.headers["x-request-id"] != "x\u00e9 y"


class TestAuthentication:
    @pytest.mark.parametrize(
        "authorization",
        [
            None,
            "",
            "Bearer",
            "Bearer ",
            "Basic YWRtaW46cGFzcw==",
            "Bearer not-a-token",
            "Bearer scimpat_zzzz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA000000",
        ],
    )
    def test_missing_or_bad_token_is_401_with_challenge(self, app, authorization):
        headers = {"Authorization": authorization} if authorization is not None else {}

        response = falcon.testing.TestClient(app).simulate_get(USERS, headers=headers)

        assert_scim_error(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_scheme_name_is_case_insensitive(self, app, admin_token):
        response = falcon.testing.TestClient(app).simulate_get(
            USERS, headers={"Authorization": f"bearer {admin_token}"}
        )

        assert response.status_code == 200

    def test_expired_token_is_401(self, app, admin_token, clock):
        clock.advance(days=91)  # The default lifetime is 90 days.

        response = falcon.testing.TestClient(app).simulate_get(
            USERS, headers={"Authorization": f"Bearer {admin_token}"}
        )

        assert_scim_error(response, 401)

    @pytest.mark.parametrize(
        "path",
        [
            "/scim/v2/ServiceProviderConfig",
            "/scim/v2/Schemas",
            "/scim/v2/ResourceTypes",
            "/scim/v2/ResourceTypes/User",
            "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
        ],
    )
    def test_discovery_needs_no_token(self, app, path):
        response = falcon.testing.TestClient(app).simulate_get(path)

        assert response.status_code == 200


class TestDiscovery:
    def test_schemas_is_a_list_response_of_the_three_schemas(self, client):
        page = client.simulate_get("/scim/v2/Schemas").json

        assert page["totalResults"] == 3
        assert {s["id"] for s in page["Resources"]} == {
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Group",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        }

    def test_resource_types_describe_users_and_groups(self, client):
        page = client.simulate_get("/scim/v2/ResourceTypes").json

        by_name = {r["name"]: r for r in page["Resources"]}
        assert page["totalResults"] == 2
        assert by_name["User"]["endpoint"] == "/Users"
        assert by_name["User"]["schemaExtensions"] == [
            {
                "schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "required": False,
            }
        ]
        assert (
            by_name["Group"]["schema"] == "urn:ietf:params:scim:schemas:core:2.0:Group"
        )

    def test_unknown_schema_is_404(self, client):
        assert_scim_error(client.simulate_get("/scim/v2/Schemas/urn:nope"), 404)

    def test_service_provider_config_claims_only_what_works(self, client):
        config = client.simulate_get("/scim/v2/ServiceProviderConfig").json

        for feature in ("patch", "etag", "changePassword", "bulk"):
            assert config[feature]["supported"] is True
        assert config["filter"] == {"supported": True, "maxResults": 200}
        assert config["sort"] == {"supported": True}
        assert config["pagination"] == {
            "cursor": True,
            "index": True,
            "defaultPaginationMethod": "index",
            "defaultPageSize": 50,
            "maxPageSize": 200,
            "cursorTimeout": 3600,
        }
        assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"

    def test_service_provider_config_location_uses_the_base_url(self, client):
        config = client.simulate_get("/scim/v2/ServiceProviderConfig").json

        assert config["meta"]["location"] == (
            "https://scim.example.com/scim/v2/ServiceProviderConfig"
        )


def test_token_lifetime_default_comes_from_settings(settings):
    policy = token_policy(settings)

    expires = policy.expiry(settings.clock(), None)

    assert expires == settings.clock() + datetime.timedelta(days=90)
