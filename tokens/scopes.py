"""Token scopes: what a token may be used for, within its owner's rights.

A token issued without scopes carries everything its owner may do, and its
``scopes`` are None. A token issued with scopes may do only what both the
scopes and its owner's rights allow: a scope never grants a right the owner
lacks. The authorisation layer maps each scope to the permissions it stands
for; this module only names them and checks requests for them.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokens.errors import TokenPolicyError

SCIM_READ = "scim:read"
"""Read users and groups over SCIM."""

SCIM_WRITE = "scim:write"
"""Create, change and delete users and groups over SCIM; implies reading."""

TOKENS = "tokens"
"""List, create, rotate and revoke tokens through the API."""

INTROSPECT = "introspect"
"""Ask the introspection endpoint about other tokens (RFC 7662)."""

ALL_SCOPES = frozenset({SCIM_READ, SCIM_WRITE, TOKENS, INTROSPECT})

Scopes = frozenset[str] | None


def parse_scopes(requested: Iterable[str] | None) -> Scopes:
    """The scopes to issue a token with, from what a caller asked for.

    None asks for the owner's full rights. Names may also come joined by
    spaces, as OAuth writes them (RFC 6749 §3.3). Unknown names and an
    empty list are refused rather than ignored: a token that can do less
    than its holder believes fails later and far from the cause.
    """
    if requested is None:
        return None
    names = frozenset(name for text in requested for name in text.split())
    unknown = names - ALL_SCOPES
    if unknown:
        raise TokenPolicyError(
            f"unknown scope {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(sorted(ALL_SCOPES))}"
        )
    if not names:
        raise TokenPolicyError(
            "a token needs at least one scope; leave scopes out for full rights"
        )
    return names


def within(requested: Scopes, ceiling: Scopes) -> bool:
    """Whether a token with ``requested`` scopes could do no more than ``ceiling``.

    A token that creates or rotates another must not hand out more than it
    holds itself.
    """
    if ceiling is None:
        return True
    return requested is not None and requested <= ceiling
