"""Server settings, read from ``SCIM_*`` environment variables.

Every setting has a default that works on a laptop; the README lists them.
The clock and id source are settings too, so tests inject fixed ones instead
of patching modules.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from storage.ids import IdSource, random_id

Clock = Callable[[], datetime.datetime]

_DURATION = re.compile(r"(?P<number>\d+)\s*(?P<unit>[smhdw]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# A century: a longer limit is no limit in practice, and a far longer one
# would put the sweep's cutoff before the year 1, which datetime cannot hold.
MAX_UNUSED_DAYS = 36_500


class SettingsError(ValueError):
    """An environment variable holds a value that cannot be used."""


def utc_now() -> datetime.datetime:
    """Now, to the millisecond.

    Resources show their times to the millisecond, the precision SCIM
    clients parse; storing more would make a resource's own
    ``meta.lastModified`` fail to match itself in a filter.
    """
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def parse_duration(text: str) -> datetime.timedelta | None:
    """``90d``, ``12h``, ``30m``, ``45s``, ``3600`` (seconds); ``never`` -> None."""
    cleaned = text.strip().lower()
    if cleaned in {"never", "none", "0"}:
        return None
    match = _DURATION.fullmatch(cleaned)
    if match is None:
        raise SettingsError(f"{text!r} is not a duration such as 90d, 12h or 3600")
    return datetime.timedelta(
        seconds=int(match["number"]) * _UNIT_SECONDS[match["unit"]]
    )


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""
    # Public base URL of the server, such as https://scim.example.com, used in
    # meta.location and Location headers. Empty: taken from each request.
    base_url: str = ""
    default_page_size: int = 100
    max_page_size: int = 1000
    token_key_file: Path = Path()
    token_default_lifetime: datetime.timedelta | None = datetime.timedelta(days=90)
    token_max_lifetime: datetime.timedelta | None = datetime.timedelta(days=365)
    # Most live tokens one user may hold; 0 for no limit.
    token_quota: int = 100
    # Tokens unused for this many days are revoked; 0 never revokes them.
    token_unused_days: int = 0
    password_log2_n: int = 15
    database_pool_size: int = 8
    cursor_lifetime: datetime.timedelta = datetime.timedelta(hours=1)
    # Limits of a Bulk request, published in /ServiceProviderConfig.
    bulk_max_operations: int = 1000
    bulk_max_payload_size: int = 1_048_576
    clock: Clock = utc_now
    id_source: IdSource = random_id

    def __post_init__(self) -> None:
        # Paths and URL derive from data_dir unless set explicitly.
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{self.data_dir / 'scim.sqlite3'}"
            )
        if self.token_key_file == Path():
            object.__setattr__(
                self, "token_key_file", self.data_dir / "token-keys.json"
            )
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise SettingsError(
                "SCIM_DEFAULT_PAGE_SIZE must be between 1 and SCIM_MAX_PAGE_SIZE"
            )
        bulk_limits = {
            "SCIM_BULK_MAX_OPERATIONS": self.bulk_max_operations,
            "SCIM_BULK_MAX_PAYLOAD_SIZE": self.bulk_max_payload_size,
        }
        for name, limit in bulk_limits.items():
            if limit < 1:
                raise SettingsError(f"{name} must be at least 1")
        # scrypt needs n = 2^value > 1; at 2^20 one hash already takes 1 GiB.
        if not 1 <= self.password_log2_n <= 20:
            raise SettingsError("SCIM_PASSWORD_SCRYPT_LOG2_N must be between 1 and 20")
        if self.token_quota < 0:
            raise SettingsError("SCIM_TOKEN_QUOTA must be 0 (no limit) or more")
        if not 0 <= self.token_unused_days <= MAX_UNUSED_DAYS:
            raise SettingsError(
                "SCIM_TOKEN_UNUSED_DAYS must be between 0 (never revoke unused"
                f" tokens) and {MAX_UNUSED_DAYS}"
            )
        maximum, default = self.token_max_lifetime, self.token_default_lifetime
        if maximum is not None and (default is None or default > maximum):
            raise SettingsError(
                "SCIM_TOKEN_DEFAULT_LIFETIME must not exceed SCIM_TOKEN_MAX_LIFETIME,"
                " or every token asked for without a lifetime would be refused"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def text(name: str, default: str) -> str:
            return env.get(name, "").strip() or default

        def integer(name: str, default: int) -> int:
            raw = text(name, str(default))
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{name}={raw!r} is not an integer") from None

        def duration(name: str, default: str) -> datetime.timedelta | None:
            try:
                return parse_duration(text(name, default))
            except SettingsError as ex:
                raise SettingsError(f"{name}: {ex}") from None

        cursor_lifetime = duration("SCIM_CURSOR_LIFETIME", "1h")
        if cursor_lifetime is None:
            # A cursor that never expires would pin old positions forever.
            raise SettingsError("SCIM_CURSOR_LIFETIME must be a positive duration")

        return cls(
            data_dir=Path(text("SCIM_DATA_DIR", "data")),
            database_url=text("SCIM_DATABASE_URL", ""),
            base_url=text("SCIM_BASE_URL", "").rstrip("/"),
            default_page_size=integer("SCIM_DEFAULT_PAGE_SIZE", 100),
            max_page_size=integer("SCIM_MAX_PAGE_SIZE", 1000),
            token_key_file=Path(text("SCIM_TOKEN_KEY_FILE", "")),
            token_default_lifetime=duration("SCIM_TOKEN_DEFAULT_LIFETIME", "90d"),
            token_max_lifetime=duration("SCIM_TOKEN_MAX_LIFETIME", "365d"),
            token_quota=integer("SCIM_TOKEN_QUOTA", 100),
            token_unused_days=integer("SCIM_TOKEN_UNUSED_DAYS", 0),
            password_log2_n=integer("SCIM_PASSWORD_SCRYPT_LOG2_N", 15),
            database_pool_size=integer("SCIM_DATABASE_POOL_SIZE", 8),
            bulk_max_operations=integer("SCIM_BULK_MAX_OPERATIONS", 1000),
            bulk_max_payload_size=integer("SCIM_BULK_MAX_PAYLOAD_SIZE", 1_048_576),
            cursor_lifetime=cursor_lifetime,
        )
