"""``scim-server token ...`` and ``scim-server keys ...``.

Commands act as the server's operator: their audit records name no acting
user. A command that prints a token prints it alone on stdout, so that
``T=$(scim-server token create --user admin)`` works; everything else goes to
stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import sys
from collections.abc import Iterator
from typing import Any

import orjson

import storage
from scim_server.bootstrap import token_policy
from scim_server.settings import Settings, SettingsError, parse_duration
from storage import audit as audit_store
from storage import users as user_store
from storage.tokens import TokenRecord
from tokens import (
    NO_EXPIRY,
    IssuedToken,
    KeyInUse,
    KeyRing,
    find_token,
    issue,
    list_tokens,
    retire_key,
    revoke,
    revoke_unused,
    rotate,
)
from tokens.scopes import ALL_SCOPES

Subparsers = Any  # argparse keeps the type of add_subparsers() private


def add_token_commands(commands: Subparsers) -> None:
    token = commands.add_parser(
        "token", aliases=["tokens"], help="manage personal access tokens"
    )
    actions = token.add_subparsers(required=True, metavar="ACTION")

    create = actions.add_parser(
        "create", help="issue a token and print it (only this once)"
    )
    create.add_argument("--user", required=True, help="userName of the owner")
    create.add_argument("--lifetime", help=_LIFETIME_HELP)
    create.add_argument("--comment", help="what the token is for")
    create.add_argument(
        "--scope",
        action="append",
        dest="scopes",
        metavar="SCOPE",
        help=f"repeat to narrow the token: {', '.join(sorted(ALL_SCOPES))};"
        " without any, the token has its owner's full rights",
    )
    create.set_defaults(command=_create)

    listing = actions.add_parser("list", help="list a user's tokens (no secrets)")
    listing.add_argument("--user", required=True, help="userName of the owner")
    listing.set_defaults(command=_list)

    revocation = actions.add_parser("revoke", help="revoke a token at once")
    revocation.add_argument("token_id", type=int, metavar="ID")
    revocation.set_defaults(command=_revoke)

    rotation = actions.add_parser(
        "rotate", help="issue a replacement; the old token runs out after --grace"
    )
    rotation.add_argument("token_id", type=int, metavar="ID")
    rotation.add_argument(
        "--grace",
        default="1d",
        help="how long the old token keeps working: 1d (default), 2h, or 0",
    )
    rotation.add_argument("--lifetime", help=_LIFETIME_HELP)
    rotation.set_defaults(command=_rotate)

    sweep = actions.add_parser(
        "sweep", help="revoke tokens unused for SCIM_TOKEN_UNUSED_DAYS days"
    )
    sweep.set_defaults(command=_sweep)

    events = actions.add_parser(
        "events", help="print the audit log, of one token or of all, as JSON lines"
    )
    events.add_argument("token_id", type=int, nargs="?", metavar="ID")
    events.add_argument(
        "--limit", type=int, default=100, help="how many of the latest (100)"
    )
    events.set_defaults(command=_events)


def add_key_commands(commands: Subparsers) -> None:
    keys = commands.add_parser("keys", help="manage the keys tokens are hashed with")
    actions = keys.add_subparsers(required=True, metavar="ACTION")

    rotation = actions.add_parser(
        "rotate", help="add a new key for new tokens; older tokens keep working"
    )
    rotation.set_defaults(command=_rotate_keys)

    retirement = actions.add_parser(
        "retire", help="remove a key; refused while live tokens use it"
    )
    retirement.add_argument("key_id", metavar="KID")
    retirement.add_argument(
        "--revoke-tokens",
        action="store_true",
        help="revoke the live tokens under the key, then remove it",
    )
    retirement.set_defaults(command=_retire_key)


_LIFETIME_HELP = "30d, 12h, 3600 (seconds) or never; default from policy"


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[None]:
    db = storage.connect(settings.database_url)
    with db.connection_context():
        yield


def _lifetime(text: str | None) -> datetime.timedelta | None:
    if not text:
        return None
    return parse_duration(text) or NO_EXPIRY


def _grace(text: str) -> datetime.timedelta:
    # parse_duration reads "0" as "never", which for a grace period would
    # mean the opposite of what was asked.
    if text.strip() == "0":
        return datetime.timedelta(0)
    grace = parse_duration(text)
    if grace is None:
        raise SettingsError("--grace must be a duration such as 1d, 2h or 0")
    return grace


def _create(args: argparse.Namespace, settings: Settings) -> int:
    keys = KeyRing.load(settings.token_key_file)
    with _database(settings):
        user = user_store.find_user_by_name(args.user)
        if user is None:
            return _fail(f"no user {args.user!r}")
        issued = issue(
            keys,
            token_policy(settings),
            user_id=user.id,
            now=settings.clock(),
            lifetime=_lifetime(args.lifetime),
            comment=args.comment,
            scopes=args.scopes,
        )
    _print_issued(issued, f"Token {issued.id} for {user.user_name}")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings):
        user = user_store.find_user_by_name(args.user)
        if user is None:
            return _fail(f"no user {args.user!r}")
        found = list_tokens(user.id)
    now = settings.clock()
    rows: list[tuple[str, ...]] = [_HEADER]
    rows += [_row(token, now) for token in found]
    for row in rows:
        print("  ".join(_pad(rows, row)).rstrip())
    return 0


_HEADER = (
    "ID",
    "HINT",
    "STATE",
    "CREATED",
    "EXPIRES",
    "LAST USED",
    "FROM",
    "SCOPES",
    "COMMENT",
)


def _row(token: TokenRecord, now: datetime.datetime) -> tuple[str, ...]:
    if token.revoked is not None:
        state = "revoked"
    elif token.is_live(now):
        state = "live"
    else:
        state = "expired"
    scopes = "all" if token.scopes is None else ",".join(sorted(token.scopes))
    return (
        str(token.id),
        token.hint,
        state,
        _when(token.created),
        _when(token.expires, "never"),
        _when(token.last_used, "never"),
        token.last_used_address or "-",
        scopes,
        token.comment or "",
    )


def _pad(rows: list[tuple[str, ...]], row: tuple[str, ...]) -> list[str]:
    widths = [max(len(other[i]) for other in rows) for i in range(len(row))]
    return [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]


def _when(moment: datetime.datetime | None, absent: str = "-") -> str:
    return absent if moment is None else moment.strftime("%Y-%m-%dT%H:%MZ")


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings):
        changed = revoke(args.token_id, now=settings.clock())
    if changed:
        print(f"Revoked token {args.token_id}.", file=sys.stderr)
    else:
        print(f"Token {args.token_id} was already revoked.", file=sys.stderr)
    return 0


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    keys = KeyRing.load(settings.token_key_file)
    grace = _grace(args.grace)
    with _database(settings):
        issued = rotate(
            keys,
            token_policy(settings),
            args.token_id,
            now=settings.clock(),
            grace=grace,
            lifetime=_lifetime(args.lifetime),
        )
        old = find_token(args.token_id)
    ends = _when(old.expires if old else None, "never")
    _print_issued(
        issued,
        f"Token {issued.id} replaces {args.token_id} (which works until {ends})",
    )
    return 0


def _sweep(args: argparse.Namespace, settings: Settings) -> int:
    policy = token_policy(settings)
    if policy.unused_limit is None:
        print("SCIM_TOKEN_UNUSED_DAYS is 0: no token is too idle.", file=sys.stderr)
        return 0
    with _database(settings):
        revoked = revoke_unused(policy, now=settings.clock())
    days = settings.token_unused_days
    print(
        f"Revoked {_count(len(revoked), 'token')} unused for {days} days.",
        file=sys.stderr,
    )
    for token_id in revoked:
        print(token_id)
    return 0


def _events(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings):
        records = audit_store.list_events(token_id=args.token_id, limit=args.limit)
    for record in reversed(records):
        line = dataclasses.asdict(record) | {"at": record.at.isoformat()}
        print(orjson.dumps(line).decode())
    return 0


def _rotate_keys(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.token_key_file
    ring = KeyRing.load(path)
    rotated = ring.with_new_key()
    rotated.save(path)
    print(
        f"Key {rotated.current} now hashes new tokens; tokens under"
        f" {', '.join(sorted(ring.keys))} keep working. Copy {path} to every"
        " host and restart the servers there before issuing tokens.",
        file=sys.stderr,
    )
    return 0


def _retire_key(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.token_key_file
    ring = KeyRing.load(path)
    try:
        with _database(settings):
            remaining, revoked = retire_key(
                ring,
                args.key_id,
                now=settings.clock(),
                revoke_tokens=args.revoke_tokens,
            )
    except KeyInUse as ex:
        return _fail(f"{ex}; --revoke-tokens revokes them", status=2)
    remaining.save(path)
    print(
        f"Retired key {args.key_id}, revoking {_count(revoked, 'token')}. Copy"
        f" {path} to every host and restart the servers there.",
        file=sys.stderr,
    )
    return 0


def _print_issued(issued: IssuedToken, description: str) -> None:
    expiry = issued.expires.isoformat() if issued.expires else "never"
    print(f"{description}, expires {expiry}:", file=sys.stderr)
    print(issued.token)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _fail(message: str, *, status: int = 1) -> int:
    print(f"scim-server: {message}", file=sys.stderr)
    return status
