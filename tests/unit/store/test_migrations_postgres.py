"""Migrations on PostgreSQL: several servers may start on one empty database at once, the
stock `alembic upgrade head` works, and the models and migrations describe the same schema."""

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from services.store.db import MIGRATIONS_DIR, dispose_engines
from services.store.models import Base

ROOT = Path(__file__).resolve().parents[3]


def _head() -> str:
    return str(ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head())


def _versions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def _start(*command: str) -> subprocess.Popen:
    return subprocess.Popen(list(command), cwd=ROOT, env=dict(os.environ), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_processes_migrate_an_empty_database_at_once(empty_postgres_url: str) -> None:
    dispose_engines()
    migrating = [_start(sys.executable, "-m", "services.cli", "migrate") for _ in range(2)]
    finished = [(process.wait(timeout=120), *process.communicate()) for process in migrating]
    for code, out, err in finished:
        assert code == 0, err
        assert f"revision {_head()}" in out
    assert _versions(empty_postgres_url) == [_head()]


def test_stock_alembic_upgrade_head_uses_the_settings(empty_postgres_url: str) -> None:
    done = _start(str(Path(sys.executable).parent / "alembic"), "upgrade", "head")
    code = done.wait(timeout=120)
    assert code == 0, done.communicate()[1]
    assert _versions(empty_postgres_url) == [_head()]
    checked = _start(str(Path(sys.executable).parent / "alembic"), "check")
    assert checked.wait(timeout=120) == 0, checked.communicate()


def test_models_match_the_migrations_on_postgres(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert drift == []
    assert set(Base.metadata.tables) <= tables


def test_the_server_migrates_when_it_starts_not_on_the_first_request(
        empty_postgres_url: str) -> None:
    loading = _start(sys.executable, "-c", "import asgi")
    assert loading.wait(timeout=120) == 0, loading.communicate()[1]
    assert _versions(empty_postgres_url) == [_head()]
