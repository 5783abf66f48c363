"""Opening the database named by a URL, and running transactions on it.

SQLite is the embedded default and PostgreSQL the production database; both
are reached through the same Peewee models, bound here to one
``DatabaseProxy`` so that the rest of the package never names a backend.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import peewee
from playhouse.pool import PooledPostgresqlDatabase

database_proxy = peewee.DatabaseProxy()

# Write transactions on SQLite take the write lock when they begin. With the
# default deferred mode, two workers that both read and then write deadlock
# on the lock upgrade and one of them fails at once with SQLITE_BUSY, which
# busy_timeout cannot help with.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 15_000,
    "cache_size": -32_000,
    # LIKE compares case-sensitively, as on PostgreSQL, so that prefix
    # searches on the case-folded columns can use their ordinary indexes.
    "case_sensitive_like": 1,
}

# The resource document is JSONB on PostgreSQL, so that later filters on
# attributes without a column of their own can use its operators, and plain
# text on SQLite, whose JSON functions read text.
SQLITE_FIELD_TYPES = {"JSON": "TEXT", "BIGAUTO": "INTEGER"}
POSTGRESQL_FIELD_TYPES = {"JSON": "JSONB"}


class UnsupportedDatabase(ValueError):
    """The database URL names a scheme this server cannot use."""


# One Database object per URL in a process: opening the same URL twice (an
# app factory called again, a CLI command inside a test) must share its
# connections rather than leave a second pool behind.
_opened: dict[str, peewee.Database] = {}


def connect(url: str, *, pool_size: int = 8) -> peewee.Database:
    """Open the database at ``url`` and bind every model to it.

    ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` name
    SQLite files (the parent folder is created); ``postgresql://...`` names a
    PostgreSQL database, reached through a pool of ``pool_size`` connections
    per process.
    """
    db = _opened.get(url)
    if db is None:
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            db = _sqlite(parts.path)
        elif parts.scheme in {"postgres", "postgresql"}:
            db = _postgresql(url, pool_size)
        else:
            raise UnsupportedDatabase(
                f"unsupported database URL scheme {parts.scheme!r}"
            )
        _opened[url] = db
    database_proxy.initialize(db)
    return db


def _sqlite(url_path: str) -> peewee.SqliteDatabase:
    # sqlite:///data/x.db has the path "/data/x.db": one slash belongs to the
    # URL, so strip it to get a relative path; four slashes keep an absolute one.
    path = url_path[1:] if url_path.startswith("/") else url_path
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return peewee.SqliteDatabase(
        path or ":memory:",
        pragmas=SQLITE_PRAGMAS,
        field_types=SQLITE_FIELD_TYPES,
        lock_type="IMMEDIATE",
        check_same_thread=False,
    )


def _postgresql(url: str, pool_size: int) -> PooledPostgresqlDatabase:
    parts = urlsplit(url)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return PooledPostgresqlDatabase(
        unquote(parts.path.lstrip("/")),
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        host=parts.hostname,
        port=parts.port,
        field_types=POSTGRESQL_FIELD_TYPES,
        max_connections=pool_size,
        stale_timeout=300,
        timeout=30,
        **options,
    )


def rows(query: Any) -> Iterator[tuple[Any, ...]]:
    """Run ``query`` and iterate its rows as the driver returns them.

    No field conversions are applied: callers that read timestamps or
    documents convert those columns themselves, once.
    """
    sql, params = query.sql()
    return iter(database_proxy.obj.execute_sql(sql, params).fetchall())


def is_postgresql(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


def locking(query: Any) -> Any:
    """``query`` made to lock its rows until the transaction ends.

    PostgreSQL locks the rows read (``FOR UPDATE``), so a concurrent writer
    of the same row waits and then sees the committed change. SQLite has no
    row locks and needs none: its transactions begin IMMEDIATE, holding the
    database's write lock from the first statement.
    """
    return query.for_update() if is_postgresql(database_proxy.obj) else query


@contextlib.contextmanager
def transaction() -> Iterator[None]:
    """Run the block in one transaction: all of its writes land, or none."""
    with database_proxy.obj.atomic():
        yield


def open_connection() -> None:
    """Make sure the calling thread holds a connection."""
    database_proxy.obj.connect(reuse_if_open=True)


def release_connection() -> None:
    """Give the calling thread's connection back, if the backend pools them.

    SQLite connections are cheap to keep and costly to reopen (every open
    re-runs the pragmas), so each thread keeps its own for its lifetime;
    PostgreSQL connections go back to the pool for other threads.
    """
    db = database_proxy.obj
    if is_postgresql(db) and not db.is_closed():
        db.close()
