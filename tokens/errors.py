"""The one error that token verification raises."""


class InvalidToken(Exception):
    """The presented token cannot be used: malformed, unknown, expired, revoked.

    Callers get no more detail than this on purpose: telling an attacker why a
    token failed helps them. The reason is logged at debug level only.
    """


class TokenPolicyError(ValueError):
    """A token request breaks the token policy (lifetime, owner, ...)."""
