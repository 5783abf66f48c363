"""First-run setup: schema, token keys, built-in groups and the first admin."""

from __future__ import annotations

import dataclasses
import datetime

import peewee

from scim_server.schema import GROUP_SCHEMA, USER_SCHEMA, group_type, user_type
from scim_server.schema.search import search_document
from scim_server.settings import Settings
from storage import groups as group_store
from storage import users as user_store
from storage.database import transaction
from storage.migrations import migrate
from storage.records import GroupFields, UserFields
from tokens import IssuedToken, KeyRing, TokenPolicy, issue
from tokens.keys import load_or_create

BUILTIN_GROUPS = ("admins", "users")


@dataclasses.dataclass(frozen=True)
class InitReport:
    schema_from: int | None
    schema_to: int
    created_key_file: bool
    admin_token: IssuedToken | None
    admin_user: str


def token_policy(settings: Settings) -> TokenPolicy:
    unused_days = settings.token_unused_days
    return TokenPolicy(
        default_lifetime=settings.token_default_lifetime,
        max_lifetime=settings.token_max_lifetime,
        quota=settings.token_quota or None,
        unused_limit=datetime.timedelta(days=unused_days) if unused_days else None,
    )


def initialise(db: peewee.Database, settings: Settings, admin_user: str) -> InitReport:
    """Bring the database and key file up to date; idempotent.

    The first admin and its token are created only while no user belongs to
    ``admins``, so running this again never mints a second admin token.
    """
    found, now_at = migrate(db)
    keys, created_keys = load_or_create(settings.token_key_file)
    token = None
    with transaction():
        for name in BUILTIN_GROUPS:
            _ensure_builtin_group(name, settings)
        if not _admins_exist():
            token = _create_first_admin(admin_user, keys, settings)
    return InitReport(found, now_at, created_keys, token, admin_user)


def _ensure_builtin_group(name: str, settings: Settings) -> None:
    if group_store.find_builtin_group(name) is not None:
        return
    document = {"schemas": [GROUP_SCHEMA], "displayName": name}
    fields = GroupFields(
        display_name=name,
        document=document,
        search=search_document(group_type(), document),
    )
    group_store.create_group(
        fields, [], now=settings.clock(), builtin=name, id_source=settings.id_source
    )


def _admins_exist() -> bool:
    admins = group_store.find_builtin_group("admins")
    return admins is not None and group_store.has_members(admins.id)


def _create_first_admin(
    user_name: str, keys: KeyRing, settings: Settings
) -> IssuedToken:
    user = user_store.find_user_by_name(user_name)
    if user is None:
        document = {"schemas": [USER_SCHEMA], "userName": user_name, "active": True}
        fields = UserFields(
            user_name=user_name,
            document=document,
            search=search_document(user_type(), document),
        )
        user = user_store.create_user(
            fields, now=settings.clock(), id_source=settings.id_source
        )
    admins = group_store.get_builtin_group("admins")
    group_store.add_members(admins.id, [user.id], now=settings.clock())
    return issue(
        keys,
        token_policy(settings),
        user_id=user.id,
        now=settings.clock(),
        comment="first admin token, from scim-server init",
        id_source=settings.id_source,
    )
