"""Starting and stopping the two servers under test.

The SCIM server is started the way an operator starts it, with
``scim-server serve``, which replaces itself with gunicorn. Its gunicorn
command line is then read back from ``/proc`` and reused, with only the
address and the app swapped, to serve the floor app: so the floor runs with
exactly the SCIM server's worker class, workers, threads and access log,
whatever ``serve`` chooses now or in the future. That reading needs Linux.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from cpus import Pinning

BENCH_DIR = Path(__file__).resolve().parent
FLOOR_APP = "floor_app:app"
HOST = "127.0.0.1"

INIT_TIMEOUT = 120.0
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
POLL_INTERVAL = 0.1


class ServerError(RuntimeError):
    """A server could not be set up, started or stopped."""


@dataclasses.dataclass(frozen=True)
class Running:
    """A server that answers requests, and how it was started."""

    url: str
    gunicorn_command: tuple[str, ...]
    log: Path

    def option(self, name: str) -> str | None:
        """The value given to a gunicorn option such as ``--workers``, if any."""
        return gunicorn_option(self.gunicorn_command, name)


def scim_environ(data_dir: Path) -> dict[str, str]:
    """This process's environment without any ``SCIM_*`` setting but the data dir.

    Dropping inherited settings keeps a stray ``SCIM_DATABASE_URL`` or
    ``SCIM_WORKERS`` in the caller's shell from changing what is measured.
    """
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SCIM_")
    }
    environ["SCIM_DATA_DIR"] = str(data_dir)
    return environ


def initialise(environ: Mapping[str, str]) -> str:
    """Run ``scim-server init`` and return the admin token it prints last."""
    result = subprocess.run(
        [_scim_server_program(), "init"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=INIT_TIMEOUT,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise ServerError(f"scim-server init failed:\n{result.stderr}")
    return lines[-1]


@contextlib.contextmanager
def scim_server(
    environ: Mapping[str, str], pinning: Pinning, log: Path
) -> Iterator[Running]:
    """Run ``scim-server serve`` on a free port for the length of the block."""
    bind = f"{HOST}:{_free_port()}"
    command = [*pinning.server_prefix(), _scim_server_program(), "serve"]
    command += ["--bind", bind]
    probe = f"http://{bind}/scim/v2/ServiceProviderConfig"
    with _running(command, environ, log, probe) as process:
        yield Running(f"http://{bind}", _command_line(process.pid), log)


@contextlib.contextmanager
def floor_server(scim: Running, pinning: Pinning, log: Path) -> Iterator[Running]:
    """Serve the floor app with the SCIM server's gunicorn command line."""
    with bench_app_server(scim, FLOOR_APP, os.environ, pinning, log, "/") as floor:
        yield floor


@contextlib.contextmanager
def bench_app_server(
    scim: Running,
    app: str,
    environ: Mapping[str, str],
    pinning: Pinning,
    log: Path,
    probe_path: str,
) -> Iterator[Running]:
    """Serve ``app``, a module of bench/, with the SCIM server's command line.

    ``probe_path`` is a path the app answers once a worker is up.
    """
    bind = f"{HOST}:{_free_port()}"
    command = floor_command(scim.gunicorn_command, bind, app)
    probe = f"http://{bind}{probe_path}"
    with _running([*pinning.server_prefix(), *command], environ, log, probe):
        yield Running(f"http://{bind}", tuple(command), log)


def floor_command(
    scim_command: Sequence[str], bind: str, app: str = FLOOR_APP
) -> list[str]:
    """``scim_command`` with its address replaced and ``app`` of bench/ served."""
    *options, scim_app = scim_command
    if "gunicorn" not in options or "--bind" not in options or scim_app.startswith("-"):
        raise ServerError(
            f"cannot read the SCIM server's gunicorn command line: {scim_command}"
        )
    command = list(options)
    command[command.index("--bind") + 1] = bind
    return [*command, "--pythonpath", str(BENCH_DIR), app]


def gunicorn_option(command: Sequence[str], name: str) -> str | None:
    """The value after option ``name`` in ``command``, in either spelling."""
    for index, part in enumerate(command):
        if part == name and index + 1 < len(command):
            return command[index + 1]
        if part.startswith(f"{name}="):
            return part.partition("=")[2]
    return None


def _scim_server_program() -> str:
    # The console script sits beside the interpreter of the environment that
    # has the project installed; bench/run.py must be run by that interpreter.
    program = Path(sys.executable).with_name("scim-server")
    if not program.exists():
        raise ServerError(
            f"{program} not found: run bench/run.py with the Python of the "
            "environment where the project is installed (make bench does)"
        )
    return str(program)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def _running(
    command: Sequence[str], environ: Mapping[str, str], log: Path, probe: str
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=environ, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_ready(process, probe, log)
        yield process
    finally:
        _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], probe: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"server exited with {process.returncode}; see {log}")
        if _answers(probe):
            return
        time.sleep(POLL_INTERVAL)
    raise ServerError(f"server did not answer {probe} in {READY_TIMEOUT:.0f} s")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        # Any status proves a worker is serving; readiness is all we ask.
        return True
    except OSError:
        return False


def _command_line(pid: int) -> tuple[str, ...]:
    """What process ``pid`` runs now, after every ``exec`` on the way."""
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return tuple(part.decode() for part in raw.split(b"\0") if part)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # SIGTERM makes gunicorn's master stop its workers and exit; a master that
    # hangs is killed so that a run never leaves a server behind.
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
