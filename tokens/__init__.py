"""Personal access tokens: format, keys, issue and verify.

A token is an opaque random secret with a recognisable prefix and a checksum,
looked up server-side by a keyed hash (HMAC-SHA256 under a key kept outside
the database), so that revoking it takes effect at once and a copy of the
database alone cannot produce or recognise a working token. This package
never imports Falcon or ``scim_server``.
"""

from tokens.errors import InvalidToken
from tokens.keys import KeyRing
from tokens.lifecycle import IssuedToken, Principal, issue, verify

__all__ = ["InvalidToken", "IssuedToken", "KeyRing", "Principal", "issue", "verify"]
