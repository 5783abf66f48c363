"""The key ring and the file that keeps it."""

from __future__ import annotations

import base64
import stat

import orjson
import pytest

from tokens import format as token_format
from tokens.keys import KEY_BYTES, KeyFileError, KeyRing, load_or_create

KEY = base64.b64encode(b"k" * KEY_BYTES).decode()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "secrets" / "token-keys.json"


def test_load_returns_the_ring_that_save_wrote(path):
    ring = KeyRing.generate()

    ring.save(path)

    assert KeyRing.load(path) == ring


def test_generated_ring_has_one_full_length_key_that_is_current():
    ring = KeyRing.generate()

    assert list(ring.keys) == [ring.current]
    assert len(ring.keys[ring.current]) == KEY_BYTES


def test_generated_key_id_can_be_carried_by_a_token():
    ring = KeyRing.generate()

    token = token_format.generate(ring.current)

    assert token_format.parse(token).key_id == ring.current


def test_saved_file_is_readable_by_its_owner_only(path):
    KeyRing.generate().save(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_replaces_the_file_and_leaves_no_partial_copy(path):
    first, second = KeyRing.generate(), KeyRing.generate()
    first.save(path)

    second.save(path)

    assert KeyRing.load(path) == second
    assert [child.name for child in path.parent.iterdir()] == [path.name]


def _write(path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[]", id="a-list"),
        pytest.param(b"null", id="null"),
        pytest.param(orjson.dumps({"keys": {"a": KEY}}), id="no-current"),
        pytest.param(orjson.dumps({"current": "a"}), id="no-keys"),
        pytest.param(
            orjson.dumps({"current": "a", "keys": {"a": "not base64!"}}),
            id="key-not-base64",
        ),
        pytest.param(
            orjson.dumps({"current": "a", "keys": {"a": 42}}), id="key-not-a-string"
        ),
        pytest.param(
            orjson.dumps({"current": ["a"], "keys": {"a": KEY}}),
            id="current-not-a-string",
        ),
        pytest.param(
            orjson.dumps({"current": "b", "keys": {"a": KEY}}),
            id="current-not-in-ring",
        ),
        pytest.param(
            orjson.dumps({"current": "a", "keys": [KEY]}),
            id="keys-a-list",
        ),
        pytest.param(
            orjson.dumps({"current": "a", "keys": {"a": ""}}),
            id="empty-key",
        ),
    ],
)
def test_load_of_a_bad_file_raises_key_file_error_naming_the_path(path, content):
    _write(path, content)

    with pytest.raises(KeyFileError) as excinfo:
        KeyRing.load(path)

    assert str(path) in str(excinfo.value)


def test_load_of_a_missing_file_says_how_to_create_one(path):
    with pytest.raises(KeyFileError) as excinfo:
        KeyRing.load(path)

    assert str(path) in str(excinfo.value)
    assert "scim-server init" in str(excinfo.value)


def test_load_of_a_directory_raises_key_file_error(path):
    path.mkdir(parents=True)

    with pytest.raises(KeyFileError) as excinfo:
        KeyRing.load(path)

    assert str(path) in str(excinfo.value)


def test_current_key_must_be_in_the_ring():
    with pytest.raises(KeyFileError, match="'b' is not in the ring"):
        KeyRing(current="b", keys={"a": b"k" * KEY_BYTES})


# A token carries its key id as [a-z0-9]{1,16}; any other id would make
# tokens that never parse, whether it names the current key or an older one.
@pytest.mark.parametrize("key_id", ["Prod-1", "", "k" * 17, "k_1"])
@pytest.mark.parametrize("is_current", [True, False], ids=["current", "older"])
def test_ring_refuses_a_key_id_that_tokens_cannot_carry(key_id, is_current):
    keys = {"good": b"g" * KEY_BYTES, key_id: b"k" * KEY_BYTES}

    with pytest.raises(KeyFileError, match="key id"):
        KeyRing(current=key_id if is_current else "good", keys=keys)


@pytest.mark.parametrize("length", [0, 1, KEY_BYTES - 1])
def test_ring_refuses_a_key_shorter_than_a_generated_one(length):
    with pytest.raises(KeyFileError, match="shorter than"):
        KeyRing(current="a", keys={"a": b"k" * length})


def test_key_file_may_hold_a_key_longer_than_a_generated_one(path):
    ring = KeyRing(current="a", keys={"a": b"k" * (2 * KEY_BYTES)})
    ring.save(path)

    loaded = KeyRing.load(path)

    assert loaded.keys == {"a": b"k" * (2 * KEY_BYTES)}


def test_repr_of_a_ring_shows_no_key_material():
    ring = KeyRing.generate()

    shown = repr(ring)

    assert repr(ring.keys[ring.current]) not in shown


def test_hash_depends_on_the_key():
    ring = KeyRing(current="a", keys={"a": b"a" * KEY_BYTES, "b": b"b" * KEY_BYTES})
    token = token_format.generate("a")

    under_a, under_b = ring.hash(token, "a"), ring.hash(token, "b")

    assert under_a != under_b
    assert under_a == ring.hash(token, "a")


def test_hash_depends_on_the_token():
    ring = KeyRing.generate()
    first, second = (token_format.generate(ring.current) for _ in range(2))

    assert ring.hash(first, ring.current) != ring.hash(second, ring.current)


def test_hash_under_an_unknown_key_raises_key_error():
    ring = KeyRing.generate()

    with pytest.raises(KeyError):
        ring.hash(token_format.generate("gone"), "gone")


def test_load_or_create_creates_a_ring_once_then_loads_it(path):
    created, was_created = load_or_create(path)

    loaded, was_created_again = load_or_create(path)

    assert (was_created, was_created_again) == (True, False)
    assert loaded == created
    assert KeyRing.load(path) == created


def test_load_or_create_does_not_replace_a_bad_file(path):
    _write(path, b"{not json")

    with pytest.raises(KeyFileError):
        load_or_create(path)

    assert path.read_bytes() == b"{not json"


def test_a_new_key_becomes_current_and_the_old_ones_stay():
    ring = KeyRing.generate()

    rotated = ring.with_new_key()

    assert rotated.current != ring.current
    assert set(rotated.keys) == {ring.current, rotated.current}
    assert rotated.keys[ring.current] == ring.keys[ring.current]
    assert len(rotated.keys[rotated.current]) == KEY_BYTES


def test_a_rotated_ring_still_hashes_tokens_under_the_old_key_alike():
    ring = KeyRing.generate()
    token = token_format.generate(ring.current)

    rotated = ring.with_new_key()

    assert rotated.hash(token, ring.current) == ring.hash(token, ring.current)


def test_without_drops_one_key_and_keeps_the_current_one():
    ring = KeyRing.generate().with_new_key().with_new_key()
    oldest = next(key_id for key_id in ring.keys if key_id != ring.current)

    smaller = ring.without(oldest)

    assert oldest not in smaller.keys
    assert smaller.current == ring.current
    assert len(smaller.keys) == 2


@pytest.mark.parametrize(
    ("which", "message"),
    [("current", "is the current key"), ("absent", "has no key")],
)
def test_without_refuses_the_current_key_and_an_absent_one(which, message):
    ring = KeyRing.generate()
    key_id = ring.current if which == "current" else "nope"

    with pytest.raises(KeyFileError, match=message):
        ring.without(key_id)


def test_a_rotated_ring_saved_and_loaded_is_the_same_ring(path):
    rotated = KeyRing.generate().with_new_key()

    rotated.save(path)

    assert KeyRing.load(path) == rotated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
