"""Cursors for cursor-based paging of list results (RFC 9865).

A cursor names a position in one query's order: the sort value and id of
the row a page ended at, the direction to go on in, the query it belongs to
and when it expires. It is opaque and tamper-proof (an HMAC under a key
derived from the server's token key), but grants nothing: every page is an
ordinary request, authenticated and authorised afresh. Because the position
is a key and not an offset, the next page is a seek on the database's index,
and resources added or removed meanwhile shift nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import hmac
from typing import Any

import orjson

from scim_server.errors import SCIMError
from scim_server.settings import Clock
from storage.compiler import Position

SIGNATURE_BYTES = 16


class InvalidCursor(SCIMError):
    scim_type = "invalidCursor"


class ExpiredCursor(SCIMError):
    scim_type = "expiredCursor"


@dataclasses.dataclass(frozen=True)
class Cursor:
    position: Position
    backwards: bool
    query: str  # fingerprint of the query the cursor belongs to


def fingerprint(*parts: str | bool | None) -> str:
    """A short digest of what defines a result order: type, filter, sort."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class CursorCodec:
    def __init__(self, key: bytes, clock: Clock, lifetime: datetime.timedelta) -> None:
        # A key of its own, so that a cursor's MAC can never double as
        # anything a token key signs.
        self._key = hmac.new(key, b"scim cursor key", hashlib.sha256).digest()
        self._clock = clock
        self._lifetime = lifetime

    @property
    def timeout_seconds(self) -> int:
        return int(self._lifetime.total_seconds())

    def encode(self, cursor: Cursor) -> str:
        expires = self._clock() + self._lifetime
        payload = orjson.dumps(
            {
                "v": _encode_value(cursor.position.value),
                "i": cursor.position.id,
                "b": cursor.backwards,
                "q": cursor.query,
                "e": int(expires.timestamp()),
            }
        )
        signature = hmac.new(self._key, payload, hashlib.sha256).digest()
        return f"{_b64(payload)}.{_b64(signature[:SIGNATURE_BYTES])}"

    def decode(self, text: str, query: str) -> Cursor:
        """Check and open a cursor for ``query``; raise InvalidCursor or
        ExpiredCursor (RFC 9865) when it cannot be used."""
        try:
            payload_text, signature_text = text.split(".")
            payload = _unb64(payload_text)
            signature = _unb64(signature_text)
        except ValueError:
            raise InvalidCursor("the cursor is malformed") from None
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(expected[:SIGNATURE_BYTES], signature):
            raise InvalidCursor("the cursor is not one this server issued")
        data = orjson.loads(payload)
        if data["q"] != query:
            raise InvalidCursor(
                "the cursor belongs to a different filter or sort order"
            )
        if data["e"] < self._clock().timestamp():
            raise ExpiredCursor("the cursor has expired; start again")
        position = Position(value=_decode_value(data["v"]), id=data["i"])
        return Cursor(position=position, backwards=data["b"], query=data["q"])


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return datetime.datetime.fromisoformat(value["t"])
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as ex:
        raise ValueError("not base64") from ex
