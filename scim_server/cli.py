"""The ``scim-server`` command: init, serve, and the token and key commands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import storage
from scim_server.bootstrap import initialise
from scim_server.settings import Settings, SettingsError
from scim_server.token_commands import add_key_commands, add_token_commands
from storage import directory
from storage import groups as group_store
from storage import users as user_store
from tokens import TokenNotFound, TokenPolicyError
from tokens.keys import KeyFileError

log = logging.getLogger("scim_server")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("SCIM_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env()
        return int(args.command(args, settings))
    except TokenNotFound as ex:
        print(f"scim-server: {ex}", file=sys.stderr)
        return 1
    except (SettingsError, KeyFileError, TokenPolicyError) as ex:
        print(f"scim-server: {ex}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scim-server", description="SCIM 2.0 provisioning server"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init", help="create or upgrade the database; create the first admin"
    )
    init.add_argument("--admin-user", default="admin", help="first admin's userName")
    init.set_defaults(command=_init)

    serve = commands.add_parser("serve", help="run the server under gunicorn")
    serve.add_argument("--bind", default=os.environ.get("SCIM_BIND", "127.0.0.1:8000"))
    serve.add_argument("--workers", type=int, default=_env_int("SCIM_WORKERS"))
    serve.add_argument("--threads", type=int, default=_env_int("SCIM_THREADS"))
    serve.set_defaults(command=_serve)

    admin = commands.add_parser("admin", help="manage who belongs to admins")
    admin_actions = admin.add_subparsers(required=True, metavar="ACTION")
    grant = admin_actions.add_parser("add", help="make a user an admin")
    grant.add_argument("user", help="userName of the user")
    grant.set_defaults(command=_admin_add)
    listing = admin_actions.add_parser("list", help="list the direct members")
    listing.set_defaults(command=_admin_list)

    add_token_commands(commands)
    add_key_commands(commands)
    return parser


def _admin_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add a user to admins: the way back in when no admin can log in."""
    db = storage.connect(settings.database_url)
    with db.connection_context():
        user = user_store.find_user_by_name(args.user)
        if user is None:
            print(f"scim-server: no user {args.user!r}", file=sys.stderr)
            return 1
        admins = group_store.get_builtin_group("admins")
        if directory.is_direct_member(admins.id, user.id):
            print(f"{user.user_name} is already in admins.", file=sys.stderr)
            return 0
        group_store.add_members(admins.id, [user.id], now=settings.clock())
    print(f"Added {user.user_name} to admins.", file=sys.stderr)
    return 0


def _admin_list(args: argparse.Namespace, settings: Settings) -> int:
    db = storage.connect(settings.database_url)
    with db.connection_context():
        admins = group_store.get_builtin_group("admins")
        names = directory.member_names(admins.id)
    for kind, name in names:
        print(name if kind == "User" else f"{name} (group)")
    return 0


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else None


def _init(args: argparse.Namespace, settings: Settings) -> int:
    db = storage.connect(settings.database_url)
    with db.connection_context():
        report = initialise(db, settings, args.admin_user)
    if report.schema_from is None:
        print(f"Created database schema version {report.schema_to}.", file=sys.stderr)
    elif report.schema_from != report.schema_to:
        print(
            f"Upgraded database schema {report.schema_from} -> {report.schema_to}.",
            file=sys.stderr,
        )
    if report.created_key_file:
        print(f"Wrote new token keys to {settings.token_key_file}.", file=sys.stderr)
    if report.admin_token is None:
        print(
            "Already initialised. To get an admin token, run:\n"
            f"  scim-server token create --user {report.admin_user}",
            file=sys.stderr,
        )
        return 0
    print(
        f"Created admin user {report.admin_user!r}. Its token, shown only now:",
        file=sys.stderr,
    )
    print(report.admin_token.token)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> NoReturn:
    """Replace this process with gunicorn, tuned to the database in use.

    SQLite runs in the worker process, so plain sync workers (one per core)
    are fastest; a network database leaves workers waiting on it, so
    PostgreSQL gets threaded workers.
    """
    networked = not settings.database_url.startswith("sqlite:")
    workers = args.workers or os.cpu_count() or 2
    threads = args.threads or (4 if networked else 1)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        args.bind,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        # gunicorn's control socket has one path per user, so a second
        # server on the machine would take it over from the first; nothing
        # here uses it.
        "--no-control-socket",
        "--access-logfile",
        "-",
        "--access-logformat",
        '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s',
        "scim_server.wsgi:application",
    ]
    print(f"Serving on http://{args.bind}/scim/v2", file=sys.stderr)
    os.execv(sys.executable, command)  # noqa: S606 - fixed argv, no shell
