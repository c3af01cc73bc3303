"""A throwaway PostgreSQL server for tests: Debian's binaries, a data directory in a temporary folder.

`make test` installs Debian's `postgresql` package where it is missing (Makefile, target `postgres`). The server
runs as the `postgres` user when the tests run as root (initdb refuses root), listens on loopback only, trusts
local connections, and is stopped and deleted at the end of the session. Each test gets a database of its own.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests import builders

USER = "app"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        pytest.fail("PostgreSQL saknas. `make test` installerar Debians paket postgresql (apt-get install -y "
                    "postgresql); kör testerna med det, eller installera paketet själv.")
    return Path(found[-1]).parent


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="rf-pg-"))  # not under pytest's 0700 tree: postgres must reach it
        self.port = builders.free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.dir / "pg"), "-A", "trust", "-U", USER, "-E", "UTF8", "--no-instructions")
        self._run("pg_ctl", "-D", str(self.dir / "pg"), "-l", str(self.dir / "server.log"), "-w", "-t", "60", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                  f"-c max_connections=300", "start")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            pytest.fail(f"{program} failed ({done.returncode}): {done.stderr[-2000:]}\n{tail}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "pg"), "-m", "fast", "-w", "stop")
        finally:
            time.sleep(0.1)
            shutil.rmtree(self.dir, ignore_errors=True)
