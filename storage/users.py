"""Queries on users and their email addresses."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

import peewee

from storage import ids
from storage.compiler import Position, compile_filter, select
from storage.database import locking, rows, transaction
from storage.errors import DuplicateName, ResourceNotFound, VersionMismatch
from storage.filters import Selection
from storage.models import Group, Membership, User, UserEmail
from storage.nesting import EVERYONE, groups_above_each
from storage.pages import keyset_page
from storage.prepared import (
    PreparedInQuery,
    PreparedInsert,
    PreparedQuery,
    PreparedSelection,
    convert,
)
from storage.records import GroupRef, UserFields, UserRecord

ALL = Selection()

USER_COLUMNS = (
    User.id,
    User.user_name,
    User.display_name,
    User.external_id,
    User.active,
    User.document,
    User.created,
    User.last_modified,
    User.version,
)


def _record(row: User) -> UserRecord:
    return UserRecord(
        id=row.id,
        user_name=row.user_name,
        display_name=row.display_name,
        external_id=row.external_id,
        active=row.active,
        document=row.document,
        created=row.created,
        last_modified=row.last_modified,
        version=row.version,
    )


def _from_row(row: Sequence[Any]) -> UserRecord:
    # Plain tuples skip building a Peewee model per row, which dominated the
    # cost of reading a page of users.
    return UserRecord(*convert(USER_COLUMNS, row[: len(USER_COLUMNS)]))


# Reading one user is on the path of most requests: render its SQL once.
_FIND_USER = PreparedQuery(
    lambda user_id: User.select(*USER_COLUMNS).where(User.id == user_id).limit(1),
    -7_777_777,
)


def name_key(name: str) -> str:
    """The form in which names are compared and kept unique."""
    return name.casefold()


def create_user(
    fields: UserFields,
    *,
    now: datetime.datetime,
    id_source: ids.IdSource = ids.random_id,
) -> UserRecord:
    """Insert a user with its emails; raise DuplicateName if userName is taken."""
    with transaction():
        if _NAME_TAKEN.rows(name_key(fields.user_name)):
            raise DuplicateName("userName", fields.user_name)
        user_id = ids.allocate("User", id_source)
        try:
            _INSERT_USER.execute(
                user_id,
                fields.user_name,
                name_key(fields.user_name),
                fields.display_name,
                fields.external_id,
                fields.active,
                fields.password_hash,
                fields.document,
                fields.search,
                now,
                now,
                1,
            )
        except peewee.IntegrityError as ex:
            raise DuplicateName("userName", fields.user_name) from ex
        _insert_emails(user_id, fields)
    # Everything the row holds is known: no need to read it back.
    return UserRecord(
        id=user_id,
        user_name=fields.user_name,
        display_name=fields.display_name,
        external_id=fields.external_id,
        active=fields.active,
        document=fields.document,
        created=now,
        last_modified=now,
        version=1,
    )


# Creating a user is the write identity providers make most: its two
# statements are rendered once.
_NAME_TAKEN = PreparedQuery(
    lambda key: User.select(User.id).where(User.user_name_key == key).limit(1),
    "prepared-user-name-key",
)
_INSERT_USER = PreparedInsert(
    User,
    (
        User.id,
        User.user_name,
        User.user_name_key,
        User.display_name,
        User.external_id,
        User.active,
        User.password_hash,
        User.document,
        User.search,
        User.created,
        User.last_modified,
        User.version,
    ),
)


def find_user(user_id: int) -> UserRecord | None:
    found = _FIND_USER.rows(user_id)
    if not found:
        return None
    return _from_row(found[0])


def lock_user(user_id: int) -> UserRecord | None:
    """Read a user for a read-modify-write; call inside ``transaction()``.

    Until the transaction ends no other writer can change the user, so a
    version checked here is still the version when the write lands.
    """
    query = locking(User.select(*USER_COLUMNS).where(User.id == user_id))
    found = list(rows(query))
    return _from_row(found[0]) if found else None


def get_user(user_id: int) -> UserRecord:
    record = find_user(user_id)
    if record is None:
        raise ResourceNotFound("User", str(user_id))
    return record


def find_user_by_name(user_name: str) -> UserRecord | None:
    query = User.select(*USER_COLUMNS).where(User.user_name_key == name_key(user_name))
    row = query.first()
    return _record(row) if row else None


def replace_user(
    user_id: int,
    fields: UserFields,
    *,
    now: datetime.datetime,
    expected_version: int | None = None,
) -> UserRecord:
    """Overwrite a user's attributes and emails in one transaction."""
    with transaction():
        _check_name_free(fields.user_name, except_id=user_id)
        changes = {
            **_columns(fields),
            User.last_modified.name: now,
            User.version.name: User.version + 1,
        }
        if fields.password_hash is not None:
            changes[User.password_hash.name] = fields.password_hash
        condition = User.id == user_id
        if expected_version is not None:
            condition &= User.version == expected_version
        try:
            updated = User.update(changes).where(condition).execute()
        except peewee.IntegrityError as ex:
            raise DuplicateName("userName", fields.user_name) from ex
        if not updated:
            _raise_missing_or_changed(user_id, expected_version)
        UserEmail.delete().where(UserEmail.user == user_id).execute()
        _insert_emails(user_id, fields)
    return get_user(user_id)


def delete_user(user_id: int) -> None:
    """Delete a user, its emails, tokens and group memberships."""
    with transaction():
        deleted = User.delete().where(User.id == user_id).execute()
        if not deleted:
            raise ResourceNotFound("User", str(user_id))
        Membership.delete().where(Membership.member_id == user_id).execute()


def list_users(offset: int, limit: int, selection: Selection = ALL) -> list[UserRecord]:
    """A page of the users that ``selection`` picks, in its order."""
    return [_from_row(row) for row in _PAGES.rows(selection, offset, limit)]


# Group memberships are resolved while compiling a filter on them, so such
# filters are rendered each time.
_PAGES = PreparedSelection(
    lambda selection: select(User.select(*USER_COLUMNS), "User", selection),
    rendered_each_time=frozenset({"groups"}),
)


def page_of_users(
    selection: Selection,
    after: Position | None,
    limit: int,
    *,
    backwards: bool = False,
) -> list[tuple[UserRecord, Position]]:
    """A keyset page of users, each with its position for the next cursor."""
    query = User.select(*USER_COLUMNS)
    return keyset_page(
        query, "User", selection, after, limit, _from_row, backwards=backwards
    )


def count_users(selection: Selection = ALL) -> int:
    query = User.select()
    if selection.filter is not None:
        query = query.where(compile_filter("User", selection.filter))
    return int(query.count())


def password_hash_of(user_id: int) -> str | None:
    value = User.select(User.password_hash).where(User.id == user_id).scalar()
    return None if value is None else str(value)


def _groups_query(user_ids: list[int]) -> peewee.Query:
    """Each user's groups: direct ones, then every group holding those.

    A row is (user id, group id, displayName, 1 if direct else 0), once per
    user and group; a group that is both direct and inherited is direct.
    """
    # The ids appear once, in a CTE the rest reads: a prepared query
    # substitutes each parameter in one place only.
    page = (
        User.select(User.id)
        .where(User.id.in_(user_ids))
        .cte("scim_page", columns=("user_id",))
    )
    everyone = Group.alias("scim_everyone")
    direct = (
        Membership.select(Membership.member_id, Membership.group).join(
            page, on=(Membership.member_id == page.c.user_id)
        )
        + everyone.select(page.c.user_id, everyone.id)
        .join(page, peewee.JOIN.CROSS)
        .where(everyone.builtin == EVERYONE)
    ).cte("scim_direct", columns=("user_id", "group_id"))
    above = groups_above_each(
        direct.select_from(direct.c.group_id, direct.c.group_id).distinct()
    )
    is_direct = peewee.Case(None, [(above.c.group_id == above.c.start_id, 1)], 0)
    return (
        Group.select(
            direct.c.user_id,
            Group.id,
            Group.display_name,
            peewee.fn.MAX(is_direct),
        )
        .from_(direct)
        .join(above, on=(above.c.start_id == direct.c.group_id))
        .join(Group, on=(Group.id == above.c.group_id))
        .group_by(direct.c.user_id, Group.id, Group.display_name)
        .order_by(Group.display_name_key, Group.id)
        .with_cte(page, direct, above)
    )


_GROUPS_OF_USERS = PreparedInQuery(_groups_query)


def groups_of_users(user_ids: Iterable[int]) -> dict[int, list[GroupRef]]:
    """The groups each user belongs to, directly or not, in one query.

    Indirect memberships come through groups nested at any depth
    (RFC 7643 §4.1.2); every user is a direct member of ``users``.
    """
    wanted = list(user_ids)
    found: dict[int, list[GroupRef]] = {user_id: [] for user_id in wanted}
    if not wanted:
        return found
    for user_id, group_id, display, direct in _GROUPS_OF_USERS.rows(wanted):
        kind = "direct" if direct else "indirect"
        found[user_id].append(GroupRef(id=group_id, display=display, type=kind))
    return found


def _columns(fields: UserFields) -> dict[str, object]:
    return {
        User.user_name.name: fields.user_name,
        User.user_name_key.name: name_key(fields.user_name),
        User.display_name.name: fields.display_name,
        User.external_id.name: fields.external_id,
        User.active.name: fields.active,
        User.document.name: fields.document,
        User.search.name: fields.search,
    }


def _check_name_free(user_name: str, except_id: int | None = None) -> None:
    # The unique index is the real guard; this check turns the common case
    # into a clear error without relying on the backend's constraint message.
    query = User.select(User.id).where(User.user_name_key == name_key(user_name))
    if except_id is not None:
        query = query.where(User.id != except_id)
    if query.exists():
        raise DuplicateName("userName", user_name)


_INSERT_EMAIL = PreparedInsert(
    UserEmail,
    (
        UserEmail.user,
        UserEmail.value,
        UserEmail.value_key,
        UserEmail.type_key,
        UserEmail.primary,
    ),
)


def _insert_emails(user_id: int, fields: UserFields) -> None:
    for email in fields.emails:
        _INSERT_EMAIL.execute(
            user_id,
            email.value,
            email.value.casefold(),
            email.type.casefold() if email.type else None,
            email.primary,
        )


def _raise_missing_or_changed(user_id: int, expected_version: int | None) -> None:
    if expected_version is None or not User.select().where(User.id == user_id).exists():
        raise ResourceNotFound("User", str(user_id))
    raise VersionMismatch(f"User {user_id} has changed")
