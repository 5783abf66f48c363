"""The server's token keys, kept in a file outside the database.

The file is JSON, ``{"current": "<key id>", "keys": {"<key id>":
"<base64 of 32 random bytes>", ...}}``, readable by the server's account
only. New tokens are hashed under the current key; tokens issued under an
older key that is still in the file keep working. Every host that serves the
API needs the same file.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import re
import secrets
import string
from pathlib import Path

import orjson

from tokens.format import KEY_ID_PATTERN

KEY_BYTES = 32
KEY_ID_ALPHABET = string.ascii_lowercase + string.digits


class KeyFileError(RuntimeError):
    """The key file is missing, unreadable or malformed."""


@dataclasses.dataclass(frozen=True)
class KeyRing:
    """Signing keys by id, and which one signs new tokens."""

    current: str
    # Left out of the repr so that key material never reaches a traceback.
    keys: dict[str, bytes] = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeyFileError(f"current key {self.current!r} is not in the ring")
        for key_id, key in self.keys.items():
            # Tokens carry the key id, so one they cannot carry would make
            # every token issued under it fail to parse.
            if not re.fullmatch(KEY_ID_PATTERN, key_id):
                raise KeyFileError(f"key id {key_id!r} is not {KEY_ID_PATTERN}")
            # A short key, above all an empty one, lets anyone holding a copy
            # of the database compute the stored hashes.
            if len(key) < KEY_BYTES:
                raise KeyFileError(f"key {key_id!r} is shorter than {KEY_BYTES} bytes")

    def hash(self, token: str, key_id: str) -> str:
        """The keyed hash stored for ``token``; KeyError if the key is unknown."""
        key = self.keys[key_id]
        return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()

    def with_new_key(self) -> KeyRing:
        """This ring plus a new random key, which becomes the current one."""
        key_id = new_key_id()
        while key_id in self.keys:
            key_id = new_key_id()
        keys = {**self.keys, key_id: secrets.token_bytes(KEY_BYTES)}
        return KeyRing(current=key_id, keys=keys)

    def without(self, key_id: str) -> KeyRing:
        """This ring less ``key_id``, which must not be the current key."""
        if key_id not in self.keys:
            raise KeyFileError(f"the key ring has no key {key_id!r}")
        if key_id == self.current:
            raise KeyFileError(
                f"key {key_id!r} is the current key; rotate to a new one first"
            )
        keys = {kid: key for kid, key in self.keys.items() if kid != key_id}
        return KeyRing(current=self.current, keys=keys)

    @classmethod
    def generate(cls) -> KeyRing:
        key_id = new_key_id()
        return cls(current=key_id, keys={key_id: secrets.token_bytes(KEY_BYTES)})

    # TODO: a server reads the key file only when it starts, so a token
    # issued under a key added later (keys rotate) fails there until it
    # restarts; reloading the file when a token names an unknown key id, at
    # most once a minute since anyone can send one, would close that gap.
    @classmethod
    def load(cls, path: Path) -> KeyRing:
        try:
            data = orjson.loads(path.read_bytes())
            keys = {
                key_id: base64.b64decode(secret, validate=True)
                for key_id, secret in data["keys"].items()
            }
            return cls(current=data["current"], keys=keys)
        except FileNotFoundError as ex:
            raise KeyFileError(
                f"token key file {path} does not exist; run `scim-server init`"
            ) from ex
        except (
            OSError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            KeyFileError,
        ) as ex:
            raise KeyFileError(f"token key file {path} is unreadable: {ex}") from ex

    def save(self, path: Path) -> None:
        """Write the ring to ``path`` atomically, readable by its owner only."""
        document = {
            "current": self.current,
            "keys": {
                key_id: base64.b64encode(key).decode()
                for key_id, key in self.keys.items()
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        os.replace(partial, path)


def new_key_id() -> str:
    return "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(4))


def load_or_create(path: Path) -> tuple[KeyRing, bool]:
    """The ring in ``path``, creating a new one there if the file is absent."""
    if path.exists():
        return KeyRing.load(path), False
    ring = KeyRing.generate()
    ring.save(path)
    return ring, True
