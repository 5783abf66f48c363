#!/usr/bin/env python3
"""Run a command against a throwaway PostgreSQL cluster.

Usage::

    python .ci/with_postgres.py [--database NAME] -- COMMAND [ARGS...]

The script creates a fresh cluster in a temporary folder, starts it on a free
loopback port, creates one database with the extensions the server may use, and
runs COMMAND with ``SCIM_TEST_POSTGRES_URL`` pointing at that database.  Once
COMMAND has finished, or the script is interrupted, the cluster is stopped and
its folder deleted.  The script exits with COMMAND's exit code.

It relies on the standard library only, so that it can run before any project
dependency is installed, and it works both for an ordinary user and for root
(as in CI), in which case the server runs under an unprivileged account.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeAlias

SignalHandler: TypeAlias = Callable[[int, FrameType | None], None]

URL_VARIABLE = "SCIM_TEST_POSTGRES_URL"
DEFAULT_DATABASE = "scim_test"
SUPERUSER = "postgres"
EXTENSIONS = ("citext", "pg_trgm")
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
START_TIMEOUT_SECONDS = 30
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# Durability is pointless for a cluster that is deleted after one run, and
# turning it off makes a test suite that creates and drops many rows much
# faster.  The connection limit leaves room for a suite that starts several
# multi-worker servers at once, each with its own connections.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class ClusterError(Exception):
    """The throwaway cluster could not be set up."""


class SetupInterruptedError(Exception):
    """A signal asked the script to stop before COMMAND was started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass(frozen=True)
class Account:
    """An unprivileged account to run the server programs as.

    It is only needed when the script runs as root, because initdb and
    postgres refuse to run as root; otherwise the current user runs them.
    """

    uid: int
    gid: int


def log(message: str) -> None:
    print(f"with_postgres: {message}", file=sys.stderr, flush=True)


# Signals received while the cluster is being set up, oldest first.
received_signals: list[int] = []


def main(argv: Sequence[str]) -> int:
    database, command = parse_arguments(argv)
    # Until COMMAND runs, a stop signal is only noted, and acted on once the
    # PostgreSQL program that is running has finished.  Raising at once
    # instead would kill that program abruptly; a half-finished initdb leaves
    # a single-user server behind that neither pg_ctl nor rmtree can handle.
    for signum in STOP_SIGNALS:
        install_handler(signum, note_signal)

    bindir = find_server_programs()
    account = server_account()
    cluster_dir = Path(tempfile.mkdtemp(prefix="scim-postgres-"))
    data_dir = cluster_dir / "data"
    try:
        if account is not None:
            os.chown(cluster_dir, account.uid, account.gid)
        port = free_loopback_port()
        initialise_cluster(bindir, account, cluster_dir, data_dir, port)
        start_cluster(bindir, account, cluster_dir, data_dir)
        version = prepare_database(bindir, port, database)
        path = urllib.parse.quote(database, safe="")
        url = f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{path}"
        log(f"PostgreSQL {version} is ready at {url} (cluster in {cluster_dir})")
        return run_command(command, {**os.environ, URL_VARIABLE: url})
    except ClusterError as error:
        log(f"error: {error}")
        return 1
    except SetupInterruptedError as interruption:
        log(f"stopped by {interruption} before the command started")
        return 128 + interruption.signum
    finally:
        # The clean-up is short and bounded, and a second Ctrl-C or a SIGTERM
        # must not cut it off half-way and leave a running server behind.  The
        # server itself never sees Ctrl-C, as it runs in a session of its own.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        stop_cluster(bindir, account, cluster_dir, data_dir)
        try:
            shutil.rmtree(cluster_dir)
        except OSError as error:
            log(f"warning: could not remove {cluster_dir}: {error}")


def parse_arguments(argv: Sequence[str]) -> tuple[str, list[str]]:
    parser = argparse.ArgumentParser(
        prog="with_postgres.py",
        usage="%(prog)s [--database NAME] -- COMMAND [ARGS...]",
        description=(
            "Run COMMAND with a throwaway PostgreSQL cluster, passing its URL "
            f"in {URL_VARIABLE}, and exit with COMMAND's exit code."
        ),
    )
    parser.add_argument(
        "--database",
        default=DEFAULT_DATABASE,
        help=f"name of the database to create (default: {DEFAULT_DATABASE})",
    )
    # The command is split off by hand at the first "--" so that its own
    # arguments, including further "--" and options, reach it untouched.
    arguments = list(argv)
    if "--" not in arguments:
        parser.error('separate the command with "--"')
    separator = arguments.index("--")
    options = parser.parse_args(arguments[:separator])
    command = arguments[separator + 1 :]
    if not command:
        parser.error('no command given after "--"')
    return options.database, command


def install_handler(signum: int, handler: SignalHandler) -> None:
    # A signal that was ignored when the script started (as nohup does with
    # SIGHUP) stays ignored, for this script and for COMMAND alike.
    if signal.getsignal(signum) is not signal.SIG_IGN:
        signal.signal(signum, handler)


def note_signal(signum: int, _frame: FrameType | None) -> None:
    received_signals.append(signum)


def raise_if_interrupted() -> None:
    if received_signals:
        raise SetupInterruptedError(received_signals[0])


def find_server_programs() -> Path:
    """Return the folder holding initdb, pg_ctl and postgres.

    On Debian the server programs live outside PATH, so pg_config and the
    versioned folders are consulted first.  As root on Debian, a missing server
    is installed with apt-get, which keeps a fresh CI machine self-sufficient.
    """
    bindir = locate_server_programs()
    if bindir is None and os.geteuid() == 0 and is_debian():
        install_postgresql()
        bindir = locate_server_programs()
    if bindir is None:
        raise SystemExit(
            "with_postgres: error: the PostgreSQL server programs (initdb, "
            "pg_ctl, postgres) were not found. Install the PostgreSQL server "
            "and its contrib modules, for example with `apt-get install "
            "postgresql postgresql-contrib` on Debian or Ubuntu, or put their "
            "folder on PATH."
        )
    return bindir


def locate_server_programs() -> Path | None:
    for candidate in candidate_bindirs():
        if all((candidate / name).is_file() for name in SERVER_PROGRAMS):
            return candidate
    return None


def candidate_bindirs() -> Iterator[Path]:
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            yield Path(result.stdout.strip())
    # Debian installs each major version side by side; prefer the newest.
    versioned = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if path.parent.name.isdigit()
    ]
    yield from sorted(versioned, key=lambda path: -int(path.parent.name))
    initdb = shutil.which("initdb")
    if initdb is not None:
        # PATH may hold only symbolic links to some of the programs, so look
        # in the folder the link points into.
        yield Path(initdb).resolve().parent


def is_debian() -> bool:
    return Path("/etc/debian_version").is_file() and shutil.which("apt-get") is not None


def install_postgresql() -> None:
    log("PostgreSQL is not installed; installing it with apt-get")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "postgresql", "postgresql-contrib"],
    ):
        result = subprocess.run(
            command,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        raise_if_interrupted()
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            log(f"warning: `{' '.join(command)}` exited with {result.returncode}")
            return


def server_account() -> Account | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return Account(uid=entry.pw_uid, gid=entry.pw_gid)
    raise SystemExit(
        "with_postgres: error: running as root, but there is neither a "
        "`postgres` nor a `nobody` account to run the server as."
    )


def free_loopback_port() -> int:
    # The port is released again before the server binds it, so another
    # process could take it in between; on a test machine that race is rare
    # enough that reporting the failure beats the complexity of retrying.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_environment() -> dict[str, str]:
    # PG* variables from the caller's environment (PGHOST, PGDATA, ...) could
    # point the tools at another server, so they are left out.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def run_tool(
    arguments: Sequence[str | os.PathLike[str]],
    *,
    account: Account | None,
    what: str,
    cwd: Path | None = None,
    new_session: bool = False,
) -> str:
    """Run one PostgreSQL program and return its standard output.

    With an ``account`` the program runs as that user, with that user's group
    and no supplementary groups, so root's groups do not leak into the server.
    Switching user this way needs no helper program such as runuser.
    """
    result = subprocess.run(
        arguments,
        cwd=cwd,
        env=server_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        user=None if account is None else account.uid,
        group=None if account is None else account.gid,
        extra_groups=None if account is None else [],
        start_new_session=new_session,
    )
    # A program that failed because it was interrupted is reported as the
    # interruption, not as a failure of its own.
    raise_if_interrupted()
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise ClusterError(f"{what} failed (exit code {result.returncode}):\n{output}")
    return result.stdout


def initialise_cluster(
    bindir: Path, account: Account | None, cluster_dir: Path, data_dir: Path, port: int
) -> None:
    # The C locale exists everywhere and makes sorting independent of the
    # machine; trust authentication is acceptable because the cluster only
    # listens on loopback and lives for one run.
    run_tool(
        [
            bindir / "initdb",
            "--pgdata",
            data_dir,
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ],
        account=account,
        cwd=cluster_dir,
        what="initdb",
    )
    # Keeping the socket inside the cluster folder means the run needs no
    # write access to /var/run/postgresql and cannot clash with a system
    # server's socket.
    settings = {
        **SERVER_SETTINGS,
        "port": str(port),
        "unix_socket_directories": str(cluster_dir),
    }
    with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as config:
        config.write("\n# Added by with_postgres.py for a throwaway test cluster.\n")
        for name, value in settings.items():
            quoted = value.replace("'", "''")
            config.write(f"{name} = '{quoted}'\n")


def start_cluster(
    bindir: Path, account: Account | None, cluster_dir: Path, data_dir: Path
) -> None:
    log_file = cluster_dir / "server.log"
    # A session of its own keeps the server out of the terminal's process
    # group, so Ctrl-C reaches COMMAND but not the server, which is then
    # stopped in order by the clean-up.
    try:
        run_tool(
            [
                bindir / "pg_ctl",
                "start",
                "--pgdata",
                data_dir,
                "--log",
                log_file,
                "--wait",
                "--timeout",
                str(START_TIMEOUT_SECONDS),
            ],
            account=account,
            cwd=cluster_dir,
            what="starting the server",
            new_session=True,
        )
    except ClusterError as error:
        server_log = log_file.read_text(errors="replace") if log_file.exists() else ""
        raise ClusterError(f"{error}\nServer log:\n{server_log.strip()}") from None


def prepare_database(bindir: Path, port: int, database: str) -> str:
    """Create the database and its extensions, and return the server version.

    The client connects over TCP, as the tests will, so this also checks that
    the server accepts connections on the advertised address.
    """
    psql = bindir / "psql"
    if not psql.is_file():
        found = shutil.which("psql")
        if found is None:
            raise ClusterError("psql was not found; install the PostgreSQL client")
        psql = Path(found)

    def sql(statement: str, dbname: str) -> str:
        return run_tool(
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set",
                "ON_ERROR_STOP=1",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--username",
                SUPERUSER,
                "--dbname",
                dbname,
                "--command",
                statement,
            ],
            account=None,
            what=f"`{statement}`",
        ).strip()

    sql(f"CREATE DATABASE {quote_identifier(database)}", "postgres")
    for extension in EXTENSIONS:
        # The server can do without these, and contrib may be missing on a
        # developer's machine, so a failure is worth a warning, not an abort.
        try:
            sql(f"CREATE EXTENSION IF NOT EXISTS {extension}", database)
        except ClusterError as error:
            log(f"warning: {error}")
    return sql("SHOW server_version", database)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def run_command(command: Sequence[str], environment: dict[str, str]) -> int:
    """Run COMMAND to completion and return an exit code for this script.

    Ctrl-C in a terminal signals the whole foreground process group, so
    COMMAND already receives it; forwarding it as well would deliver it twice
    and could cut short COMMAND's own clean-up.  This process therefore only
    waits.  SIGTERM and SIGHUP are usually aimed at this process alone, so
    they are passed on.  Handlers, unlike ignored signals, are reset when
    COMMAND starts, so COMMAND keeps the default behaviour.
    """
    raise_if_interrupted()
    try:
        process = subprocess.Popen(command, env=environment)
    except OSError as error:
        log(f"error: cannot run {command[0]!r}: {error}")
        return 127

    def forward(signum: int, _frame: FrameType | None) -> None:
        if process.poll() is None:
            process.send_signal(signum)

    def keep_waiting(_signum: int, _frame: FrameType | None) -> None:
        pass

    install_handler(signal.SIGINT, keep_waiting)
    install_handler(signal.SIGTERM, forward)
    install_handler(signal.SIGHUP, forward)
    # A signal noted while COMMAND was being started may have missed it.
    for signum in received_signals:
        process.send_signal(signum)
    returncode = process.wait()
    # A command killed by a signal reports it as a negative number; the shell
    # convention of 128 plus the signal number keeps it visible as a failure.
    return 128 - returncode if returncode < 0 else returncode


def stop_cluster(
    bindir: Path, account: Account | None, cluster_dir: Path, data_dir: Path
) -> None:
    # Without a pid file no server was started, or it has already gone.
    if not (data_dir / "postmaster.pid").exists():
        return
    for mode in ("fast", "immediate"):
        try:
            run_tool(
                [bindir / "pg_ctl", "stop", "--pgdata", data_dir, "--mode", mode],
                account=account,
                cwd=cluster_dir,
                what=f"stopping the server ({mode})",
            )
        except ClusterError as error:
            log(f"warning: {error}")
        else:
            return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
