"""The token string: its shape, its checksum and its hint."""

from __future__ import annotations

import logging
import re

import pytest

from storage.models import AccessToken
from tokens import InvalidToken, KeyRing, verify
from tokens import format as token_format
from tokens.format import MalformedToken

KEY_ID = "k1"

# "scimpat_" + "k1" + "_" + 32 secret characters + 6 checksum characters.
TOKEN_LENGTH = 8 + len(KEY_ID) + 1 + 32 + 6


@pytest.fixture
def token() -> str:
    return token_format.generate(KEY_ID)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(current=KEY_ID, keys={KEY_ID: b"k" * 32})


def peewee_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The SQL statements Peewee logged while the capture was at DEBUG."""
    return [record for record in caplog.records if record.name == "peewee"]


def test_parse_returns_the_key_id_and_secret_that_generate_used(token):
    parts = token_format.parse(token)

    assert parts.key_id == KEY_ID
    assert token.startswith(f"scimpat_{KEY_ID}_{parts.secret}")
    assert re.fullmatch(r"[0-9A-Za-z]{32}", parts.secret)


def test_generated_token_is_prefix_key_id_secret_and_checksum(token):
    assert len(token) == TOKEN_LENGTH
    assert re.fullmatch(rf"scimpat_{KEY_ID}_[0-9A-Za-z]{{38}}", token)


def test_each_token_has_a_secret_of_its_own():
    first, second = (token_format.generate(KEY_ID) for _ in range(2))

    assert token_format.parse(first).secret != token_format.parse(second).secret


def _substitute(text: str, position: int) -> str:
    # Any other character will do; the next one in the alphabet keeps the
    # token's shape wherever the original was alphanumeric, so the checksum
    # alone has to catch the change.
    original = text[position]
    alphabet = token_format.ALPHABET
    replacement = alphabet[(alphabet.find(original) + 1) % len(alphabet)]
    return text[:position] + replacement + text[position + 1 :]


@pytest.mark.parametrize("position", range(TOKEN_LENGTH))
def test_changing_any_one_character_is_detected(token, position):
    changed = _substitute(token, position)

    with pytest.raises(MalformedToken):
        token_format.parse(changed)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda token: "", id="empty"),
        pytest.param(lambda token: "garbage", id="garbage"),
        pytest.param(lambda token: "ghp_" + token[8:], id="another-prefix"),
        pytest.param(lambda token: token.upper(), id="upper-cased"),
        pytest.param(lambda token: token[:-1], id="too-short"),
        pytest.param(lambda token: token + "0", id="too-long"),
        pytest.param(lambda token: token + "\n", id="trailing-newline"),
        pytest.param(lambda token: f"Bearer {token}", id="with-scheme"),
        pytest.param(lambda token: token[:20] + "é" + token[21:], id="non-ascii"),
        pytest.param(
            lambda token: token[:20] + "\uff11" + token[21:], id="fullwidth-digit"
        ),
        pytest.param(
            lambda token: token.replace(f"_{KEY_ID}_", "_" + "k" * 17 + "_"),
            id="key-id-too-long",
        ),
    ],
)
def test_malformed_tokens_are_rejected_without_a_database_read(
    token, mangle, ring, clock, caplog
):
    text = mangle(token)

    with pytest.raises(MalformedToken):
        token_format.parse(text)
    with caplog.at_level(logging.DEBUG, logger="peewee"), pytest.raises(InvalidToken):
        verify(ring, text, now=clock())

    assert peewee_records(caplog) == []


def test_token_under_a_key_not_in_the_ring_is_rejected_without_a_database_read(
    ring, clock, caplog
):
    token = token_format.generate("retired")

    with caplog.at_level(logging.DEBUG, logger="peewee"), pytest.raises(InvalidToken):
        verify(ring, token, now=clock())

    assert peewee_records(caplog) == []


def test_hint_names_the_key_and_reveals_at_most_four_secret_characters(token):
    secret = token_format.parse(token).secret

    hint = token_format.hint(token)

    assert hint.startswith(f"scimpat_{KEY_ID}_")
    assert secret[:4] in hint
    assert not any(secret[i : i + 5] in hint for i in range(len(secret) - 4))


@pytest.mark.parametrize("key_id", ["a", "k" * 16])
def test_hint_fits_the_column_that_stores_it(key_id):
    hint = token_format.hint(token_format.generate(key_id))

    assert len(hint) <= AccessToken.hint.max_length


def test_hint_of_a_malformed_token_raises():
    with pytest.raises(MalformedToken):
        token_format.hint("scimpat_k1_tooshort")
