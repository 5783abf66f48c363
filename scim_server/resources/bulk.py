"""``/Bulk`` (RFC 7644 §3.7): many writes to Users and Groups in one request."""

from __future__ import annotations

from typing import Any

import falcon
import orjson

from scim_server.authorization import Permission
from scim_server.bulk import parse_bulk_request, run_bulk
from scim_server.errors import InvalidSyntax, PayloadTooLarge
from scim_server.provisioning import Provisioning
from scim_server.resources.discovery import base_url
from scim_server.settings import Settings

JSON_TYPES = frozenset({"application/json", "application/scim+json"})
CHUNK_SIZE = 64 * 1024


class Bulk:
    """Run a BulkRequest and answer a BulkResponse, always 200 once it ran."""

    # Every operation of a BulkRequest writes users or groups.
    permissions = {"POST": Permission.MANAGE_DIRECTORY}

    def __init__(self, provisioning: Provisioning, settings: Settings) -> None:
        self._provisioning = provisioning
        self._settings = settings

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json(req, self._settings.bulk_max_payload_size)
        request = parse_bulk_request(body, self._settings.bulk_max_operations)
        base = base_url(req, self._settings)
        resp.media = run_bulk(self._provisioning, request, base)


def read_json(req: falcon.Request, limit: int) -> Any:
    """The JSON body of ``req``, refused with 413 past ``limit`` bytes.

    The limit is maxPayloadSize (RFC 7644 §3.7.4), so the body is read here
    rather than through the media handlers, which would read it whole first.
    """
    media_type = (req.content_type or "").partition(";")[0].strip().lower()
    if media_type and media_type not in JSON_TYPES:
        raise falcon.HTTPUnsupportedMediaType(
            description=f"a BulkRequest is JSON, not {media_type}"
        )
    try:
        return orjson.loads(_read_body(req, limit))
    except orjson.JSONDecodeError:
        raise InvalidSyntax("the request body is not valid JSON") from None


def _read_body(req: falcon.Request, limit: int) -> bytes:
    too_large = PayloadTooLarge(
        f"the request body is larger than maxPayloadSize ({limit} bytes)"
    )
    # A declared length is checked before a byte is read.
    if req.content_length is not None:
        if req.content_length > limit:
            raise too_large
        return req.bounded_stream.read()
    # A chunked body has no length: read it only until it passes the limit.
    # Without "wsgi.input_terminated" the server does not promise an end of
    # the stream, and a body without a length is empty (PEP 3333).
    if not req.env.get("wsgi.input_terminated"):
        return b""
    body = bytearray()
    while len(body) <= limit:
        chunk = req.stream.read(min(CHUNK_SIZE, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body += chunk
    raise too_large
