"""This repository's server, run the way an operator runs it, for the suite.

``LocalServer`` runs ``scim-server init`` in an empty folder, keeps the first
admin token that ``init`` prints, then runs ``scim-server serve`` on a free
loopback port and waits until it answers. Leaving the ``with`` block stops
it. Nothing here imports the server: the suite sees it only over HTTP, as it
would see any other.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from conformance_tests.scim_http import SCIMClient

STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 10.0
POLL_INTERVAL = 0.05

# Settings of the throwaway server. Cheap password hashes keep user creation
# fast; hashing strength is no part of the protocol. A small page cap lets a
# test ask for more than filter.maxResults and see the count lowered without
# creating a thousand users; small Bulk limits likewise let a test go past
# maxOperations and maxPayloadSize with a small request.
SETTINGS = {
    "SCIM_PASSWORD_SCRYPT_LOG2_N": "10",
    "SCIM_DEFAULT_PAGE_SIZE": "20",
    "SCIM_MAX_PAGE_SIZE": "20",
    "SCIM_BULK_MAX_OPERATIONS": "20",
    "SCIM_BULK_MAX_PAYLOAD_SIZE": "65536",
}
# Two worker processes, so that nothing passes only because one process
# remembers what it was told.
WORKERS = "2"


class LocalServerError(RuntimeError):
    """The server could not be initialised or did not come up."""


class LocalServer:
    """``scim-server`` on SQLite in ``data_dir``, for as long as it is entered."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/scim/v2"
        self.token = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def __enter__(self) -> LocalServer:
        try:
            self.token = self._init()
            self._serve()
            self._wait_until_ready()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def _init(self) -> str:
        """Create the database and return the first admin's token."""
        result = subprocess.run(
            [_command(), "init"],
            env=self._environment(),
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise LocalServerError(f"scim-server init failed:\n{result.stderr}")
        # init prints the token alone on stdout and everything else on stderr.
        token = result.stdout.strip()
        if not token:
            raise LocalServerError(f"scim-server init printed no token:\n{result}")
        return token

    def _serve(self) -> None:
        self._log = self.log_path.open("wb")
        bind = f"127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [_command(), "serve", "--bind", bind, "--workers", WORKERS],
            env=self._environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def _wait_until_ready(self) -> None:
        probe = SCIMClient(self.base_url, token=None, timeout=1)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise LocalServerError(
                    f"scim-server serve exited with {self._process.returncode}:\n"
                    f"{self._log_tail()}"
                )
            try:
                if probe.get("/ServiceProviderConfig").status == 200:
                    return
            except OSError:
                pass  # Not listening yet.
            time.sleep(POLL_INTERVAL)
        raise LocalServerError(
            f"scim-server did not answer within {STARTUP_TIMEOUT:.0f} s:\n"
            f"{self._log_tail()}"
        )

    def _stop(self) -> None:
        """Ask the server to stop, and kill it if it has not within the timeout."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=SHUTDOWN_TIMEOUT)
        if self._log is not None:
            self._log.close()

    def _environment(self) -> dict[str, str]:
        # No SCIM_* variable of the developer's shell is inherited: none may
        # point the throwaway server at a real database or key file.
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("SCIM_")
        }
        environment.update(SETTINGS)
        environment["SCIM_DATA_DIR"] = str(self.data_dir)
        environment["SCIM_DATABASE_URL"] = (
            f"sqlite:///{self.data_dir.resolve() / 'scim.sqlite3'}"
        )
        # gunicorn opens a control socket at one fixed path per user; without
        # this, the suite's server would take it from a developer's own
        # running server.
        environment["GUNICORN_CMD_ARGS"] = "--no-control-socket"
        return environment

    def _log_tail(self, lines: int = 40) -> str:
        if self._log is not None:
            self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _command() -> str:
    """The ``scim-server`` script of the running interpreter's environment."""
    beside_python = str(Path(sys.executable).parent)
    found = shutil.which("scim-server", path=beside_python) or shutil.which(
        "scim-server"
    )
    if found is None:
        raise LocalServerError(
            "scim-server is not installed; run `make install`, or give "
            "--scim-base-url to test a server that is already running"
        )
    return found


def _free_port() -> int:
    # The port is free now and gunicorn binds it a moment later. Another
    # program taking it in between is possible but rare, and then shows as a
    # startup failure with gunicorn's own message in the log.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
