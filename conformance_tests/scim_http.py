"""A small SCIM client over the standard library's ``http.client``.

The conformance tests see the server only through this client, so they run
unchanged against any SCIM service provider reachable over HTTP. It sends
exactly the bytes and headers a test asks for: a test of a missing
``Content-Type`` must be able to send none, which friendlier clients do not
allow.
"""

from __future__ import annotations

import dataclasses
import datetime
import http.client
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

SCIM_MEDIA_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

# A sentinel for "send no body at all", as distinct from a JSON null.
NO_BODY: Any = object()

Params = Mapping[str, str | int]


@dataclasses.dataclass(frozen=True)
class Response:
    """What the server answered, with the request it answered for messages."""

    method: str
    url: str
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of the header ``name``, matched case-insensitively."""
        return self.headers.get(name)

    @property
    def media_type(self) -> str | None:
        """The Content-Type without parameters such as ``charset``."""
        value = self.header("Content-Type")
        if value is None:
            return None
        return value.split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        # Assertion messages show this, so a failure names the exchange.
        text = self.body[:800].decode("utf-8", "replace")
        return f"{self.method} {self.url} -> {self.status}: {text}"


class SCIMClient:
    """Send requests to one SCIM base URL, such as ``http://host/scim/v2``.

    Paths are relative to the base URL (``/Users/123``); an absolute URL, such
    as a ``meta.location``, is used as it is.
    """

    def __init__(self, base_url: str, token: str | None, timeout: float = 10) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def without_token(self) -> SCIMClient:
        return SCIMClient(self.base_url, None, self.timeout)

    def with_token(self, token: str) -> SCIMClient:
        return SCIMClient(self.base_url, token, self.timeout)

    def get(self, path: str, params: Params | None = None) -> Response:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, params: Params | None = None) -> Response:
        return self.request("POST", path, body=body, params=params)

    def put(self, path: str, body: Any, params: Params | None = None) -> Response:
        return self.request("PUT", path, body=body, params=params)

    def patch(self, path: str, body: Any, params: Params | None = None) -> Response:
        return self.request("PATCH", path, body=body, params=params)

    def delete(self, path: str) -> Response:
        return self.request("DELETE", path)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = NO_BODY,
        raw: bytes | None = None,
        content_type: str | None = SCIM_MEDIA_TYPE,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one request and read the whole response.

        ``body`` is serialised as JSON; ``raw`` is sent as it is. The
        ``Content-Type`` header is sent only with a body, and not at all when
        ``content_type`` is None.
        """
        url = self._url(path, params)
        payload = raw if raw is not None else _encode(body)
        sent = {"Accept": SCIM_MEDIA_TYPE}
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        if payload is not None and content_type is not None:
            sent["Content-Type"] = content_type
        sent.update(headers or {})

        parts = urllib.parse.urlsplit(url)
        connection = _connect(parts, self.timeout)
        try:
            target = urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
            connection.request(method, target, body=payload, headers=sent)
            answer = connection.getresponse()
            return Response(method, url, answer.status, answer.headers, answer.read())
        finally:
            connection.close()

    def _url(self, path: str, params: Params | None) -> str:
        url = path if "://" in path else f"{self.base_url}{path}"
        if params:
            # quote_via=quote writes spaces as %20, which every server reads;
            # the "+" that the default writes is only meant for HTML forms.
            query = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
            url = f"{url}?{query}"
        return url


def _encode(body: Any) -> bytes | None:
    if body is NO_BODY:
        return None
    return json.dumps(body).encode("utf-8")


def _connect(
    parts: urllib.parse.SplitResult, timeout: float
) -> http.client.HTTPConnection:
    if parts.hostname is None:
        raise ValueError(f"no host in {urllib.parse.urlunsplit(parts)}")
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout)
    if parts.scheme == "http":
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    raise ValueError(f"unsupported URL scheme {parts.scheme!r}")


def patch_op(*operations: Mapping[str, Any]) -> dict[str, Any]:
    """A PatchOp request body (RFC 7644 §3.5.2) holding ``operations``."""
    return {"schemas": [PATCH_OP_SCHEMA], "Operations": list(operations)}


def assert_scim_error(
    response: Response, status: int, scim_type: str | None = None
) -> dict[str, Any]:
    """Check that ``response`` is a SCIM Error of ``status`` (RFC 7644 §3.12).

    The body names the Error schema and repeats the HTTP status as a JSON
    string; ``scimType``, when expected, must match exactly. Returns the body
    so that a test can look at ``detail``.
    """
    assert response.status == status, str(response)
    assert response.media_type == SCIM_MEDIA_TYPE, str(response)
    error = response.json()
    assert error["schemas"] == [ERROR_SCHEMA], str(response)
    assert error["status"] == str(status), str(response)
    if scim_type is not None:
        assert error.get("scimType") == scim_type, str(response)
    if "detail" in error:
        assert isinstance(error["detail"], str), str(response)
    return dict(error)


def assert_list_response(response: Response) -> dict[str, Any]:
    """Check that ``response`` is a successful ListResponse and return its body.

    RFC 7644 §3.4.2: ``totalResults`` is REQUIRED; ``itemsPerPage`` and
    ``startIndex`` are integers when present (§3.4.2.4), and ``itemsPerPage``
    counts the resources on this page.
    """
    assert response.status == 200, str(response)
    assert response.media_type == SCIM_MEDIA_TYPE, str(response)
    page = response.json()
    assert page["schemas"] == [LIST_RESPONSE_SCHEMA], str(response)
    assert _is_integer(page["totalResults"]), str(response)
    for name in ("itemsPerPage", "startIndex"):
        if name in page:
            assert _is_integer(page[name]), str(response)
    resources = page.get("Resources", [])
    assert isinstance(resources, list), str(response)
    if "itemsPerPage" in page:
        assert page["itemsPerPage"] == len(resources), str(response)
    return dict(page)


def parse_date_time(text: str) -> datetime.datetime:
    """An xsd:dateTime as SCIM writes it (RFC 7643 §2.3.5), as an instant."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _is_integer(value: Any) -> bool:
    # JSON true and false arrive as Python bools, which are ints too.
    return isinstance(value, int) and not isinstance(value, bool)
