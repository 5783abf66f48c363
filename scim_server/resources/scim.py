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
from scim_server.filtering import parse_selection
from scim_server.listing import ListRequest, Page, comma_list, list_response
from scim_server.projection import Projection
from scim_server.provisioning import Provisioning
from scim_server.resources.discovery import base_url
from scim_server.schema import ResourceType
from scim_server.settings import Settings
from storage.filters import Selection
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
    list: Callable[[Page, Selection], tuple[int, list[RecordT]]]
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
            comma_list(req, "attributes"),
            comma_list(req, "excludedAttributes"),
        )

    def _render_one(
        self, req: falcon.Request, resp: falcon.Response, record: RecordT
    ) -> None:
        base = base_url(req, self._settings)
        (resp.media,) = self._kind.render([record], base, self._projection(req))
        resp.etag = representation.etag(record.version)

    def _list(self, req: falcon.Request, query: ListRequest) -> dict[str, Any]:
        """Answer a list or search request with a ListResponse."""
        resource_type = self._kind.resource_type
        selection = parse_selection(
            resource_type, query.filter, query.sort_by, query.sort_order
        )
        page = Page.parse(
            query.start_index,
            query.count,
            default_count=self._settings.default_page_size,
            max_count=self._settings.max_page_size,
        )
        projection = Projection.parse(
            resource_type, query.attributes, query.excluded_attributes
        )
        total, records = self._kind.list(page, selection)
        base = base_url(req, self._settings)
        return list_response(self._kind.render(records, base, projection), total, page)


class Collection(_Endpoint[RecordT]):
    """``/Users`` and ``/Groups``: list (RFC 7644 §3.4.2) and create (§3.3)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._list(req, ListRequest.from_query(req))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        record = self._kind.create(req.get_media())
        self._render_one(req, resp, record)
        resp.status = falcon.HTTP_201
        resp.location = representation.location(
            self._kind.resource_type.endpoint, base_url(req, self._settings), record.id
        )


class Search(_Endpoint[RecordT]):
    """``/Users/.search`` and ``/Groups/.search`` (RFC 7644 §3.4.3)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = ListRequest.from_search_request(req.get_media())
        resp.media = self._list(req, query)


class Item(_Endpoint[RecordT]):
    """``/Users/{id}`` and ``/Groups/{id}``: read, replace, delete."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._render_one(req, resp, self._kind.get(id))

    def on_put(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._render_one(req, resp, self._kind.replace(id, req.get_media()))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._kind.delete(id)
        resp.status = falcon.HTTP_204
