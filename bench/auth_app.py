"""The SCIM app with a pass-through authenticator, for bench/auth.py.

``bench/auth.py`` serves ``auth_app:application`` with the SCIM server's own
gunicorn command line, beside ``scim-server serve`` and on the same
database. The app is what ``create_app(settings)`` builds, with one
difference: where ``BearerAuthentication`` stood, a middleware gives every
protected request the access of the admin that ``scim-server init`` created,
verifying nothing. What the server loses to authentication is then the gap
between the two.

The substitution lives here, not in the server: the server has no setting
that turns authentication off, and must never have one.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import falcon

import scim_server.app
import storage
from scim_server import App
from scim_server.authorization import Access, access_for
from scim_server.settings import Settings
from storage import directory
from storage import groups as group_store
from storage import users as user_store
from tokens import Principal, list_tokens


class PassThroughAuthentication:
    """Give every protected request the seeded admin's access, checking nothing.

    It leaves ``req.context`` as ``BearerAuthentication`` leaves it for the
    admin's token, but reads no header, verifies no token and asks
    ``authorize`` nothing.
    """

    def __init__(self, access: Access) -> None:
        self._access = access

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: Any,
        params: dict[str, Any],
    ) -> None:
        if resource is None or not getattr(resource, "auth_required", True):
            return
        req.context.principal = self._access.principal
        req.context.access = self._access


def seeded_admin(settings: Settings) -> Access:
    """The access of the one token ``scim-server init`` issued, read back.

    Built as ``BearerAuthentication`` builds it, from a ``Principal`` and
    ``access_for``, with every field taken from the database.
    """
    db = storage.connect(settings.database_url)
    with db.connection_context():
        issued = list_tokens()
        if len(issued) != 1:
            raise RuntimeError(
                f"expected the one token of scim-server init, found {len(issued)}"
            )
        token = issued[0]
        user = user_store.get_user(token.user_id)
        admins = group_store.get_builtin_group("admins")
        if not directory.is_direct_member(admins.id, user.id):
            raise RuntimeError(f"{user.user_name} is not in admins")
    principal = Principal(
        user_id=user.id,
        user_name=user.user_name,
        token_id=token.id,
        is_admin=True,
        scopes=token.scopes,
        created=token.created,
        expires=token.expires,
    )
    return access_for(principal, principal.scopes)


def create_pass_through_app(settings: Settings) -> App:
    """``create_app(settings)``, with ``PassThroughAuthentication`` in place.

    ``create_app`` offers no way to choose its authenticator, so the name it
    builds one by is bound to the pass-through for the length of the call.
    Every other part of the app comes from ``create_app`` itself and cannot
    drift from what the server runs.
    """
    access = seeded_admin(settings)
    built: list[PassThroughAuthentication] = []

    def substitute(*args: Any, **kwargs: Any) -> PassThroughAuthentication:
        built.append(PassThroughAuthentication(access))
        return built[-1]

    with mock.patch.object(scim_server.app, "BearerAuthentication", substitute):
        app = scim_server.app.create_app(settings)
    if len(built) != 1:
        # Otherwise this app would authenticate like the server, and the
        # benchmark would compare the server with itself without saying so.
        raise RuntimeError(
            "create_app no longer builds scim_server.app.BearerAuthentication: "
            "bench/auth_app.py must be changed to match"
        )
    return app


application = create_pass_through_app(Settings.from_env())
