"""Filling a fresh database with users, through the server's own domain layer.

Users are created with ``Provisioning.create_user``, the call behind
``POST /Users``, so every row, email and id is exactly what the server would
have written; only HTTP is skipped, which makes ten thousand users take
seconds instead of minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import storage
from scim_server.passwords import PasswordHasher
from scim_server.provisioning import Provisioning
from scim_server.schema import USER_SCHEMA
from scim_server.settings import Settings
from storage.records import UserRecord


def user_document(number: int) -> dict[str, Any]:
    """A User as an identity provider sends it, shaped like the POST scenario's.

    It carries no password: hashing one is deliberately slow (scrypt), and
    would make seeding, not the server, the thing being measured.
    """
    name = f"user{number:05d}"
    return {
        "schemas": [USER_SCHEMA],
        "userName": f"{name}@example.com",
        "externalId": name,
        "name": {"givenName": "Seeded", "familyName": name},
        "displayName": f"Seeded {name}",
        "emails": [{"value": f"{name}@example.com", "type": "work", "primary": True}],
        "active": True,
    }


def seed_users(environ: Mapping[str, str], count: int) -> list[UserRecord]:
    """Create ``count`` users in the database ``environ`` names and return them.

    ``environ`` holds the same ``SCIM_*`` variables the server is started
    with, so both open the same database.
    """
    settings = Settings.from_env(environ)
    provisioning = Provisioning(
        settings=settings,
        passwords=PasswordHasher(log2_n=settings.password_log2_n),
    )
    db = storage.connect(settings.database_url)
    # One transaction: a commit per user would spend most of the time syncing.
    with db.connection_context(), storage.transaction():
        return [
            provisioning.create_user(user_document(number)) for number in range(count)
        ]
