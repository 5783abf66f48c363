"""Password hashing with scrypt: what is kept, and what verifies against it."""

from __future__ import annotations

import base64

import pytest

from scim_server.passwords import HASH_BYTES, SALT_BYTES, PasswordHasher

PASSWORD = "t1meMa$heen"

# The lowest cost scrypt allows keeps these tests fast; the cost is recorded
# in each hash, so nothing here depends on it.
hasher = PasswordHasher(log2_n=1)


@pytest.fixture(scope="module")
def encoded() -> str:
    return hasher.hash(PASSWORD)


def test_the_password_verifies_against_its_hash(encoded):
    assert hasher.verify(PASSWORD, encoded) is True


@pytest.mark.parametrize(
    "attempt",
    ["", "t1memA$heen", "t1meMa$heen ", "t1meMa$hee", PASSWORD.upper()],
)
def test_any_other_password_does_not(encoded, attempt):
    assert hasher.verify(attempt, encoded) is False


def test_hash_records_its_parameters_salt_and_digest(encoded):
    scheme, parameters, salt, digest = encoded.split("$")

    assert (scheme, parameters) == ("scrypt", "ln=1,r=8,p=1")
    assert len(base64.b64decode(salt)) == SALT_BYTES
    assert len(base64.b64decode(digest)) == HASH_BYTES


def test_hash_never_contains_the_password(encoded):
    assert PASSWORD not in encoded
    assert base64.b64encode(PASSWORD.encode()).decode() not in encoded


def test_each_hash_has_a_salt_of_its_own():
    first, second = hasher.hash(PASSWORD), hasher.hash(PASSWORD)

    assert first.split("$")[2] != second.split("$")[2]
    assert first != second


def test_a_hash_made_at_another_cost_still_verifies(encoded):
    # Raising the cost must not lock out users whose hashes predate it.
    costlier = PasswordHasher(log2_n=2)

    assert costlier.verify(PASSWORD, encoded) is True
    assert costlier.hash(PASSWORD).split("$")[1] == "ln=2,r=8,p=1"


def test_non_ascii_passwords_verify():
    encoded = hasher.hash("pässwörd😀")

    assert hasher.verify("pässwörd😀", encoded) is True
    assert hasher.verify("passwort😀", encoded) is False


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda text: "", id="empty"),
        pytest.param(lambda text: text.replace("scrypt", "bcrypt"), id="other-scheme"),
        pytest.param(lambda text: text.rsplit("$", 1)[0], id="no-digest"),
        pytest.param(lambda text: text + "$extra", id="extra-field"),
        pytest.param(lambda text: text.replace("ln=1,", ""), id="no-cost"),
        pytest.param(lambda text: text.replace("ln=1", "ln=one"), id="bad-cost"),
        pytest.param(lambda text: text.replace("r=8", "r"), id="bad-parameter"),
        pytest.param(lambda text: text[:-8] + "!!!!!!!=", id="digest-not-base64"),
    ],
)
def test_a_malformed_hash_verifies_nothing(encoded, mangle):
    assert hasher.verify(PASSWORD, mangle(encoded)) is False
