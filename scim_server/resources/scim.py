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
from scim_server.authorization import Access, Permission
from scim_server.cursors import Cursor, CursorCodec, fingerprint
from scim_server.errors import Forbidden, InvalidFilter, InvalidValue
from scim_server.filtering import parse_selection
from scim_server.listing import (
    ListRequest,
    Page,
    comma_list,
    cursor_response,
    list_response,
)
from scim_server.media import json_body
from scim_server.projection import Projection
from scim_server.provisioning import Precondition, Provisioning
from scim_server.resources.discovery import base_url
from scim_server.schema import ResourceType
from scim_server.settings import Settings
from storage.compiler import Position
from storage.filters import Selection, attribute_paths
from storage.records import GroupRecord, UserRecord

RecordT = TypeVar("RecordT", UserRecord, GroupRecord)
Renderer = Callable[[Sequence[RecordT], str, Projection], list[dict[str, Any]]]


@dataclasses.dataclass(frozen=True)
class Kind(Generic[RecordT]):
    """The domain calls and renderer behind one resource type's endpoints."""

    resource_type: ResourceType
    create: Callable[[Any], RecordT]
    get: Callable[[str], RecordT]
    replace: Callable[[str, Any, Precondition | None], RecordT]
    patch: Callable[[str, Any, Precondition | None], RecordT]
    delete: Callable[[str, Precondition | None], None]
    index_page: Callable[[Page, Selection], tuple[int, list[RecordT]]]
    count: Callable[[Selection], int]
    page: Callable[
        [Selection, Position | None, int, bool], list[tuple[RecordT, Position]]
    ]
    render: Renderer[RecordT]
    # A group's representation grows with its members, so a PATCH that does
    # not ask for attributes is answered 204 rather than with the group.
    patch_answers_resource: bool = True


def user_kind(provisioning: Provisioning) -> Kind[UserRecord]:
    return Kind(
        resource_type=provisioning.user_type,
        create=provisioning.create_user,
        get=provisioning.get_user,
        replace=provisioning.replace_user,
        patch=provisioning.patch_user,
        delete=provisioning.delete_user,
        index_page=provisioning.list_users,
        count=provisioning.count_users,
        page=provisioning.page_users,
        render=representation.users,
    )


def group_kind(provisioning: Provisioning) -> Kind[GroupRecord]:
    return Kind(
        resource_type=provisioning.group_type,
        create=provisioning.create_group,
        get=provisioning.get_group,
        replace=provisioning.replace_group,
        patch=provisioning.patch_group,
        delete=provisioning.delete_group,
        index_page=provisioning.list_groups,
        count=provisioning.count_groups,
        page=provisioning.page_groups,
        render=representation.groups,
        patch_answers_resource=False,
    )


class _Endpoint(Generic[RecordT]):
    def __init__(
        self, kind: Kind[RecordT], settings: Settings, cursors: CursorCodec
    ) -> None:
        self._kind: Kind[RecordT] = kind
        self._settings = settings
        self._cursors = cursors

    def _projection(self, req: falcon.Request) -> Projection:
        return _projection(
            self._kind.resource_type,
            _access(req),
            comma_list(req, "attributes"),
            comma_list(req, "excludedAttributes"),
        )

    def _render_one(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        record: RecordT,
        projection: Projection | None = None,
    ) -> None:
        base = base_url(req, self._settings)
        shown = projection if projection is not None else self._projection(req)
        (resp.media,) = self._kind.render([record], base, shown)
        resp.etag = representation.etag(record.version)

    def _list(self, req: falcon.Request, query: ListRequest) -> dict[str, Any]:
        """Answer a list or search request with a ListResponse."""
        resource_type = self._kind.resource_type
        selection = parse_selection(
            resource_type, query.filter, query.sort_by, query.sort_order
        )
        _check_visible(resource_type, _access(req), selection)
        page = Page.parse(
            query.start_index,
            query.count,
            default_count=self._settings.default_page_size,
            max_count=self._settings.max_page_size,
        )
        projection = _projection(
            resource_type, _access(req), query.attributes, query.excluded_attributes
        )
        base = base_url(req, self._settings)
        if query.cursor is not None:
            if query.start_index is not None:
                raise InvalidValue("use either cursor or startIndex, not both")
            return self._cursor_page(query, selection, page.count, base, projection)
        total, records = self._kind.index_page(page, selection)
        return list_response(self._kind.render(records, base, projection), total, page)

    def _cursor_page(
        self,
        query: ListRequest,
        selection: Selection,
        count: int,
        base: str,
        projection: Projection,
    ) -> dict[str, Any]:
        """One page of cursor paging (RFC 9865): a seek, never an offset."""
        order = fingerprint(
            self._kind.resource_type.name,
            query.filter,
            query.sort_by,
            selection.descending,
        )
        cursor = self._cursors.decode(query.cursor, order) if query.cursor else None
        backwards = cursor is not None and cursor.backwards
        after = cursor.position if cursor is not None else None
        # One row more than asked tells whether another page follows.
        rows = self._kind.page(selection, after, count + 1, backwards)
        more = len(rows) > count
        if more:
            rows = rows[1:] if backwards else rows[:-1]
        records = [record for record, _ in rows]
        next_cursor = previous_cursor = None
        if rows and (more or backwards):
            last = Cursor(rows[-1][1], backwards=False, query=order)
            next_cursor = self._cursors.encode(last)
        if rows and (cursor is not None and (more or not backwards)):
            first = Cursor(rows[0][1], backwards=True, query=order)
            previous_cursor = self._cursors.encode(first)
        resources = self._kind.render(records, base, projection)
        total = self._kind.count(selection)
        return cursor_response(resources, total, next_cursor, previous_cursor)


class Collection(_Endpoint[RecordT]):
    """``/Users`` and ``/Groups``: list (RFC 7644 §3.4.2) and create (§3.3)."""

    permissions = {
        "GET": Permission.READ_DIRECTORY,
        "POST": Permission.MANAGE_DIRECTORY,
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._list(req, ListRequest.from_query(req))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        record = self._kind.create(json_body(req))
        self._render_one(req, resp, record)
        resp.status = falcon.HTTP_201
        resp.location = representation.location(
            self._kind.resource_type.endpoint, base_url(req, self._settings), record.id
        )


class Search(_Endpoint[RecordT]):
    """``/Users/.search`` and ``/Groups/.search`` (RFC 7644 §3.4.3)."""

    permissions = {"POST": Permission.READ_DIRECTORY}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = ListRequest.from_search_request(json_body(req))
        resp.media = self._list(req, query)


class Item(_Endpoint[RecordT]):
    """``/Users/{id}`` and ``/Groups/{id}``: read, replace, patch, delete.

    Writes honour ``If-Match`` and reads ``If-None-Match`` (RFC 7644 §3.14).
    """

    permissions = {
        "GET": Permission.READ_DIRECTORY,
        "PUT": Permission.MANAGE_DIRECTORY,
        "PATCH": Permission.MANAGE_DIRECTORY,
        "DELETE": Permission.MANAGE_DIRECTORY,
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        record = self._kind.get(id)
        if _matches_any(req.if_none_match, record.version):
            resp.status = falcon.HTTP_304
            resp.etag = representation.etag(record.version)
            return
        self._render_one(req, resp, record)

    def on_put(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        record = self._kind.replace(id, json_body(req), _precondition(req))
        self._render_one(req, resp, record)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        record = self._kind.patch(id, json_body(req), _precondition(req))
        if not self._kind.patch_answers_resource and not _asks_for_attributes(req):
            # The RFC allows 204 (§3.5.2), which Entra ID and Okta accept:
            # answering with the group would cost as much as reading all its
            # members, however few the PATCH touched. Asking for attributes
            # (excludedAttributes=members, say) gets the group back.
            resp.status = falcon.HTTP_204
            resp.etag = representation.etag(record.version)
            return
        self._render_one(req, resp, record)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self._kind.delete(id, _precondition(req))
        resp.status = falcon.HTTP_204


class RootSearch:
    """``POST /.search``: one search across every resource type (RFC 7644 §3.4.3).

    Without ``sortBy`` the result lists users, then groups, each in its own
    stable order. With ``sortBy``, which must name an attribute of every
    resource type, the types' sorted results are merged; to reach a page
    each type's rows up to that page are read, so deep pages cost more.
    """

    permissions = {"POST": Permission.READ_DIRECTORY}

    def __init__(self, kinds: Sequence[Kind[Any]], settings: Settings) -> None:
        self._kinds = kinds
        self._settings = settings

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = ListRequest.from_search_request(json_body(req))
        if query.cursor is not None:
            # TODO: cursors across resource types would need a position per
            # type; until then cursor paging is per endpoint.
            raise InvalidValue(
                "cursor paging is available on /Users/.search and"
                " /Groups/.search, not across resource types"
            )
        page = Page.parse(
            query.start_index,
            query.count,
            default_count=self._settings.default_page_size,
            max_count=self._settings.max_page_size,
        )
        access = _access(req)
        searches = self._selections(query, access)
        base = base_url(req, self._settings)
        total = sum(kind.count(selection) for kind, selection in searches)
        if page.count == 0 or page.offset >= total:
            rows: list[tuple[Kind[Any], Any]] = []
        elif query.sort_by:
            rows = self._merged(searches, page)
        else:
            rows = self._concatenated(searches, page)
        resources = self._render(rows, base, query, access)
        resp.media = list_response(resources, total, page)

    def _selections(
        self, query: ListRequest, access: Access
    ) -> list[tuple[Kind[Any], Selection]]:
        """Each type's selection; an attribute unknown to all is an error."""
        found = []
        unknown_everywhere: set[str] | None = None
        for kind in self._kinds:
            unknown: set[str] = set()
            selection = parse_selection(
                kind.resource_type,
                query.filter,
                query.sort_by,
                query.sort_order,
                unknown,
            )
            _check_visible(kind.resource_type, access, selection)
            lowered = {name.lower() for name in unknown}
            if unknown_everywhere is None:
                unknown_everywhere = lowered
            else:
                unknown_everywhere &= lowered
            found.append((kind, selection))
        if unknown_everywhere:
            name = sorted(unknown_everywhere)[0]
            raise InvalidFilter(f"unknown attribute '{name}' on every resource type")
        return found

    @staticmethod
    def _concatenated(
        searches: list[tuple[Kind[Any], Selection]], page: Page
    ) -> list[tuple[Kind[Any], Any]]:
        skip, wanted = page.offset, page.count
        rows: list[tuple[Kind[Any], Any]] = []
        for kind, selection in searches:
            if wanted == 0:
                break
            # One short page reaches past this type's end: the rest of the
            # page comes from the next type, from its start.
            total, records = kind.index_page(Page(skip + 1, wanted), selection)
            rows.extend((kind, record) for record in records)
            wanted -= len(records)
            skip = max(skip - total, 0)
        return rows

    @staticmethod
    def _merged(
        searches: list[tuple[Kind[Any], Selection]], page: Page
    ) -> list[tuple[Kind[Any], Any]]:
        needed = page.offset + page.count
        candidates = []
        descending = False
        for kind, selection in searches:
            descending = selection.descending
            for record, position in kind.page(selection, None, needed, False):
                candidates.append((position, kind, record))
        # The order SortKey gives in SQL: absent values after the others
        # (before them when descending), then the value, then the id. Keys
        # compare as the database compared them: folded text in code-point
        # order, which is UTF-8's byte order.
        candidates.sort(
            key=lambda item: (item[0].value is None, item[0].value, item[0].id),
            reverse=descending,
        )
        chosen = candidates[page.offset : needed]
        return [(kind, record) for _, kind, record in chosen]

    def _render(
        self,
        rows: list[tuple[Kind[Any], Any]],
        base: str,
        query: ListRequest,
        access: Access,
    ) -> list[dict[str, Any]]:
        rendered: dict[int, dict[str, Any]] = {}
        for kind in self._kinds:
            indexes = [i for i, (owner, _) in enumerate(rows) if owner is kind]
            if not indexes:
                continue
            projection = _projection(
                kind.resource_type,
                access,
                query.attributes,
                query.excluded_attributes,
            )
            records = [rows[i][1] for i in indexes]
            for index, resource in zip(
                indexes, kind.render(records, base, projection), strict=True
            ):
                rendered[index] = resource
        return [rendered[i] for i in range(len(rows))]


class Me(_Endpoint[UserRecord]):
    """``/Me``: the user the bearer token belongs to (RFC 7644 §3.11).

    Read-only: users are provisioned by their identity provider, so a
    person changing their own record through SCIM would be overwritten by
    the next push; PUT, PATCH and DELETE are answered 405.
    """

    permissions = {"GET": Permission.READ_SELF}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        record = self._kind.get(str(_access(req).user_id))
        projection = Projection.parse(
            self._kind.resource_type,
            comma_list(req, "attributes"),
            comma_list(req, "excludedAttributes"),
        )
        self._render_one(req, resp, record, projection)
        resp.location = representation.location(
            "/Users", base_url(req, self._settings), record.id
        )


def _access(req: falcon.Request) -> Access:
    access: Access = req.context.access
    return access


def _projection(
    resource_type: ResourceType,
    access: Access,
    attributes: Sequence[str],
    excluded: Sequence[str],
) -> Projection:
    """What a response shows: what was asked, within what may be seen."""
    visible = access.visible_attributes(resource_type.name)
    if visible is None:
        return Projection.parse(resource_type, attributes, excluded)
    wanted = {name.lower() for name in visible}
    chosen = [name for name in attributes if name.lower() in wanted]
    if attributes and not chosen:
        # Asked only for hidden attributes: the id alone answers that.
        chosen = ["id"]
    return Projection.parse(resource_type, chosen or visible, ())


def _check_visible(
    resource_type: ResourceType, access: Access, selection: Selection
) -> None:
    """Refuse a filter or sort on attributes the caller may not read."""
    visible = access.visible_attributes(resource_type.name)
    if visible is None:
        return
    allowed = {"id", *visible}
    paths = [] if selection.filter is None else list(attribute_paths(selection.filter))
    if selection.sort_by is not None:
        paths.append(selection.sort_by)
    for path in paths:
        if path.schema is not None or path.name not in allowed:
            raise Forbidden(
                f"only admins may filter or sort {resource_type.endpoint} by {path}"
            )


def _precondition(req: falcon.Request) -> Precondition | None:
    """The ``If-Match`` of a write, if it has one."""
    tags = req.if_match
    if tags is None:
        return None
    if "*" in tags:
        return Precondition(versions=None)
    return Precondition(versions=frozenset(str(tag) for tag in tags))


def _matches_any(tags: list[Any] | None, version: int) -> bool:
    """Whether ``If-None-Match`` names this version (weak comparison)."""
    if not tags:
        return False
    return "*" in tags or str(version) in {str(tag) for tag in tags}


def _asks_for_attributes(req: falcon.Request) -> bool:
    return bool(comma_list(req, "attributes") or comma_list(req, "excludedAttributes"))
