"""Bulk operations: RFC 7644 §3.7.

Skipped unless /ServiceProviderConfig advertises bulk. Whatever a bulk
request creates is tracked for deletion as soon as the response names it,
before anything is asserted. A result's status is compared as a string,
which is how the RFC's examples write it.
"""

from __future__ import annotations

import json

import pytest

from conformance_tests.provisioner import group_body, user_body
from conformance_tests.scim_http import (
    BULK_REQUEST_SCHEMA,
    BULK_RESPONSE_SCHEMA,
    ENTERPRISE_USER_SCHEMA,
    ERROR_SCHEMA,
    SCIM_MEDIA_TYPE,
    assert_list_response,
    assert_scim_error,
    patch_op,
)

pytestmark = pytest.mark.requires_feature("bulk")

# Requests large enough to pass a limit above these are not sent.
MAX_OPERATIONS_TESTED = 100
MAX_PAYLOAD_SIZE_TESTED = 2 * 1024 * 1024


def bulk_request(*operations, fail_on_errors=None):
    body = {"schemas": [BULK_REQUEST_SCHEMA], "Operations": list(operations)}
    if fail_on_errors is not None:
        body["failOnErrors"] = fail_on_errors
    return body


def post(bulk_id, endpoint, data):
    return {"method": "POST", "path": endpoint, "bulkId": bulk_id, "data": data}


def delete(path):
    return {"method": "DELETE", "path": path}


@pytest.fixture
def run_bulk(client, provisioner):
    """POST a BulkRequest; check that a BulkResponse came; return its results.

    The resources that the results say were created are deleted after the
    test, like those the provisioner made.
    """

    def run(body):
        response = client.post("/Bulk", body)
        for location in _created(response):
            provisioner.track(location)
        assert response.status == 200, str(response)
        assert response.media_type == SCIM_MEDIA_TYPE, str(response)
        assert response.json()["schemas"] == [BULK_RESPONSE_SCHEMA]
        return response.json()["Operations"]

    return run


def _created(response):
    """Where the resources are that a BulkResponse says its POSTs created."""
    try:
        results = list(response.json()["Operations"])
    except (ValueError, KeyError, TypeError):
        return []  # Not a BulkResponse; the caller's assertions say so.
    return [
        result["location"]
        for result in results
        if isinstance(result, dict)
        and result.get("method") == "POST"
        and "location" in result
    ]


def status_of(result):
    return str(result["status"])


def created_id(client, result):
    """The id of the resource that a successful POST's result locates."""
    assert status_of(result) == "201", result
    fetched = client.get(result["location"])
    assert fetched.status == 200, str(fetched)
    return fetched.json()["id"]


def member_ids(client, group_id):
    group = client.get(f"/Groups/{group_id}").json()
    return sorted(member["value"] for member in group.get("members", []))


def test_the_rfcs_example_creates_a_user_and_a_group_listing_it(
    client, provisioner, run_bulk
):
    """RFC 7644 §3.7.2: a POST names its new resource with a bulkId; another
    operation refers to it as "bulkId:<bulkId>", which the service provider
    replaces with the new resource's id; §3.7.3: each result repeats the
    method and bulkId, with the status and the new resource's location."""
    user = user_body(provisioner.name("alice"))
    member = {"type": "User", "value": "bulkId:qwerty"}
    group = dict(group_body(provisioner.name("tour-guides")), members=[member])

    results = run_bulk(
        bulk_request(post("qwerty", "/Users", user), post("ytrewq", "/Groups", group))
    )

    assert [(r["method"], r["bulkId"]) for r in results] == [
        ("POST", "qwerty"),
        ("POST", "ytrewq"),
    ]
    user_id, group_id = (created_id(client, result) for result in results)
    assert member_ids(client, group_id) == [user_id]


def test_each_method_reports_its_status_and_location(client, provisioner, run_bulk):
    """RFC 7644 §3.7.3: every result carries its status, the HTTP status code
    the operation would have had alone (201 POST, 200 PUT, 200 or 204 PATCH
    as §3.5.2 allows, 204 DELETE), and the location of its resource."""
    replaced, patched, deleted = (
        provisioner.user(label) for label in ("replaced", "patched", "deleted")
    )
    rename = {"op": "replace", "path": "displayName", "value": "Patched"}
    operations = [
        post("new", "/Users", user_body(provisioner.name("new"))),
        {
            "method": "PUT",
            "path": f"/Users/{replaced['id']}",
            "data": user_body(replaced["userName"], displayName="Put"),
        },
        {
            "method": "PATCH",
            "path": f"/Users/{patched['id']}",
            "data": patch_op(rename),
        },
        delete(f"/Users/{deleted['id']}"),
    ]

    results = run_bulk(bulk_request(*operations))

    assert [r["method"] for r in results] == ["POST", "PUT", "PATCH", "DELETE"]
    assert [status_of(r) for r in results] in (
        ["201", "200", "200", "204"],
        ["201", "200", "204", "204"],
    )
    written = [
        resource["meta"]["location"] for resource in (replaced, patched, deleted)
    ]
    assert [result["location"] for result in results[1:]] == written
    assert client.get(f"/Users/{replaced['id']}").json()["displayName"] == "Put"
    assert client.get(f"/Users/{patched['id']}").json()["displayName"] == "Patched"
    assert_scim_error(client.get(f"/Users/{deleted['id']}"), 404)


def test_a_reference_may_name_a_later_operation(client, provisioner, run_bulk):
    """RFC 7644 §3.7.2 and §3.7.1: a bulkId may be referred to before the
    POST that declares it; the service provider MUST try to resolve such
    references, which in this request are not even circular."""
    member = {"type": "User", "value": "bulkId:later"}
    group = dict(group_body(provisioner.name("early")), members=[member])
    user = user_body(provisioner.name("later"))

    results = run_bulk(
        bulk_request(post("early", "/Groups", group), post("later", "/Users", user))
    )

    group_id, user_id = (created_id(client, result) for result in results)
    assert member_ids(client, group_id) == [user_id]


@pytest.mark.usefixtures("enterprise_user")
def test_circular_references_are_resolved_or_refused_with_409(
    client, provisioner, run_bulk
):
    """RFC 7644 §3.7.1: the service provider MUST try to resolve circular
    references, here two users who are each other's manager (RFC 7643
    §4.3), and MAY instead answer 409 for them after a failed attempt."""
    users = [
        post(
            name,
            "/Users",
            user_body(
                provisioner.name(name),
                **{ENTERPRISE_USER_SCHEMA: {"manager": {"value": f"bulkId:{other}"}}},
            ),
        )
        for name, other in (("one", "two"), ("two", "one"))
    ]

    results = run_bulk(bulk_request(*users))

    statuses = [status_of(result) for result in results]
    assert statuses in (["201", "201"], ["409", "409"]), results
    if statuses == ["201", "201"]:
        one, two = (client.get(result["location"]).json() for result in results)
        assert one[ENTERPRISE_USER_SCHEMA]["manager"]["value"] == two["id"]
        assert two[ENTERPRISE_USER_SCHEMA]["manager"]["value"] == one["id"]


def test_a_failed_operation_reports_an_error_and_the_others_go_on(
    client, provisioner, run_bulk
):
    """RFC 7644 §3.7: the service provider MUST go on with the other
    operations despite a failure; §3.7.3: the failed one's result carries
    its status and a SCIM Error (§3.12) as its response."""
    taken = provisioner.user("taken")
    gone = provisioner.gone(provisioner.user("gone"))
    operations = [
        post("twin", "/Users", user_body(taken["userName"])),
        delete(f"/Users/{gone}"),
        post("fresh", "/Users", user_body(provisioner.name("fresh"))),
    ]

    twin, missing, fresh = run_bulk(bulk_request(*operations))

    for result, status, scim_type in (
        (twin, "409", "uniqueness"),
        (missing, "404", None),
    ):
        assert status_of(result) == status, result
        error = result["response"]
        assert error["schemas"] == [ERROR_SCHEMA]
        assert str(error["status"]) == status
        if scim_type is not None:
            assert error["scimType"] == scim_type
    assert created_id(client, fresh)


@pytest.mark.requires_feature("filter")
@pytest.mark.parametrize(("fail_on_errors", "ran"), [(1, 1), (2, 3)])
def test_fail_on_errors_stops_after_that_many_errors(
    client, provisioner, run_bulk, fail_on_errors, ran
):
    """RFC 7644 §3.7.3: failOnErrors is the number of errors after which the
    service provider stops and answers with the results so far; operations
    after that are not performed."""
    gone = provisioner.gone(provisioner.user("gone"))
    operations = [
        delete(f"/Users/{gone}"),
        post("late", "/Users", user_body(provisioner.name("late"))),
        delete(f"/Groups/{gone}"),
    ]

    results = run_bulk(bulk_request(*operations, fail_on_errors=fail_on_errors))

    assert len(results) == ran
    late = assert_list_response(
        client.get("/Users", {"filter": provisioner.users_filter()})
    )
    assert late["totalResults"] == (0 if ran == 1 else 1)


@pytest.fixture
def bulk_limits(service_provider_config):
    return service_provider_config["bulk"]


@pytest.fixture
def gone_path(provisioner):
    """The path of a User that no longer exists: DELETEs of it change nothing."""
    return f"/Users/{provisioner.gone(provisioner.user('gone'))}"


def test_max_operations_are_accepted(bulk_limits, run_bulk, gone_path):
    """RFC 7644 §3.7.4: maxOperations is the most operations a request may
    hold, so a request of exactly that many is run."""
    limit = _tested(bulk_limits["maxOperations"], MAX_OPERATIONS_TESTED)
    operations = [delete(gone_path)] * limit

    results = run_bulk(bulk_request(*operations))

    assert [status_of(result) for result in results] == ["404"] * limit


def test_more_than_max_operations_is_413(client, bulk_limits, gone_path):
    """RFC 7644 §3.7.4: a request with more operations than maxOperations
    MUST be refused with 413 Payload Too Large, whose error names the limit
    exceeded."""
    limit = _tested(bulk_limits["maxOperations"], MAX_OPERATIONS_TESTED)
    operations = [delete(gone_path)] * (limit + 1)

    response = client.post("/Bulk", bulk_request(*operations))

    error = assert_scim_error(response, 413)
    assert str(limit) in json.dumps(error)


@pytest.mark.parametrize(("excess", "status"), [(0, 200), (1, 413)])
def test_max_payload_size_is_the_largest_body_run(
    client, bulk_limits, gone_path, excess, status
):
    """RFC 7644 §3.7.4: maxPayloadSize is the largest request body in bytes;
    a larger one MUST be refused with 413 Payload Too Large, whose error
    names the limit exceeded. The body is padded with JSON whitespace."""
    limit = _tested(bulk_limits["maxPayloadSize"], MAX_PAYLOAD_SIZE_TESTED)
    raw = json.dumps(bulk_request(delete(gone_path))).encode()
    padded = raw + b" " * (limit + excess - len(raw))

    response = client.request("POST", "/Bulk", raw=padded)

    assert response.status == status, str(response)
    if status == 413:
        error = assert_scim_error(response, 413)
        assert str(limit) in json.dumps(error)


def _tested(limit, most):
    if limit > most:
        pytest.skip(f"reaching the advertised limit of {limit} would take too long")
    return limit


@pytest.mark.requires_feature("etag")
def test_a_result_reports_the_new_version(client, provisioner, run_bulk):
    """RFC 7644 §3.7.3: where versions are supported, a result carries the
    version of the resource it wrote, the one its ETag reports (§3.14)."""
    body = user_body(provisioner.name("versioned"))

    [result] = run_bulk(bulk_request(post("versioned", "/Users", body)))

    assert result["version"] == client.get(result["location"]).header("ETag")


@pytest.mark.requires_feature("etag")
def test_an_old_version_is_412_for_that_operation(client, provisioner, run_bulk):
    """RFC 7644 §3.7: an operation's version is its precondition, as If-Match
    is for a request alone (§3.14): an old one fails that operation with
    412, and the resource stays as it is."""
    ada = provisioner.user("ada")
    rename = {"op": "replace", "path": "displayName", "value": "Current"}
    assert client.patch(ada["meta"]["location"], patch_op(rename)).status in (200, 204)
    before = client.get(ada["meta"]["location"]).json()
    stale = {
        "method": "PUT",
        "path": f"/Users/{ada['id']}",
        "version": ada["meta"]["version"],
        "data": user_body(ada["userName"], displayName="Stale"),
    }

    [result] = run_bulk(bulk_request(stale))

    assert status_of(result) == "412", result
    assert client.get(ada["meta"]["location"]).json() == before
