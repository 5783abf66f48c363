"""The rules tokens are issued and kept under: lifetimes, quota, idleness."""

from __future__ import annotations

import dataclasses
import datetime

from tokens.errors import TokenPolicyError

# Asked for as a lifetime, this means "never expires"; None means "the
# policy's default".
NO_EXPIRY = datetime.timedelta.max


@dataclasses.dataclass(frozen=True, slots=True)
class TokenPolicy:
    """Token rules; None in any field means "no limit"."""

    default_lifetime: datetime.timedelta | None
    max_lifetime: datetime.timedelta | None
    # Most live (neither revoked nor expired) tokens one user may hold.
    quota: int | None = None
    # Tokens unused for this long are revoked.
    unused_limit: datetime.timedelta | None = None

    def expiry(
        self, now: datetime.datetime, lifetime: datetime.timedelta | None
    ) -> datetime.datetime | None:
        """When a token asked for with ``lifetime`` expires (None: never).

        A lifetime above the maximum is refused rather than shortened, so the
        caller never holds a token that dies earlier than it asked for.
        """
        chosen = lifetime if lifetime is not None else self.default_lifetime
        if chosen == NO_EXPIRY:
            chosen = None
        if chosen is not None and chosen <= datetime.timedelta(0):
            raise TokenPolicyError("token lifetime must be positive")
        if self.max_lifetime is not None and (
            chosen is None or chosen > self.max_lifetime
        ):
            raise TokenPolicyError(f"token lifetime may not exceed {self.max_lifetime}")
        return None if chosen is None else now + chosen

    def unused_cutoff(self, now: datetime.datetime) -> datetime.datetime | None:
        """Tokens last used (or, never used, created) at or before this are idle.

        None when the policy never revokes tokens for being unused.
        """
        return None if self.unused_limit is None else now - self.unused_limit
