"""Errors raised by the token package."""


class InvalidToken(Exception):
    """The presented token cannot be used: malformed, unknown, expired, revoked.

    Callers get no more detail than this on purpose: telling an attacker why a
    token failed helps them. The reason is logged at debug level only.
    """


class TokenPolicyError(ValueError):
    """A token request breaks the token policy (lifetime, owner, ...)."""


class TokenQuotaExceeded(TokenPolicyError):
    """The owner already holds as many live tokens as the policy allows."""

    def __init__(self, user_id: int, quota: int) -> None:
        super().__init__(
            f"user {user_id} already has {quota} live tokens, the most allowed;"
            " revoke one before creating another"
        )
        self.user_id = user_id
        self.quota = quota


class TokenNotFound(LookupError):
    """No token has the given id."""

    def __init__(self, token_id: int) -> None:
        super().__init__(f"no token {token_id}")
        self.token_id = token_id


class KeyInUse(TokenPolicyError):
    """A key cannot be retired while live tokens still depend on it."""
