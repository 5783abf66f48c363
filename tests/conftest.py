"""Fixtures shared by the whole suite.

Every test that touches the database runs twice, on SQLite and on
PostgreSQL. PostgreSQL comes from ``SCIM_TEST_POSTGRES_URL``, which
``make test`` sets after starting a throwaway cluster; without it the
PostgreSQL half is skipped locally and fails under CI, which must run it.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import peewee
import pytest

import storage
from scim_server.app import create_app
from scim_server.bootstrap import initialise
from scim_server.settings import Settings
from storage.database import is_postgresql
from storage.migrations import migrate
from storage.models import ALL_MODELS
from tests.live_server import server  # noqa: F401 - a fixture for every test
from tokens import KeyRing

START = datetime.datetime(2026, 1, 15, 9, 30, tzinfo=datetime.UTC)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime.datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/test.sqlite3"
    url = os.environ.get("SCIM_TEST_POSTGRES_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: set SCIM_TEST_POSTGRES_URL")
        pytest.skip("SCIM_TEST_POSTGRES_URL is not set (`make test` sets it)")
    return url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[peewee.Database]:
    db = storage.connect(database_url)
    with db.connection_context():
        # A PostgreSQL database may hold tables from an earlier run.
        db.drop_tables(ALL_MODELS, safe=True, cascade=is_postgresql(db))
        migrate(db)
    yield db
    if not db.is_closed():
        db.close()


@pytest.fixture
def db(database: peewee.Database, database_url: str) -> Iterator[peewee.Database]:
    """The database, bound and connected, emptied after the test."""
    storage.connect(database_url)
    database.connect(reuse_if_open=True)
    yield database
    storage.connect(database_url)
    database.connect(reuse_if_open=True)
    if database.in_transaction():
        database.rollback()
    with database.atomic():
        for model in reversed(ALL_MODELS):
            if model.table_exists():
                model.delete().execute()
    database.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, clock: FixedClock) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        base_url="https://scim.example.com",
        default_page_size=50,
        max_page_size=200,
        password_log2_n=4,
        clock=clock,
    )


@pytest.fixture
def keys(settings: Settings) -> KeyRing:
    ring = KeyRing.generate()
    ring.save(settings.token_key_file)
    return ring


@pytest.fixture
def admin_token(db: peewee.Database, settings: Settings, keys: KeyRing) -> str:
    report = initialise(db, settings, "admin")
    assert report.admin_token is not None
    return report.admin_token.token


@pytest.fixture
def app(settings: Settings, keys: KeyRing, admin_token: str) -> falcon.App:
    return create_app(settings, keys=keys)


@pytest.fixture
def client(app: falcon.App, admin_token: str) -> falcon.testing.TestClient:
    """A test client that sends the first admin's token on every request."""
    return falcon.testing.TestClient(
        app, headers={"Authorization": f"Bearer {admin_token}"}
    )


class QueryLog:
    """The SQL statements Peewee ran inside ``capture()`` blocks."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog
        self.statements: list[str] = []

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[str]]:
        self._caplog.clear()
        self.statements = []
        with self._caplog.at_level(logging.DEBUG, logger="peewee"):
            yield self.statements
        # Only "peewee" itself logs statements; "peewee.pool" logs pool events.
        self.statements.extend(
            r.getMessage() for r in self._caplog.records if r.name == "peewee"
        )


@pytest.fixture
def sql(caplog: pytest.LogCaptureFixture) -> QueryLog:
    return QueryLog(caplog)
