"""The discovery endpoints (RFC 7644 §4), readable without a token."""

from __future__ import annotations

import falcon

from scim_server.errors import Forbidden, NotFound
from scim_server.listing import Page, list_response
from scim_server.schema import SERVICE_PROVIDER_CONFIG_SCHEMA, resource_types
from scim_server.settings import Settings


class ServiceProviderConfig:
    """What this server supports, stated only as far as it works (RFC 7643 §5)."""

    auth_required = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {
            "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
            "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
            "patch": {"supported": True},
            "bulk": {
                "supported": True,
                "maxOperations": self._settings.bulk_max_operations,
                "maxPayloadSize": self._settings.bulk_max_payload_size,
            },
            "filter": {"supported": True, "maxResults": self._settings.max_page_size},
            "changePassword": {"supported": True},
            "sort": {"supported": True},
            "etag": {"supported": True},
            # RFC 9865 §4: both kinds of paging, and their limits.
            "pagination": {
                "cursor": True,
                "index": True,
                "defaultPaginationMethod": "index",
                "defaultPageSize": self._settings.default_page_size,
                "maxPageSize": self._settings.max_page_size,
                "cursorTimeout": int(self._settings.cursor_lifetime.total_seconds()),
            },
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "Personal access token",
                    "description": (
                        "Send a personal access token in the Authorization "
                        "header: 'Authorization: Bearer scimpat_...'"
                    ),
                    "primary": True,
                }
            ],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": f"{base_url(req, self._settings)}/ServiceProviderConfig",
            },
        }


class Schemas:
    auth_required = False

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _refuse_filter(req)
        documents = [
            dict(schema.document)
            for resource_type in resource_types()
            for schema in resource_type.schemas()
        ]
        page = Page(start_index=1, count=len(documents))
        resp.media = list_response(documents, len(documents), page)

    def on_get_item(
        self, req: falcon.Request, resp: falcon.Response, schema_id: str
    ) -> None:
        for resource_type in resource_types():
            for schema in resource_type.schemas():
                if schema.id.lower() == schema_id.lower():
                    resp.media = dict(schema.document)
                    return
        raise NotFound(f"no schema {schema_id}")


class ResourceTypes:
    auth_required = False

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _refuse_filter(req)
        documents = [resource_type.document() for resource_type in resource_types()]
        page = Page(start_index=1, count=len(documents))
        resp.media = list_response(documents, len(documents), page)

    def on_get_item(
        self, req: falcon.Request, resp: falcon.Response, name: str
    ) -> None:
        for resource_type in resource_types():
            if resource_type.name.lower() == name.lower():
                resp.media = resource_type.document()
                return
        raise NotFound(f"no resource type {name}")


def base_url(req: falcon.Request, settings: Settings) -> str:
    """The URL that resource locations start with, ending in ``/scim/v2``."""
    root = settings.base_url or req.prefix
    return f"{root}/scim/v2"


def _refuse_filter(req: falcon.Request) -> None:
    """RFC 7644 §4: discovery lists take no filter, and answer one with 403.

    Answering 200 with everything would let a client believe that what it
    got matched its filter.
    """
    if req.get_param("filter"):
        raise Forbidden("/Schemas and /ResourceTypes cannot be filtered")
