"""Token introspection (RFC 7662): what another service may learn of a token.

A service that receives one of our tokens asks who it belongs to and what
groups that person is in, instead of holding any key itself. The answer is
built by ``verify``, so it is exactly as current as verification here: a
token refused for any reason is ``{"active": false}`` and nothing more
(RFC 7662 §2.2). Introspection counts as a use of the token, without a
client address, since the client spoke to the other service, not to us.
"""

from __future__ import annotations

import datetime
from typing import Any

from storage import users as user_store
from tokens.errors import InvalidToken
from tokens.keys import KeyRing
from tokens.policy import TokenPolicy
from tokens.scopes import ALL_SCOPES
from tokens.verification import verify

INACTIVE: dict[str, Any] = {"active": False}


def introspect(
    keys: KeyRing,
    token: str,
    *,
    now: datetime.datetime,
    policy: TokenPolicy | None = None,
) -> dict[str, Any]:
    """The RFC 7662 §2.2 answer for ``token``, as a JSON-ready dict.

    ``scope`` lists the token's scopes, or every scope for a token that
    carries its owner's full rights. A personal access token has no OAuth
    client, so ``client_id`` and ``jti`` both carry the token's id.
    """
    try:
        principal = verify(keys, token, now=now, policy=policy)
    except InvalidToken:
        return dict(INACTIVE)
    scopes = ALL_SCOPES if principal.scopes is None else principal.scopes
    answer: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer",
        "scope": " ".join(sorted(scopes)),
        "client_id": str(principal.token_id),
        "jti": str(principal.token_id),
        "sub": str(principal.user_id),
        "username": principal.user_name,
        "iat": int(principal.created.timestamp()),
        "groups": group_names(principal.user_id),
    }
    if principal.expires is not None:
        answer["exp"] = int(principal.expires.timestamp())
    return answer


def group_names(user_id: int) -> list[str]:
    """The display names of the groups the user belongs to, sorted.

    Whatever ``storage.users.groups_of_users`` counts as membership counts
    here: this is the one place introspection learns about groups.
    """
    memberships = user_store.groups_of_users([user_id])[user_id]
    return sorted({group.display for group in memberships})
