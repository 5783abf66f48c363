"""The SCIM error family (RFC 7644 §3.12) and its rendering.

Responders and domain code raise these; one error handler registered on the
app turns each into a SCIM Error response. Falcon's own errors (unknown
route, wrong method, unsupported media type, malformed JSON) and errors from
``storage`` and ``tokens`` are mapped into the same shape, so no response
ever carries another error format or a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon

import storage
from scim_server import App
from scim_server.schema import ERROR
from storage.errors import MembershipCycle
from storage.filters import UnsupportedFilter
from tokens import InvalidToken

log = logging.getLogger(__name__)


class SCIMError(Exception):
    """An error the client can act on, rendered as a SCIM Error."""

    status = 400
    scim_type: str | None = None
    # The Databricks API's error_code, where the status alone would mislead.
    databricks_code: str | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schemas": [ERROR],
            "status": str(self.status),
            "detail": self.detail,
        }
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


class InvalidFilter(SCIMError):
    scim_type = "invalidFilter"


class TooMany(SCIMError):
    scim_type = "tooMany"


class Uniqueness(SCIMError):
    status = 409
    scim_type = "uniqueness"


class Mutability(SCIMError):
    scim_type = "mutability"


class InvalidSyntax(SCIMError):
    scim_type = "invalidSyntax"


class InvalidPath(SCIMError):
    scim_type = "invalidPath"


class NoTarget(SCIMError):
    scim_type = "noTarget"


class InvalidValue(SCIMError):
    scim_type = "invalidValue"


class InvalidVersion(SCIMError):
    scim_type = "invalidVers"


class Sensitive(SCIMError):
    scim_type = "sensitive"


class NotFound(SCIMError):
    status = 404


class Unauthorized(SCIMError):
    status = 401


class Forbidden(SCIMError):
    status = 403


class Conflict(SCIMError):
    """409 without a scimType: a bulkId that cannot be resolved (RFC 7644 §3.7.1)."""

    status = 409


class PreconditionFailed(SCIMError):
    status = 412


class PayloadTooLarge(SCIMError):
    """A request beyond a published limit (RFC 7644 §3.7.4).

    The RFC's example of this error carries no scimType, and its table of
    scimType keywords (§3.12) has none for it.
    """

    status = 413


class NotImplementedYet(SCIMError):
    status = 501


# The Databricks REST API 2.0 answers errors in its own shape, except under
# its SCIM prefix, which speaks SCIM.
DATABRICKS_PREFIX = "/api/2.0/"
DATABRICKS_SCIM_PREFIX = "/api/2.0/preview/scim/"

# Databricks' error codes by HTTP status, as its SDKs map them back.
_DATABRICKS_CODES = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "RESOURCE_ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    501: "NOT_IMPLEMENTED",
}


def speaks_databricks(path: str) -> bool:
    return path.startswith(DATABRICKS_PREFIX) and not path.startswith(
        DATABRICKS_SCIM_PREFIX
    )


def databricks_body(error: SCIMError) -> dict[str, str]:
    """``{"error_code": ..., "message": ...}``, Databricks' error shape."""
    code = error.databricks_code or _DATABRICKS_CODES.get(
        error.status, "INTERNAL_ERROR" if error.status >= 500 else "BAD_REQUEST"
    )
    return {"error_code": code, "message": error.detail}


def _respond(req: falcon.Request, resp: falcon.Response, error: SCIMError) -> None:
    resp.status = falcon.code_to_http_status(error.status)
    if speaks_databricks(req.path):
        resp.media = databricks_body(error)
        resp.content_type = falcon.MEDIA_JSON
        return
    resp.media = error.body()
    resp.content_type = "application/scim+json"


def handle_scim_error(
    req: falcon.Request, resp: falcon.Response, ex: SCIMError, params: Any
) -> None:
    _respond(req, resp, ex)
    if isinstance(ex, Unauthorized):
        resp.set_header("WWW-Authenticate", 'Bearer realm="scim"')


def handle_http_error(
    req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any
) -> None:
    """Render Falcon's own errors (404, 405, 415, bad JSON...) as SCIM errors."""
    error = SCIMError(ex.description or _describe(req, ex))
    error.status = ex.status_code
    if isinstance(ex, falcon.MediaMalformedError | falcon.MediaNotFoundError):
        error = InvalidSyntax(ex.description or "the request body is not valid JSON")
        error.databricks_code = "MALFORMED_REQUEST"
    elif isinstance(ex, falcon.HTTPNotFound):
        error.databricks_code = "ENDPOINT_NOT_FOUND"
    _respond(req, resp, error)
    if ex.headers:
        resp.set_headers(ex.headers)


def _describe(req: falcon.Request, ex: falcon.HTTPError) -> str:
    if isinstance(ex, falcon.HTTPNotFound):
        return f"no resource at {req.path}"
    if isinstance(ex, falcon.HTTPMethodNotAllowed):
        return f"{req.method} is not allowed on {req.path}"
    return str(ex.title)


def from_storage_error(ex: storage.StorageError) -> SCIMError:
    """The SCIM error a client sees for an error raised by ``storage``."""
    error: SCIMError
    if isinstance(ex, storage.ResourceNotFound):
        error = NotFound(f"{ex.resource_type} {ex.resource_id} not found")
    elif isinstance(ex, storage.DuplicateName):
        error = Uniqueness(str(ex))
    elif isinstance(ex, storage.UnknownMembers):
        error = InvalidValue(f"unknown members: {ex!s}")
    elif isinstance(ex, storage.VersionMismatch):
        error = PreconditionFailed(str(ex))
    elif isinstance(ex, UnsupportedFilter):
        error = InvalidFilter(str(ex))
    elif isinstance(ex, MembershipCycle):
        error = InvalidValue(str(ex))
    else:
        log.error("unmapped storage error", exc_info=ex)
        error = SCIMError("the request could not be completed")
        error.status = 500
    return error


def handle_storage_error(
    req: falcon.Request, resp: falcon.Response, ex: storage.StorageError, params: Any
) -> None:
    _respond(req, resp, from_storage_error(ex))


def handle_invalid_token(
    req: falcon.Request, resp: falcon.Response, ex: InvalidToken, params: Any
) -> None:
    handle_scim_error(req, resp, Unauthorized("invalid or expired token"), params)


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any
) -> None:
    """Answer a generic 500 and log the traceback once; reveal nothing."""
    log.error(
        "unhandled error in %s %s (request %s)",
        req.method,
        req.path,
        req.context.get("request_id", "-"),
        exc_info=ex,
    )
    error = SCIMError("internal server error")
    error.status = 500
    _respond(req, resp, error)


def register(app: App) -> None:
    """Install the handlers; Falcon picks the most specific class."""
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(storage.StorageError, handle_storage_error)
    app.add_error_handler(InvalidToken, handle_invalid_token)
    app.add_error_handler(SCIMError, handle_scim_error)
