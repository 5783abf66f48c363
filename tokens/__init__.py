"""Personal access tokens: format, keys, policy, issue, verify, revoke.

A token is an opaque random secret with a recognisable prefix and a checksum,
looked up server-side by a keyed hash (HMAC-SHA256 under a key kept outside
the database), so that revoking it takes effect at once and a copy of the
database alone cannot produce or recognise a working token. What happens to
a token is recorded in an audit log. This package never imports Falcon or
``scim_server``: it can be used and tested without HTTP.
"""

from tokens.errors import (
    InvalidToken,
    KeyInUse,
    TokenNotFound,
    TokenPolicyError,
    TokenQuotaExceeded,
)
from tokens.introspection import introspect
from tokens.keys import KeyRing
from tokens.lifecycle import (
    IssuedToken,
    find_token,
    issue,
    list_tokens,
    retire_key,
    revoke,
    revoke_unused,
    rotate,
)
from tokens.policy import NO_EXPIRY, TokenPolicy
from tokens.verification import Principal, verify

__all__ = [
    "NO_EXPIRY",
    "InvalidToken",
    "IssuedToken",
    "KeyInUse",
    "KeyRing",
    "Principal",
    "TokenNotFound",
    "TokenPolicy",
    "TokenPolicyError",
    "TokenQuotaExceeded",
    "find_token",
    "introspect",
    "issue",
    "list_tokens",
    "retire_key",
    "revoke",
    "revoke_unused",
    "rotate",
    "verify",
]
