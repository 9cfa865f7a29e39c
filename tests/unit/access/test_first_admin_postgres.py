"""Two first admins at once, from two processes (two servers, or the page and the command
line): exactly one is created, the other is told an admin exists. On PostgreSQL and on the
embedded DuckDB store (where the second process waits for the first to let go of the file)."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.postgres_server import PostgresServer, new_database

ROOT = Path(__file__).resolve().parents[3]
ROUNDS = 5
CHILD = """
import json, os, sys, time
from pathlib import Path
from services.access import users
from services.errors import Conflict
from services.settings import reset_settings_cache
from services.store import db
who, folder, stores = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
for round_, env in enumerate(stores):
    os.environ.update(env)
    reset_settings_cache()
    new = users.NewUser.parse(username=f"{who}{round_}", name=who, email="",
                              password="plum-orchard-58", role="admin")
    if "RESEARCH_DESK_DATABASE_URL" in env:
        db.get_engine()  # connected and ready before the starting signal (PostgreSQL)
    (folder / f"ready-{round_}-{who}").touch()
    while not (folder / f"go-{round_}").exists():
        time.sleep(0.005)
    try:
        users.create_first_admin(new)
        print("created", flush=True)
    except Conflict as error:
        print(error, flush=True)
    db.dispose_engines()  # let go of a DuckDB file for the other process
"""


def _race(stores: list[dict[str, str]], folder: Path) -> list[list[str]]:
    """Two processes call create_first_admin at the same moment on each store in turn; what
    each said, per store."""
    children = [subprocess.Popen(
        [sys.executable, "-c", CHILD, who, str(folder), json.dumps(stores)], cwd=ROOT,
        env=dict(os.environ), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for who in ("ana", "ben")]
    for round_ in range(len(stores)):
        deadline = time.monotonic() + 60
        while not all((folder / f"ready-{round_}-{who}").exists() for who in ("ana", "ben")):
            assert time.monotonic() < deadline and all(c.poll() is None for c in children), \
                [c.communicate() for c in children if c.poll() is not None]
            time.sleep(0.005)
        (folder / f"go-{round_}").touch()
    said = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        said.append(out.splitlines())
    return [list(pair) for pair in zip(*said, strict=True)]


def _admins(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text("SELECT count(*) FROM users WHERE role = 'admin'")))
    finally:
        engine.dispose()


def _exactly_one_each(results: list[list[str]]) -> None:
    for pair in results:
        assert sorted(pair) == ["An admin account already exists. Please sign in instead.",
                                "created"]


def test_one_first_admin_on_postgres(postgres_server: PostgresServer, tmp_path: Path) -> None:
    urls = [new_database(postgres_server) for _ in range(ROUNDS)]
    _exactly_one_each(_race([{"RESEARCH_DESK_DATABASE_URL": url} for url in urls], tmp_path))
    assert [_admins(url) for url in urls] == [1] * ROUNDS


def test_one_first_admin_on_duckdb(migrated_store: Path, tmp_path: Path) -> None:
    folders = [tmp_path / f"data-{n}" for n in range(ROUNDS)]
    for folder in folders:
        folder.mkdir(mode=0o700)
        shutil.copyfile(migrated_store, folder / "metadata.duckdb")
    results = _race([{"RESEARCH_DESK_DATA_DIR": str(folder)} for folder in folders], tmp_path)
    _exactly_one_each(results)
    assert [_admins(f"duckdb:///{f / 'metadata.duckdb'}") for f in folders] == [1] * ROUNDS


@pytest.fixture(autouse=True)
def _no_store_open_here() -> None:
    """The children must be the only processes holding the DuckDB files."""
    from services.store.db import dispose_engines  # noqa: PLC0415

    dispose_engines()
