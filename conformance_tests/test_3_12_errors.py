"""Error responses: RFC 7644 §3.12, and the HTTP rules they follow."""

from __future__ import annotations

import pytest

from conformance_tests.scim_http import (
    NO_BODY,
    SEARCH_REQUEST_SCHEMA,
    assert_scim_error,
)

# Requests that fail for reasons of HTTP, before any SCIM processing.
HTTP_ERRORS = [
    pytest.param("GET", "/NoSuchEndpoint", NO_BODY, 404, id="unknown-endpoint"),
    pytest.param("GET", "/Users/no-such-id", NO_BODY, 404, id="unknown-id"),
    pytest.param("DELETE", "/Users", NO_BODY, 405, id="method-not-allowed"),
    pytest.param("PUT", "/Groups", {}, 405, id="put-to-a-collection"),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), HTTP_ERRORS)
def test_errors_are_scim_errors(client, method, path, body, status):
    """RFC 7644 §3.12: an error is a JSON object with the Error schema URN
    and status, the HTTP status code as a JSON string; RFC 7644 §8.1: served
    as application/scim+json."""
    response = client.request(method, path, body=body)

    assert_scim_error(response, status)


def test_method_not_allowed_names_the_allowed_ones(client):
    """RFC 9110 §15.5.6: a 405 response MUST carry an Allow header listing
    the methods the resource supports."""
    response = client.request("DELETE", "/Users")

    assert_scim_error(response, 405)
    allowed = {
        method.strip().upper() for method in (response.header("Allow") or "").split(",")
    }
    assert {"GET", "POST"} <= allowed
    assert "DELETE" not in allowed


def test_unsupported_media_type_is_415(provisioner):
    """RFC 9110 §15.5.16: a body in a format the resource does not accept is
    415; SCIM bodies are application/scim+json (RFC 7644 §8.1) or JSON."""
    raw = f"userName={provisioner.name('form')}".encode()

    response = provisioner.post("/Users", raw=raw, content_type="text/plain")

    assert_scim_error(response, 415)


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"userName": ', b"[1, 2", b'{"a": 1}}'], ids=repr
)
def test_malformed_json_is_400_invalid_syntax(client, raw):
    """RFC 7644 §3.12: a body whose structure is invalid is 400 with scimType
    invalidSyntax."""
    response = client.request("POST", "/Users", raw=raw)

    assert_scim_error(response, 400, "invalidSyntax")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="],
    ids=["none", "empty-bearer", "bad-bearer", "basic"],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/Users", NO_BODY),
        ("POST", "/Users/.search", {"schemas": [SEARCH_REQUEST_SCHEMA]}),
    ],
    ids=["GET", "POST"],
)
def test_without_a_valid_token_is_401_with_a_challenge(
    client, authorization, method, path, body
):
    """RFC 7644 §3.12: authorization failure is 401; RFC 9110 §15.5.2: a 401
    response MUST send a WWW-Authenticate challenge (for bearer tokens, RFC
    6750 §3)."""
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.without_token().request(method, path, body=body, headers=headers)

    assert_scim_error(response, 401)
    assert response.header("WWW-Authenticate")
