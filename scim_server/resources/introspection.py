"""Token introspection over HTTP (RFC 7662), at ``POST /oauth2/introspect``.

The path is the one OAuth 2.0 servers commonly use, outside ``/scim/v2``
because introspection is not part of SCIM. The caller authenticates with a
bearer token of its own, checked by the authentication middleware like any
other: it needs the ``INTROSPECT`` permission. The token to describe comes
form-encoded as RFC 7662 §2.1 says (``token=...``), or as a JSON object
``{"token": "..."}`` for clients that find that easier; ``token_type_hint``
is accepted and ignored, as §2.1 allows, since there is one kind of token.
"""

from __future__ import annotations

import falcon

from scim_server.authorization import Permission
from scim_server.bootstrap import token_policy
from scim_server.errors import InvalidSyntax
from scim_server.settings import Settings
from tokens import KeyRing, introspect


class Introspection:
    permissions = {"POST": Permission.INTROSPECT}

    def __init__(self, keys: KeyRing, settings: Settings) -> None:
        self._keys = keys
        self._policy = token_policy(settings)
        self._clock = settings.clock

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = _presented_token(req)

        answer = introspect(self._keys, token, now=self._clock(), policy=self._policy)

        resp.media = answer
        resp.content_type = falcon.MEDIA_JSON
        # The answer describes a credential; no cache should keep it.
        resp.cache_control = ["no-store"]


def _presented_token(req: falcon.Request) -> str:
    body = req.get_media(default_when_empty=None)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise InvalidSyntax("the request needs one token parameter (RFC 7662 §2.1)")
    return token
