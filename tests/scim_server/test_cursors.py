"""Cursors for cursor paging (RFC 9865): opaque, tamper-proof, bound, expiring."""

from __future__ import annotations

import base64
import datetime

import orjson
import pytest

from scim_server.cursors import (
    Cursor,
    CursorCodec,
    ExpiredCursor,
    InvalidCursor,
    fingerprint,
)
from storage.compiler import Position
from tests.conftest import START, FixedClock

LIFETIME = datetime.timedelta(hours=1)
KEY = b"k" * 32
QUERY = fingerprint("User", 'title eq "engineer"', "userName", False)


@pytest.fixture
def codec(clock: FixedClock) -> CursorCodec:
    return CursorCodec(KEY, clock, LIFETIME)


def cursor(value: object = "bjensen", *, backwards: bool = False) -> Cursor:
    return Cursor(Position(value=value, id=2819), backwards=backwards, query=QUERY)


@pytest.mark.parametrize(
    "original",
    [
        cursor("bjensen"),
        cursor(None),
        cursor(42),
        cursor(True),
        cursor(START),
        cursor(START.astimezone(datetime.timezone(datetime.timedelta(hours=2)))),
        cursor("bjensen", backwards=True),
    ],
)
def test_a_cursor_decodes_to_what_was_encoded(codec, original):
    assert codec.decode(codec.encode(original), QUERY) == original


def test_a_cursor_is_url_safe_text(codec):
    text = codec.encode(cursor("ünïcode / + ="))

    assert text.isascii()
    assert not set(text) - set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    )


@pytest.mark.parametrize(
    "other_query",
    [
        fingerprint("Group", 'title eq "engineer"', "userName", False),
        fingerprint("User", 'title eq "manager"', "userName", False),
        fingerprint("User", 'title eq "engineer"', "title", False),
        fingerprint("User", 'title eq "engineer"', "userName", True),
    ],
)
def test_a_cursor_is_refused_for_another_query(codec, other_query):
    text = codec.encode(cursor())

    with pytest.raises(InvalidCursor) as excinfo:
        codec.decode(text, other_query)

    assert excinfo.value.scim_type == "invalidCursor"
    assert "different filter or sort order" in excinfo.value.detail


def _payload(text: str) -> dict[str, object]:
    encoded = text.split(".")[0]
    return orjson.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


def _with_payload(text: str, payload: dict[str, object]) -> str:
    encoded = base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()
    return f"{encoded}.{text.split('.')[1]}"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"i": 1}, id="another-position"),
        pytest.param({"b": True}, id="another-direction"),
        pytest.param({"e": 4_102_444_800}, id="a-later-expiry"),
    ],
)
def test_a_tampered_cursor_is_refused(codec, change):
    text = codec.encode(cursor())
    forged = _with_payload(text, {**_payload(text), **change})

    with pytest.raises(InvalidCursor, match="not one this server issued"):
        codec.decode(forged, QUERY)


def test_a_cursor_from_a_server_with_another_key_is_refused(clock):
    elsewhere = CursorCodec(b"o" * 32, clock, LIFETIME).encode(cursor())

    with pytest.raises(InvalidCursor, match="not one this server issued"):
        CursorCodec(KEY, clock, LIFETIME).decode(elsewhere, QUERY)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "the cursor is malformed"),
        ("abc", "the cursor is malformed"),
        ("a.b.c", "the cursor is malformed"),
        ("é.é", "the cursor is malformed"),
        (".", "the cursor is not one this server issued"),
        ("e30.AAAA", "the cursor is not one this server issued"),
    ],
)
def test_malformed_cursors_are_refused(codec, text, detail):
    with pytest.raises(InvalidCursor) as excinfo:
        codec.decode(text, QUERY)

    assert excinfo.value.detail == detail


def test_a_cursor_works_until_its_lifetime_has_passed(codec, clock):
    text = codec.encode(cursor())
    clock.advance(seconds=LIFETIME.total_seconds())

    assert codec.decode(text, QUERY) == cursor()


def test_a_cursor_has_expired_once_its_lifetime_has_passed(codec, clock):
    text = codec.encode(cursor())
    clock.advance(seconds=LIFETIME.total_seconds() + 1)

    with pytest.raises(ExpiredCursor) as excinfo:
        codec.decode(text, QUERY)

    assert excinfo.value.scim_type == "expiredCursor"


def test_fingerprint_depends_on_where_each_part_ends():
    assert fingerprint("User", "ab", "c") != fingerprint("User", "a", "bc")
