"""The token string: ``scimpat_<key id>_<secret><checksum>``.

- ``scimpat_`` lets secret scanners and people recognise a leaked token.
- The key id names the server key whose HMAC of the token is stored, so keys
  can be rotated without invalidating older tokens.
- The secret is 32 base62 characters, about 190 bits of entropy.
- The checksum is the CRC32 of everything before it, in 6 base62 characters,
  so typos and garbage are rejected without a database read.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import string
import zlib

PREFIX = "scimpat_"
ALPHABET = string.digits + string.ascii_letters
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
KEY_ID_PATTERN = r"[a-z0-9]{1,16}"

_TOKEN = re.compile(
    rf"{PREFIX}(?P<key_id>{KEY_ID_PATTERN})_"
    rf"(?P<secret>[0-9A-Za-z]{{{SECRET_LENGTH}}})"
    rf"(?P<checksum>[0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)


class MalformedToken(ValueError):
    """The string is not shaped like a token or its checksum is wrong."""


@dataclasses.dataclass(frozen=True, slots=True)
class TokenParts:
    key_id: str
    secret: str


def base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def checksum(body: str) -> str:
    return base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def generate(key_id: str) -> str:
    """A new random token under ``key_id``."""
    secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
    body = f"{PREFIX}{key_id}_{secret}"
    return body + checksum(body)


def parse(token: str) -> TokenParts:
    """Split a token into its parts; raise MalformedToken if it is not one."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise MalformedToken("not a personal access token")
    body = token[:-CHECKSUM_LENGTH]
    if not secrets.compare_digest(checksum(body), match["checksum"]):
        raise MalformedToken("checksum mismatch")
    return TokenParts(key_id=match["key_id"], secret=match["secret"])


def hint(token: str) -> str:
    """A short, non-secret reminder of which token this is."""
    parts = parse(token)
    return f"{PREFIX}{parts.key_id}_{parts.secret[:4]}..."
