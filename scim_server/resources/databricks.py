"""Databricks REST API 2.0 endpoints, for tools written against Databricks.

Request and response shapes follow Databricks' published API reference;
errors are ``{"error_code": ..., "message": ...}`` (see ``errors.py``).
GET requests take their parameters from the query string, as the Databricks
CLI sends them, or from a JSON body, as some scripts do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import falcon
import orjson

from scim_server import App
from scim_server.authorization import Access, Permission
from scim_server.databricks import (
    DatabricksGroups,
    DatabricksTokens,
    Named,
    owner_names,
    required_text,
    token_info,
)
from scim_server.errors import InvalidSyntax, InvalidValue

API = "/api/2.0"


def _body(req: falcon.Request) -> Mapping[str, Any]:
    """The JSON object in the body, whatever the Content-Type says.

    Databricks' own examples use ``curl -d '{...}'``, which labels the body
    application/x-www-form-urlencoded; the body is JSON all the same.
    """
    raw = req.bounded_stream.read()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        error = InvalidSyntax("the request body is not valid JSON")
        error.databricks_code = "MALFORMED_REQUEST"
        raise error from None
    if not isinstance(body, Mapping):
        raise InvalidSyntax("the request body must be a JSON object")
    return body


def _parameters(req: falcon.Request) -> Mapping[str, Any]:
    """A GET's parameters: the query string, else a JSON body."""
    if req.params:
        return req.params
    if req.content_length:
        return _body(req)
    return {}


class _GroupsEndpoint:
    def __init__(self, groups: DatabricksGroups) -> None:
        self._groups = groups


class CreateGroup(_GroupsEndpoint):
    """``POST /api/2.0/groups/create`` ``{"group_name": ...}``."""

    permissions = {"POST": Permission.MANAGE_DIRECTORY}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = required_text(_body(req), "group_name")
        self._groups.create(name)
        resp.media = {"group_name": name}


class DeleteGroup(_GroupsEndpoint):
    """``POST /api/2.0/groups/delete`` ``{"group_name": ...}``."""

    permissions = {"POST": Permission.MANAGE_DIRECTORY}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._groups.delete(required_text(_body(req), "group_name"))
        resp.media = {}


def _membership(fields: Mapping[str, Any]) -> tuple[str, Named]:
    """The parent group and the member of an add- or remove-member request.

    The documented form names the parent in ``parent_name`` and the member in
    ``user_name`` or ``group_name``. Without ``parent_name``,
    ``{"group_name": G, "user_name": U}`` means "user U in group G", the
    form of the API's original announcement, which scripts still send.
    """
    if fields.get("parent_name") is None and fields.get("user_name") is not None:
        return required_text(fields, "group_name"), Named(
            "User", required_text(fields, "user_name")
        )
    return required_text(fields, "parent_name"), Named.from_fields(fields)


class AddMember(_GroupsEndpoint):
    """``POST /api/2.0/groups/add-member``."""

    permissions = {"POST": Permission.MANAGE_DIRECTORY}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        parent, member = _membership(_body(req))
        self._groups.add_member(parent, member)
        resp.media = {}


class RemoveMember(_GroupsEndpoint):
    """``POST /api/2.0/groups/remove-member``."""

    permissions = {"POST": Permission.MANAGE_DIRECTORY}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        parent, member = _membership(_body(req))
        self._groups.remove_member(parent, member)
        resp.media = {}


class ListGroups(_GroupsEndpoint):
    """``GET /api/2.0/groups/list``: every group's name."""

    permissions = {"GET": Permission.READ_DIRECTORY}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"group_names": self._groups.list_names()}


class ListMembers(_GroupsEndpoint):
    """``GET /api/2.0/groups/list-members?group_name=...``: direct members."""

    # Memberships are outside the limited directory view of non-admins.
    permissions = {"GET": Permission.MANAGE_DIRECTORY}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = required_text(_parameters(req), "group_name")
        resp.media = {"members": self._groups.list_members(name)}


class ListParents(_GroupsEndpoint):
    """``GET /api/2.0/groups/list-parents?user_name=...`` (or ``group_name``)."""

    permissions = {"GET": Permission.MANAGE_DIRECTORY}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        member = Named.from_fields(_parameters(req))
        resp.media = {"group_names": self._groups.list_parents(member)}


def add_routes(app: App, groups: DatabricksGroups) -> None:
    app.add_route(f"{API}/groups/create", CreateGroup(groups))
    app.add_route(f"{API}/groups/delete", DeleteGroup(groups))
    app.add_route(f"{API}/groups/add-member", AddMember(groups))
    app.add_route(f"{API}/groups/remove-member", RemoveMember(groups))
    app.add_route(f"{API}/groups/list", ListGroups(groups))
    app.add_route(f"{API}/groups/list-members", ListMembers(groups))
    app.add_route(f"{API}/groups/list-parents", ListParents(groups))


def _caller(req: falcon.Request) -> Access:
    access: Access = req.context.access
    return access


class _TokensEndpoint:
    def __init__(self, tokens: DatabricksTokens) -> None:
        self._tokens = tokens


class CreateToken(_TokensEndpoint):
    """``POST /api/2.0/token/create`` ``{"lifetime_seconds", "comment"}``."""

    permissions = {"POST": Permission.MANAGE_OWN_TOKENS}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = _body(req)
        lifetime = body.get("lifetime_seconds")
        if lifetime is not None and (
            isinstance(lifetime, bool) or not isinstance(lifetime, int)
        ):
            raise InvalidValue("lifetime_seconds must be an integer")
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise InvalidValue("comment must be a string")
        issued, record = self._tokens.create(
            _caller(req), lifetime, comment, req.remote_addr
        )
        resp.media = {"token_value": issued.token, "token_info": token_info(record, {})}


class ListTokens(_TokensEndpoint):
    """``GET /api/2.0/token/list``: the caller's live tokens, no secrets."""

    permissions = {"GET": Permission.MANAGE_OWN_TOKENS}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        records = self._tokens.own(_caller(req))
        resp.media = {"token_infos": [token_info(r, {}) for r in records]}


class DeleteToken(_TokensEndpoint):
    """``POST /api/2.0/token/delete`` ``{"token_id"}``: revoke one's own."""

    permissions = {"POST": Permission.MANAGE_OWN_TOKENS}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token_id = required_text(_body(req), "token_id")
        self._tokens.revoke(_caller(req), token_id, req.remote_addr, anyones=False)
        resp.media = {}


class ManagedTokens(_TokensEndpoint):
    """``GET /api/2.0/token-management/tokens``: everyone's live tokens."""

    permissions = {"GET": Permission.MANAGE_ALL_TOKENS}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        created_by_id = req.get_param_as_int("created_by_id")
        created_by_username = req.get_param("created_by_username")
        records = self._tokens.everyone(created_by_id, created_by_username)
        names = owner_names(records)
        resp.media = {"token_infos": [token_info(r, names) for r in records]}


class ManagedToken(_TokensEndpoint):
    """``GET`` and ``DELETE /api/2.0/token-management/tokens/{token_id}``."""

    permissions = {
        "GET": Permission.MANAGE_ALL_TOKENS,
        "DELETE": Permission.MANAGE_ALL_TOKENS,
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, token_id: str) -> None:
        record = self._tokens.find(_caller(req), token_id, anyones=True)
        resp.media = {"token_info": token_info(record, owner_names([record]))}

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, token_id: str
    ) -> None:
        self._tokens.revoke(_caller(req), token_id, req.remote_addr, anyones=True)
        resp.media = {}


def add_token_routes(app: App, tokens: DatabricksTokens) -> None:
    app.add_route(f"{API}/token/create", CreateToken(tokens))
    app.add_route(f"{API}/token/list", ListTokens(tokens))
    app.add_route(f"{API}/token/delete", DeleteToken(tokens))
    app.add_route(f"{API}/token-management/tokens", ManagedTokens(tokens))
    app.add_route(f"{API}/token-management/tokens/{{token_id}}", ManagedToken(tokens))
