"""The ``/Users`` and ``/Groups`` endpoints (RFC 7644 §3.2-§3.6).

Users and Groups answer the same protocol, so one pair of resource classes
serves both, each given the ``Kind`` that knows its domain calls and how to
render its records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import falcon

from scim_server import representation
from scim_server.errors import NotImplementedYet
from scim_server.listing import Page, list_response
from scim_server.projection import Projection
from scim_server.provisioning import Provisioning
from scim_server.resources.discovery import base_url
from scim_server.schema import ResourceType
from scim_server.settings import Settings
from storage.records import GroupRecord, UserRecord

RecordT = TypeVar("RecordT", UserRecord, GroupRecord)
Renderer = Callable[[Sequence[RecordT], str, Projection], list[dict[str, Any]]]


@dataclasses.dataclass(frozen=True)
class Kind(Generic[RecordT]):
    """The domain calls and renderer behind one resource type's endpoints."""

    resource_type: ResourceType
    create: Callable[[Any], RecordT]
    get: Callable[[str], RecordT]
    replace: Callable[[str, Any], RecordT]
    delete: Callable[[str], None]
    list: Callable[[Page], tuple[int, list[RecordT]]]
    render: Renderer[RecordT]


def user_kind(provisioning: Provisioning) -> Kind[UserRecord]:
    return Kind(
        resource_type=provisioning.user_type,
        create=provisioning.create_user,
        get=provisioning.get_user,
        replace=provisioning.replace_user,
        delete=provisioning.delete_user,
        list=provisioning.list_users,
        render=representation.users,
    )


def group_kind(provisioning: Provisioning) -> Kind[GroupRecord]:
    return Kind(
        resource_type=provisioning.group_type,
        create=provisioning.create_group,
        get=provisioning.get_group,
        replace=provisioning.replace_group,
        delete=provisioning.delete_group,
        list=provisioning.list_groups,
        render=representation.groups,
    )


class _Endpoint(Generic[RecordT]):
    def __init__(self, kind: Kind[RecordT], settings: Settings) -> None:
        self._kind: Kind[RecordT] = kind
        self._settings = settings

    def _projection(self, req: falcon.Request) -> Projection:
        return Projection.parse(
            self._kind.resource_type,
            _comma_list(req, "attributes"),
            _comma_list(req, "excludedAttributes"),
        )

    def _render_one(
        self, req: falcon.Request, resp: falcon.Response, record: RecordT
    ) -> None:
        base = base_url(req, self._settings)
        (resp.media,) = self._kind.render([record], base, self._projection(req))
        resp.etag = representation.etag(record.version)


def _comma_list(req: falcon.Request, name: str) -> list[str]:
    """A parameter given as ``a,b``, repeated, or both (RFC 7644 §3.4.2.5)."""
    values = req.get_param_as_list(name) or []
    return [
        part.strip() for value in values for part in value.split(",") if part.strip()
    ]


class Collection(_Endpoint[RecordT]):
    """``/Users`` and ``/Groups``: list and create."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.get_param("filter") is not None:
            # TODO: filtering is not implemented yet. Refusing is the only
            # safe answer: ignoring the filter would answer Okta's
            # "userName eq" lookup with every user, and it would link the
            # wrong account.
            raise NotImplementedYet("filtering is not supported yet")
        page = Page.parse(
            req.get_param("startIndex"),
            req.get_param("count"),
            default_count=self._settings.default_page_size,
            max_count=self._settings.max_page_size,
        )
        total, records = self._kind.list(page)
        base = base_url(req, self._settings)
        resources = self._kind.render(records, base, self._projection(req))
        resp.media = list_response(resources, total, page)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        record = self._kind.create(req.get_media())
        self._render_one(req, resp, record)
        resp.status = falcon.HTTP_201
        resp.location = representation.location(
            self._kind.resource_type.endpoint, base_url(req, self._settings), record.id
        )


class Item(_Endpoint[RecordT]):
    """``/Users/{id}`` and ``/Groups/{id}``: read, replace, delete."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._render_one(req, resp, self._kind.get(id))

    def on_put(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._render_one(req, resp, self._kind.replace(id, req.get_media()))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._kind.delete(id)
        resp.status = falcon.HTTP_204
