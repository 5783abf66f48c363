"""POST /Bulk (RFC 7644 §3.7) through the Falcon app, on both databases."""

from __future__ import annotations

import dataclasses
import io
import json
import logging

import falcon.testing
import pytest

from scim_server.app import create_app
from scim_server.bulk.job import COMMIT_EVERY
from scim_server.passwords import PasswordHasher
from scim_server.schema import ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA
from storage import users as user_store
from tests.factories import group_body, user_body
from tests.test_protocol_api import assert_scim_error

BULK = "/scim/v2/Bulk"
USERS = "/scim/v2/Users"
GROUPS = "/scim/v2/Groups"
BASE = "https://scim.example.com/scim/v2"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def operation(method, path, bulk_id=None, data=None, version=None):
    body = {"method": method, "path": path}
    if bulk_id is not None:
        body["bulkId"] = bulk_id
    if data is not None:
        body["data"] = data
    if version is not None:
        body["version"] = version
    return body


def bulk_request(*operations, fail_on_errors=None):
    body = {"schemas": [BULK_REQUEST], "Operations": list(operations)}
    if fail_on_errors is not None:
        body["failOnErrors"] = fail_on_errors
    return body


def bulk(client, *operations, fail_on_errors=None):
    """The results of a bulk job, which must have run (200)."""
    response = client.simulate_post(
        BULK, json=bulk_request(*operations, fail_on_errors=fail_on_errors)
    )
    assert response.status_code == 200, response.text
    assert response.json["schemas"] == [BULK_RESPONSE]
    return response.json["Operations"]


def create(client, endpoint, body):
    response = client.simulate_post(endpoint, json=body)
    assert response.status_code == 201, response.text
    return response.json


def read(client, location):
    response = client.simulate_get(location.removeprefix("https://scim.example.com"))
    assert response.status_code == 200, response.text
    return response.json


def user_names(client):
    listed = client.simulate_get(USERS, params={"count": 200}).json
    return {user["userName"] for user in listed.get("Resources", [])}


def group_names(client):
    listed = client.simulate_get(GROUPS, params={"count": 200}).json
    return {group["displayName"] for group in listed.get("Resources", [])}


def member_values(client, location):
    return sorted(
        member["value"] for member in read(client, location).get("members", [])
    )


def id_of(result):
    return result["location"].rsplit("/", 1)[1]


def assert_failed(result, status, scim_type=None):
    assert result["status"] == str(status)
    assert result["response"]["schemas"] == [ERROR]
    assert result["response"]["status"] == str(status)
    assert result["response"].get("scimType") == scim_type
    assert result["response"]["detail"]


class TestRFCExamples:
    def test_a_group_refers_to_a_user_created_in_the_same_request(self, client):
        # The example of RFC 7644 §3.7.2: Alice, and Tour Guides with her in it.
        results = bulk(
            client,
            operation(
                "POST",
                "/Users",
                "qwerty",
                {"schemas": [USER_SCHEMA], "userName": "Alice"},
            ),
            operation(
                "POST",
                "/Groups",
                "ytrewq",
                {
                    "schemas": [GROUP_SCHEMA],
                    "displayName": "Tour Guides",
                    "members": [{"type": "User", "value": "bulkId:qwerty"}],
                },
            ),
        )

        alice, guides = results
        assert alice == {
            "method": "POST",
            "bulkId": "qwerty",
            "location": alice["location"],
            "version": 'W/"1"',
            "status": "201",
        }
        assert alice["location"].startswith(f"{BASE}/Users/")
        assert guides["bulkId"] == "ytrewq"
        assert guides["status"] == "201"
        assert guides["location"].startswith(f"{BASE}/Groups/")
        assert member_values(client, guides["location"]) == [id_of(alice)]
        groups = read(client, alice["location"])["groups"]
        assert "Tour Guides" in [group["display"] for group in groups]

    def test_a_manager_may_be_a_user_created_in_the_same_request(self, client):
        results = bulk(
            client,
            operation("POST", "/Users", "qwerty", user_body("alice")),
            operation(
                "POST",
                "/Users",
                "ytrewq",
                {
                    **user_body("bob"),
                    "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
                    ENTERPRISE_USER_SCHEMA: {
                        "employeeNumber": "11250",
                        "manager": {"value": "bulkId:qwerty"},
                    },
                },
            ),
        )

        bob = read(client, results[1]["location"])
        assert bob[ENTERPRISE_USER_SCHEMA]["manager"]["value"] == id_of(results[0])

    def test_each_method_reports_its_status_location_and_version(self, client):
        kept = create(client, USERS, user_body("kept"))
        patched = create(client, USERS, user_body("patched"))
        doomed = create(client, USERS, user_body("doomed"))

        results = bulk(
            client,
            operation("POST", "/Users", "new", user_body("new")),
            operation("PUT", f"/Users/{kept['id']}", data=user_body("kept", title="T")),
            operation(
                "PATCH",
                f"/Users/{patched['id']}",
                data={
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "add", "path": "title", "value": "T"}],
                },
            ),
            operation("DELETE", f"/Users/{doomed['id']}"),
        )

        assert [result["method"] for result in results] == [
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
        ]
        assert [result["status"] for result in results] == ["201", "200", "200", "204"]
        assert [result["location"] for result in results[1:]] == [
            kept["meta"]["location"],
            patched["meta"]["location"],
            doomed["meta"]["location"],
        ]
        assert [result.get("version") for result in results[1:]] == [
            'W/"2"',
            'W/"2"',
            None,
        ]
        assert all("response" not in result for result in results)
        assert read(client, kept["meta"]["location"])["title"] == "T"
        assert read(client, patched["meta"]["location"])["title"] == "T"
        assert "doomed" not in user_names(client)


class TestReferences:
    def test_a_path_may_name_a_resource_by_bulk_id(self, client):
        user = create(client, USERS, user_body())

        results = bulk(
            client,
            operation("POST", "/Groups", "g", group_body("Named later")),
            operation(
                "PATCH",
                "/Groups/bulkId:g",
                data={
                    "schemas": [PATCH_OP],
                    "Operations": [
                        {
                            "op": "add",
                            "path": "members",
                            "value": [{"value": user["id"]}],
                        }
                    ],
                },
            ),
        )

        assert results[1]["status"] == "200"
        assert results[1]["location"] == results[0]["location"]
        assert member_values(client, results[0]["location"]) == [user["id"]]

    def test_a_reference_may_point_forwards(self, client):
        results = bulk(
            client,
            operation(
                "POST", "/Groups", "g", group_body("Early", members=["bulkId:u"])
            ),
            operation("PUT", "/Users/bulkId:u", data=user_body("late", title="Boss")),
            operation("POST", "/Users", "u", user_body("late")),
        )

        assert [result["bulkId"] for result in results if "bulkId" in result] == [
            "g",
            "u",
        ]
        assert [result["status"] for result in results] == ["201", "200", "201"]
        assert member_values(client, results[0]["location"]) == [id_of(results[2])]
        assert read(client, results[2]["location"])["title"] == "Boss"

    def test_a_chain_of_forward_references_resolves_from_its_end(self, client):
        # Group n holds group n+1, and every group comes before its member.
        length = 40
        operations = [
            operation(
                "POST",
                "/Groups",
                f"g{n}",
                group_body(f"Level {n}", members=[f"bulkId:g{n + 1}"]),
            )
            for n in range(length - 1)
        ]
        operations.append(
            operation("POST", "/Groups", f"g{length - 1}", group_body("Bottom"))
        )

        results = bulk(client, *operations)

        assert [result["status"] for result in results] == ["201"] * length
        assert member_values(client, results[0]["location"]) == [id_of(results[1])]

    def test_a_bulk_id_that_no_post_declares_is_invalid_value(self, client):
        results = bulk(
            client,
            operation("POST", "/Groups", "g", group_body("Lost", members=["bulkId:x"])),
            operation("DELETE", "/Users/bulkId:nowhere"),
        )

        assert_failed(results[0], 400, "invalidValue")
        assert "location" not in results[0]
        assert_failed(results[1], 400, "invalidValue")
        assert "location" not in results[1]
        assert "Lost" not in group_names(client)

    def test_a_reference_to_a_post_that_failed_is_a_conflict(self, client):
        create(client, USERS, user_body("taken"))

        results = bulk(
            client,
            operation("POST", "/Users", "u", user_body("taken")),
            operation("POST", "/Groups", "g", group_body("Team", members=["bulkId:u"])),
        )

        assert_failed(results[0], 409, "uniqueness")
        assert "location" not in results[0]
        assert_failed(results[1], 409)
        assert "bulkId:u" in results[1]["response"]["detail"]
        assert "Team" not in group_names(client)

    def test_a_repeated_bulk_id_refuses_the_whole_request(self, client):
        response = client.simulate_post(
            BULK,
            json=bulk_request(
                operation("POST", "/Users", "same", user_body("first")),
                operation("POST", "/Users", "same", user_body("second")),
            ),
        )

        assert_scim_error(response, 400, "invalidSyntax")
        assert {"first", "second"}.isdisjoint(user_names(client))


def managed_by(user_name, bulk_id):
    """A user whose manager is the user another POST of the job creates."""
    return {
        **user_body(user_name),
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        ENTERPRISE_USER_SCHEMA: {"manager": {"value": f"bulkId:{bulk_id}"}},
    }


class TestCircularReferences:
    def test_groups_that_would_hold_each_other_are_refused_whole(self, client):
        # The example of RFC 7644 §3.7.1. The server tries, creating A and
        # then B, but completing A would close a membership cycle, which
        # groups may not have: A reports why, B 409, and neither remains.
        results = bulk(
            client,
            operation(
                "POST",
                "/Groups",
                "qwerty",
                {
                    "schemas": [GROUP_SCHEMA],
                    "displayName": "Group A",
                    "members": [{"type": "Group", "value": "bulkId:ytrewq"}],
                },
            ),
            operation(
                "POST",
                "/Groups",
                "ytrewq",
                {
                    "schemas": [GROUP_SCHEMA],
                    "displayName": "Group B",
                    "members": [{"type": "Group", "value": "bulkId:qwerty"}],
                },
            ),
        )

        a, b = results
        assert_failed(a, 400, "invalidValue")
        assert_failed(b, 409)
        assert "qwerty, ytrewq" in b["response"]["detail"]
        assert {"Group A", "Group B"}.isdisjoint(group_names(client))

    def test_users_who_manage_each_other_are_both_created(self, client):
        results = bulk(
            client,
            operation("POST", "/Users", "a", managed_by("ann", "b")),
            operation("POST", "/Users", "b", managed_by("ben", "a")),
        )

        ann, ben = (read(client, result["location"]) for result in results)
        assert ann[ENTERPRISE_USER_SCHEMA]["manager"]["value"] == ben["id"]
        assert ben[ENTERPRISE_USER_SCHEMA]["manager"]["value"] == ann["id"]
        # Ann was created without her manager and completed: version 2.
        assert [result["version"] for result in results] == ['W/"2"', 'W/"1"']
        assert ann["meta"]["version"] == 'W/"2"'

    def test_a_cycle_of_three_and_an_operation_that_depends_on_it(self, client):
        results = bulk(
            client,
            operation(
                "PATCH",
                "/Users/bulkId:c",
                data={
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "add", "path": "title", "value": "Boss"}],
                },
            ),
            operation("POST", "/Users", "a", managed_by("amy", "b")),
            operation("POST", "/Users", "b", managed_by("bob", "c")),
            operation("POST", "/Users", "c", managed_by("cat", "a")),
        )

        patch, a, b, c = results
        assert [result["status"] for result in results] == ["200", "201", "201", "201"]
        assert patch["location"] == c["location"]
        managers = {
            result["bulkId"]: read(client, result["location"])[ENTERPRISE_USER_SCHEMA][
                "manager"
            ]["value"]
            for result in (a, b, c)
        }
        assert managers == {"a": id_of(b), "b": id_of(c), "c": id_of(a)}
        assert read(client, c["location"])["title"] == "Boss"

    def test_when_one_operation_of_a_cycle_fails_none_leaves_anything(self, client):
        create(client, GROUPS, group_body("Taken"))

        results = bulk(
            client,
            operation("POST", "/Groups", "a", group_body("Fine", members=["bulkId:b"])),
            operation(
                "POST", "/Groups", "b", group_body("Taken", members=["bulkId:a"])
            ),
            operation("POST", "/Users", "u", user_body("bystander")),
        )

        assert_failed(results[0], 409)
        assert "location" not in results[0]
        assert_failed(results[1], 409, "uniqueness")
        assert results[2]["status"] == "201"
        assert "Fine" not in group_names(client)
        assert "bystander" in user_names(client)

    def test_a_group_that_holds_itself_fails_and_leaves_nothing(self, client):
        results = bulk(
            client,
            operation(
                "POST", "/Groups", "me", group_body("Narcissus", members=["bulkId:me"])
            ),
        )

        assert_failed(results[0], 400, "invalidValue")
        assert "Narcissus" not in group_names(client)


class TestFailures:
    def test_failures_are_reported_and_the_other_operations_still_run(self, client):
        user = create(client, USERS, user_body("present"))

        results = bulk(
            client,
            operation("POST", "/Users", "bad", {"schemas": [USER_SCHEMA]}),
            operation(
                "PUT",
                f"/Users/{user['id']}",
                data=user_body("present"),
                version='W/"9"',
            ),
            operation("DELETE", "/Users/4242424242"),
            operation("POST", "/Users", "good", user_body("good")),
        )

        assert_failed(results[0], 400, "invalidValue")
        assert "location" not in results[0]
        assert_failed(results[1], 412)
        assert results[1]["location"] == user["meta"]["location"]
        assert_failed(results[2], 404)
        assert results[2]["location"] == f"{BASE}/Users/4242424242"
        assert results[3]["status"] == "201"
        assert "good" in user_names(client)

    def test_fail_on_errors_stops_the_job_and_lists_only_what_ran(self, client):
        results = bulk(
            client,
            operation("POST", "/Users", "a", user_body("ran")),
            operation("POST", "/Users", "b", {"schemas": [USER_SCHEMA]}),
            operation("POST", "/Users", "c", user_body("also-ran")),
            operation("DELETE", "/Users/4242424242"),
            operation("POST", "/Users", "d", user_body("never-ran")),
            fail_on_errors=2,
        )

        assert [result["bulkId"] for result in results[:3]] == ["a", "b", "c"]
        assert [result["status"] for result in results] == ["201", "400", "201", "404"]
        names = user_names(client)
        assert {"ran", "also-ran"} <= names
        assert "never-ran" not in names

    def test_fail_on_errors_of_one_stops_at_the_first_error(self, client):
        results = bulk(
            client,
            operation("DELETE", "/Groups/4242424242"),
            operation("POST", "/Users", "a", user_body("not-run")),
            fail_on_errors=1,
        )

        assert len(results) == 1
        assert_failed(results[0], 404)
        assert "not-run" not in user_names(client)

    @pytest.mark.parametrize(
        ("version", "status"),
        [('W/"1"', "200"), ('"1"', "200"), ("*", "200"), ('W/"2"', "412")],
    )
    def test_version_is_the_if_match_of_the_operation(self, client, version, status):
        user = create(client, USERS, user_body("versioned"))

        (result,) = bulk(
            client,
            operation(
                "PUT",
                f"/Users/{user['id']}",
                data=user_body("versioned", title="New"),
                version=version,
            ),
        )

        assert result["status"] == status
        title = read(client, user["meta"]["location"]).get("title")
        assert title == ("New" if status == "200" else None)

    def test_a_stale_version_fails_delete_and_patch_too(self, client):
        group = create(client, GROUPS, group_body("Kept"))
        user = create(client, USERS, user_body("kept"))

        results = bulk(
            client,
            operation("DELETE", f"/Groups/{group['id']}", version='W/"7"'),
            operation(
                "PATCH",
                f"/Users/{user['id']}",
                version='W/"7"',
                data={
                    "schemas": [PATCH_OP],
                    "Operations": [{"op": "add", "path": "title", "value": "T"}],
                },
            ),
        )

        assert_failed(results[0], 412)
        assert_failed(results[1], 412)
        assert "Kept" in group_names(client)
        assert "title" not in read(client, user["meta"]["location"])

    def test_an_operation_that_fails_after_writing_leaves_nothing(self, client):
        group = create(client, GROUPS, group_body("Before"))

        # The rename is written before the unknown member is found.
        (result,) = bulk(
            client,
            operation(
                "PATCH",
                f"/Groups/{group['id']}",
                data={
                    "schemas": [PATCH_OP],
                    "Operations": [
                        {"op": "replace", "path": "displayName", "value": "After"},
                        {"op": "add", "path": "members", "value": [{"value": "4242"}]},
                    ],
                },
            ),
        )

        assert_failed(result, 400, "invalidValue")
        current = read(client, group["meta"]["location"])
        assert current["displayName"] == "Before"
        assert current["meta"]["version"] == group["meta"]["version"]

    @pytest.mark.parametrize(
        ("raw", "scim_type"),
        [
            ("not an object", "invalidSyntax"),
            ({"method": "GET", "path": "/Users"}, "invalidSyntax"),
            ({"path": "/Users", "bulkId": "x", "data": {}}, "invalidSyntax"),
            ({"method": "POST", "path": "/Users", "data": {}}, "invalidValue"),
            (
                {"method": "POST", "path": "/Users", "bulkId": 7, "data": {}},
                "invalidSyntax",
            ),
            ({"method": "POST", "path": "/Users", "bulkId": "x"}, "invalidValue"),
            ({"method": "PUT", "path": "/Users/1"}, "invalidValue"),
            ({"method": "POST", "bulkId": "x", "data": {}}, "invalidPath"),
            (
                {"method": "POST", "path": "/Widgets", "bulkId": "x", "data": {}},
                "invalidPath",
            ),
            (
                {"method": "POST", "path": "/Users/1", "bulkId": "x", "data": {}},
                "invalidPath",
            ),
            ({"method": "DELETE", "path": "/Users"}, "invalidPath"),
            ({"method": "DELETE", "path": "/Users/1/emails"}, "invalidPath"),
            ({"method": "DELETE", "path": "/Users/1", "version": 1}, "invalidSyntax"),
        ],
    )
    def test_a_malformed_operation_fails_alone(self, client, raw, scim_type):
        results = bulk(client, raw, operation("POST", "/Users", "ok", user_body("ok")))

        assert_failed(results[0], 400, scim_type)
        assert results[1]["status"] == "201"

    def test_method_names_are_read_in_any_case(self, client):
        (result,) = bulk(client, operation("post", "/Users", "u", user_body()))

        assert result["method"] == "POST"
        assert result["status"] == "201"

    def test_an_unexpected_error_is_500_stops_the_job_and_is_logged_once(
        self, settings, keys, admin_token, caplog
    ):
        def broken_id_source():
            raise RuntimeError("the id source broke")

        broken = dataclasses.replace(settings, id_source=broken_id_source)
        client = falcon.testing.TestClient(
            create_app(broken, keys=keys),
            headers={"Authorization": f"Bearer {admin_token}"},
        )

        with caplog.at_level(logging.ERROR, logger="scim_server"):
            results = bulk(
                client,
                operation("POST", "/Users", "a", user_body("first")),
                operation("POST", "/Users", "b", user_body("second")),
            )

        assert len(results) == 1
        assert_failed(results[0], 500)
        assert "broke" not in json.dumps(results)
        errors = [
            record for record in caplog.records if record.levelno >= logging.ERROR
        ]
        assert len(errors) == 1
        assert errors[0].exc_info is not None


class TestMalformedRequests:
    @pytest.mark.parametrize(
        "body",
        [
            [],
            {"Operations": []},
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [],
            },
            {"schemas": [BULK_REQUEST]},
            {"schemas": [BULK_REQUEST], "Operations": {"method": "POST"}},
            {"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": 0},
            {"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": "1"},
            {"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": True},
        ],
    )
    def test_a_request_that_is_no_bulk_request_is_invalid_syntax(self, client, body):
        assert_scim_error(client.simulate_post(BULK, json=body), 400, "invalidSyntax")

    @pytest.mark.parametrize("body", ["{not json", "", '{"a": 1}}'])
    def test_malformed_json_is_invalid_syntax(self, client, body):
        response = client.simulate_post(
            BULK, body=body, headers={"Content-Type": "application/scim+json"}
        )

        assert_scim_error(response, 400, "invalidSyntax")

    def test_other_media_types_are_415(self, client):
        response = client.simulate_post(
            BULK,
            body=json.dumps(bulk_request()),
            headers={"Content-Type": "text/plain"},
        )

        assert_scim_error(response, 415)

    def test_names_are_read_in_any_case_and_an_empty_job_is_fine(self, client):
        response = client.simulate_post(
            BULK, json={"SCHEMAS": [BULK_REQUEST.upper()], "operations": []}
        )

        assert response.status_code == 200
        assert response.json == {"schemas": [BULK_RESPONSE], "Operations": []}

    def test_a_token_is_required(self, app):
        response = falcon.testing.TestClient(app).simulate_post(
            BULK, json=bulk_request()
        )

        assert_scim_error(response, 401)


class TestLimits:
    @pytest.fixture
    def small(self, settings, keys, admin_token):
        limited = dataclasses.replace(
            settings, bulk_max_operations=3, bulk_max_payload_size=2000
        )
        return falcon.testing.TestClient(
            create_app(limited, keys=keys),
            headers={"Authorization": f"Bearer {admin_token}"},
        )

    def test_service_provider_config_publishes_the_limits(self, small):
        config = small.simulate_get("/scim/v2/ServiceProviderConfig").json

        assert config["bulk"] == {
            "supported": True,
            "maxOperations": 3,
            "maxPayloadSize": 2000,
        }

    def test_the_defaults_are_a_thousand_operations_and_a_mebibyte(self, client):
        config = client.simulate_get("/scim/v2/ServiceProviderConfig").json

        assert config["bulk"]["maxOperations"] == 1000
        assert config["bulk"]["maxPayloadSize"] == 1_048_576

    def test_more_operations_than_max_operations_is_413(self, small):
        operations = [
            operation("POST", "/Users", f"u{n}", user_body(f"u{n}")) for n in range(4)
        ]

        response = small.simulate_post(BULK, json=bulk_request(*operations))

        assert_scim_error(response, 413)
        assert "maxOperations" in response.json["detail"]
        assert user_names(small) == {"admin"}

    def test_max_operations_itself_is_allowed(self, small):
        operations = [
            operation("POST", "/Users", f"u{n}", user_body(f"u{n}")) for n in range(3)
        ]

        assert [r["status"] for r in bulk(small, *operations)] == ["201"] * 3

    def test_a_content_length_above_max_payload_size_is_413(self, small):
        body = json.dumps(bulk_request(operation("POST", "/Users", "u", user_body())))
        padded = body + " " * (2001 - len(body))

        response = small.simulate_post(
            BULK, body=padded, headers={"Content-Type": "application/scim+json"}
        )

        assert_scim_error(response, 413)
        assert "maxPayloadSize" in response.json["detail"]
        assert user_names(small) == {"admin"}

    def test_a_chunked_body_is_read_no_further_than_the_limit(self, small, admin_token):
        stream = CountingStream(b"[" * 10_000)

        status, body = call_without_length(small.app, admin_token, stream)

        assert status.startswith("413")
        assert json.loads(body)["status"] == "413"
        assert stream.consumed <= 2001

    def test_a_chunked_body_within_the_limit_is_read(self, small, admin_token):
        body = json.dumps(
            bulk_request(operation("POST", "/Users", "u", user_body("c")))
        )
        stream = CountingStream(body.encode())

        status, answer = call_without_length(small.app, admin_token, stream)

        assert status.startswith("200")
        assert json.loads(answer)["Operations"][0]["status"] == "201"
        assert "c" in user_names(small)


class CountingStream(io.BytesIO):
    """A request body that counts the bytes the server read from it."""

    consumed = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def call_without_length(app, token, stream):
    """Call the WSGI app with a body sent chunked, as gunicorn passes it on."""
    environ = falcon.testing.create_environ(
        method="POST",
        path=BULK,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/scim+json",
            "Transfer-Encoding": "chunked",
        },
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = stream
    environ["wsgi.input_terminated"] = True
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"] = status

    body = b"".join(app(environ, start_response))
    return started["status"], body


class TestTransactions:
    def test_jobs_larger_than_one_transaction_keep_every_operation(self, client):
        count = COMMIT_EVERY + 20
        operations = [
            operation("POST", "/Users", f"u{n}", user_body(f"many{n}"))
            for n in range(count)
        ]
        operations[COMMIT_EVERY + 5]["data"] = {"schemas": [USER_SCHEMA]}

        results = bulk(client, *operations)

        assert sum(result["status"] == "201" for result in results) == count - 1
        total = client.simulate_get(USERS, params={"count": 0}).json["totalResults"]
        assert total == count - 1 + 1  # and the admin

    def test_operations_before_the_stop_are_kept(self, client):
        results = bulk(
            client,
            operation("POST", "/Users", "a", user_body("kept-a")),
            operation("POST", "/Users", "b", user_body("kept-b")),
            operation("POST", "/Users", "c", {"schemas": [USER_SCHEMA]}),
            fail_on_errors=1,
        )

        assert len(results) == 3
        assert {"kept-a", "kept-b"} <= user_names(client)

    def test_passwords_are_hashed_each_with_its_own_salt(self, client):
        results = bulk(
            client,
            operation("POST", "/Users", "a", user_body("pw-a", password="s3cret-pw")),
            operation("POST", "/Users", "b", user_body("pw-b", password="s3cret-pw")),
        )

        hashes = [user_store.password_hash_of(int(id_of(r))) for r in results]
        assert hashes[0] != hashes[1]
        hasher = PasswordHasher()
        assert all(hasher.verify("s3cret-pw", encoded) for encoded in hashes)
