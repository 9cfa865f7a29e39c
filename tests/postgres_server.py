"""A throwaway PostgreSQL 15 server for the tests that need the real thing.

`postgres_server` starts one cluster per test process (initdb into a temporary folder, no
fsync: ~3 s) and removes it at the end; a database migrated once there is the template.
`postgres_url` gives a test its own fresh database (CREATE DATABASE ... TEMPLATE, fast) and
points RESEARCH_DESK_DATABASE_URL at it; every other test keeps the embedded DuckDB store.
As root, initdb and pg_ctl run as the `postgres` user (PostgreSQL refuses to run as root).
"""

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from services.settings import reset_settings_cache
from services.store import db

PG_BIN = Path("/usr/lib/postgresql/15/bin")
TEMPLATE = "rd_template"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class PostgresServer:
    folder: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """One statement outside a transaction (CREATE DATABASE needs that)."""
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(sql.encode())


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_postgres(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")


def _start(folder: Path) -> int:
    """Start the cluster on a free port; a port taken meanwhile by someone else is retried."""
    options = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    for attempt in range(3):
        port = _free_port()
        try:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-l",
                  str(folder / "pg.log"), "-w", "-t", "60", "start",
                  "-o", f"-h 127.0.0.1 -p {port} -k {folder} {options}"])
            return port
        except RuntimeError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _migrate_template(server: PostgresServer) -> None:
    server.execute(f"CREATE DATABASE {TEMPLATE}")
    engine = create_engine(server.url(TEMPLATE))
    try:
        db.migrate_engine(engine)
    finally:
        engine.dispose()  # a template must have no open connections


@contextmanager
def throwaway_cluster(prefix: str = "rd-postgres-") -> Iterator[PostgresServer]:
    """A PostgreSQL 15 cluster of its own on a free loopback port, in the system's temporary
    folder (which the `postgres` user can reach), stopped and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:  # PostgreSQL runs as `postgres` and must own its folder
        shutil.chown(folder, "postgres", "postgres")
    started = False
    try:
        _run([str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-U", "postgres",
              "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        server = PostgresServer(folder=folder, port=_start(folder))
        started = True
        yield server
    finally:
        if started:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate",
                  "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL 15 is not installed (no {PG_BIN / 'initdb'}); the "
                    "PostgreSQL tests need the postgresql-15 package.")
    with throwaway_cluster() as server:
        _migrate_template(server)
        yield server


def new_database(server: PostgresServer, *, migrated: bool = True) -> str:
    """The URL of a new database: a copy of the migrated template, or empty."""
    name = f"rd_{os.getpid()}_{next(_numbers)}"
    server.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {TEMPLATE}" if migrated else ""))
    return server.url(name)


def drop_database(server: PostgresServer, url: str) -> None:
    """Remove a database made by `new_database` (connections a test left open are ended)."""
    server.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RESEARCH_DESK_DATABASE_URL", url)
    reset_settings_cache()
    db.dispose_engines()
    return url


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, data_dir: Path,
                 monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database at the newest revision, made the test's metadata store."""
    return _use(new_database(postgres_server), monkeypatch)


@pytest.fixture
def empty_postgres_url(postgres_server: PostgresServer, data_dir: Path,
                       monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database with no tables at all (for the migrations themselves)."""
    return _use(new_database(postgres_server, migrated=False), monkeypatch)


def restart_postgres(server: PostgresServer) -> None:
    """Restart the cluster on its port (as an operator's `pg_ctl restart` would): every open
    connection is cut, and the server answers again once this returns."""
    _run([str(PG_BIN / "pg_ctl"), "-D", str(server.folder / "data"), "-l",
          str(server.folder / "pg.log"), "-m", "fast", "-w", "-t", "60", "restart"])
