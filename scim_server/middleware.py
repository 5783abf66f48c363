"""Request-scoped concerns: request ids, database connections, bearer tokens."""

from __future__ import annotations

import re
import secrets
from typing import Any

import falcon

from scim_server.authorization import access_for, authorize
from scim_server.errors import Forbidden, Unauthorized
from scim_server.settings import Clock
from storage import database
from tokens import KeyRing, TokenPolicy, verify

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestId:
    """Give each request an id, echoed in ``X-Request-ID`` for correlation.

    A well-formed id from a proxy or client is kept, so one id follows a
    request across services; anything else is replaced.
    """

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        incoming = req.get_header("X-Request-ID")
        if incoming and _REQUEST_ID.fullmatch(incoming):
            req.context.request_id = incoming
        else:
            req.context.request_id = secrets.token_hex(8)
        resp.set_header("X-Request-ID", req.context.request_id)


class DatabaseSession:
    """Hold a database connection for the length of each request."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        database.open_connection()

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        database.release_connection()


class BearerAuthentication:
    """Verify the bearer token of every request to a protected resource.

    A resource opts out with a class attribute ``auth_required = False``
    (the discovery endpoints). Every other resource maps each HTTP method it
    answers to the ``Permission`` it needs, in a class attribute
    ``permissions``; a method missing from the map is refused, so a new
    responder is closed until someone decides who may call it.
    """

    def __init__(
        self, keys: KeyRing, clock: Clock, policy: TokenPolicy | None = None
    ) -> None:
        self._keys = keys
        self._clock = clock
        # With a policy that revokes unused tokens, verify enforces it
        # between sweeps.
        self._policy = policy

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: Any,
        params: dict[str, Any],
    ) -> None:
        if resource is None or not getattr(resource, "auth_required", True):
            return
        scheme, _, token = (req.auth or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required")
        principal = verify(
            self._keys,
            token.strip(),
            now=self._clock(),
            address=req.remote_addr,
            policy=self._policy,
        )
        access = access_for(principal, principal.scopes)
        req.context.principal = principal
        req.context.access = access
        responder = f"on_{req.method.lower()}"
        if not hasattr(resource, responder):
            return  # Falcon answers 405 with the methods that exist
        needed = getattr(resource, "permissions", {}).get(req.method)
        if needed is None:
            raise Forbidden(f"{req.method} {req.path} is not open to any token")
        authorize(access, needed)
