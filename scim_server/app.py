"""The application factory: ``create_app(settings)`` builds the WSGI app."""

from __future__ import annotations

import logging
from typing import Any

import storage
from scim_server import App, errors, media
from scim_server.bootstrap import token_policy
from scim_server.cursors import CursorCodec
from scim_server.databricks import DatabricksGroups, DatabricksTokens
from scim_server.middleware import BearerAuthentication, DatabaseSession, RequestId
from scim_server.passwords import PasswordHasher
from scim_server.provisioning import Provisioning
from scim_server.resources import bulk, databricks, discovery
from scim_server.resources.introspection import Introspection
from scim_server.resources.scim import (
    Collection,
    Item,
    Kind,
    Me,
    RecordT,
    RootSearch,
    Search,
    group_kind,
    user_kind,
)
from scim_server.settings import Settings
from storage.migrations import check_version
from tokens import KeyRing

log = logging.getLogger(__name__)

SCIM_PREFIX = "/scim/v2"
DATABRICKS_SCIM_PREFIX = "/api/2.0/preview/scim/v2"


def create_app(settings: Settings, keys: KeyRing | None = None) -> App:
    """Connect to the database and build the app that serves it.

    ``keys`` defaults to the key file named in the settings; tests pass a ring
    of their own.
    """
    db = storage.connect(settings.database_url, pool_size=settings.database_pool_size)
    with db.connection_context():
        check_version(db)
    ring = keys if keys is not None else KeyRing.load(settings.token_key_file)

    middleware: list[Any] = [
        RequestId(),
        DatabaseSession(),
        BearerAuthentication(ring, settings.clock, token_policy(settings)),
    ]
    app = App(middleware=middleware)
    # "/Users/" and "/Users" are the same collection to every SCIM client.
    app.req_options.strip_url_path_trailing_slash = True
    # RFC 9865 starts cursor paging with a bare "?cursor".
    app.req_options.keep_blank_qs_values = True
    media.install(app)
    errors.register(app)
    _add_routes(app, settings, ring)
    return app


def _add_routes(app: App, settings: Settings, keys: KeyRing) -> None:
    provisioning = Provisioning(
        settings=settings, passwords=PasswordHasher(log2_n=settings.password_log2_n)
    )
    app.add_route(
        f"{SCIM_PREFIX}/ServiceProviderConfig",
        discovery.ServiceProviderConfig(settings),
    )
    schemas = discovery.Schemas()
    app.add_route(f"{SCIM_PREFIX}/Schemas", schemas)
    app.add_route(f"{SCIM_PREFIX}/Schemas/{{schema_id}}", schemas, suffix="item")
    resource_types = discovery.ResourceTypes()
    app.add_route(f"{SCIM_PREFIX}/ResourceTypes", resource_types)
    app.add_route(
        f"{SCIM_PREFIX}/ResourceTypes/{{name}}", resource_types, suffix="item"
    )
    app.add_route("/oauth2/introspect", Introspection(keys, settings))
    cursors = CursorCodec(
        keys.keys[keys.current], settings.clock, settings.cursor_lifetime
    )
    users = user_kind(provisioning)
    kinds: list[Kind[Any]] = [users, group_kind(provisioning)]
    # Databricks clients look for SCIM under their own prefix; the same
    # resources answer there.
    for prefix in (SCIM_PREFIX, DATABRICKS_SCIM_PREFIX):
        for kind in kinds:
            _add_kind(app, prefix, kind, settings, cursors)
        app.add_route(f"{prefix}/Me", Me(users, settings, cursors))
    app.add_route(f"{SCIM_PREFIX}/.search", RootSearch(kinds, settings))
    app.add_route(f"{SCIM_PREFIX}/Bulk", bulk.Bulk(provisioning, settings))
    databricks.add_routes(app, DatabricksGroups(provisioning))
    databricks.add_token_routes(
        app, DatabricksTokens(keys, token_policy(settings), settings.clock)
    )


def _add_kind(
    app: App,
    prefix: str,
    kind: Kind[RecordT],
    settings: Settings,
    cursors: CursorCodec,
) -> None:
    endpoint = f"{prefix}{kind.resource_type.endpoint}"
    app.add_route(endpoint, Collection(kind, settings, cursors))
    app.add_route(f"{endpoint}/.search", Search(kind, settings, cursors))
    app.add_route(f"{endpoint}/{{id}}", Item(kind, settings, cursors))
