"""Every test gets its own data folder and metadata store; nothing touches data/runtime.

A new store starts as a copy of one migrated once per test process (running every migration
again for each of ~1,000 tests was a large share of the suite's time). Tests marked
`fresh_migrations`, and every store that already exists when it is opened (those made at an
earlier revision by tests/unit/store/test_migrations.py), go through the real start-up
migrations; the browser tests' servers migrate their own stores as `make run` does.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from services.prompts import runner
from services.settings import get_settings, reset_settings_cache
from services.store import db
from services.store.db import dispose_engines
from tests.postgres_server import (  # noqa: F401 - fixtures for the PostgreSQL tests
    empty_postgres_url,
    postgres_server,
    postgres_url,
)
from tests.redis_server import redis_server, redis_url  # noqa: F401 - Redis tests' fixtures

ENV_TO_CLEAR = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "RESEARCH_DESK_DATABASE_URL",
    "RESEARCH_DESK_COOKIE_KEY",
    "RESEARCH_DESK_MODEL",
    "RESEARCH_DESK_REDIS_URL",
)
_real_create_engine = db._create_engine
_real_migrate = db._migrate


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A metadata store at the newest revision, made by the real migrations."""
    path = tmp_path_factory.mktemp("migrated-store") / "metadata.duckdb"
    engine = create_engine(f"duckdb:///{path}")
    try:
        _real_migrate(engine)
    finally:
        engine.dispose()
    return path


def _start_new_stores_from(template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store opened for the first time in a data folder is a copy of `template` (exactly
    what the migrations make); any other store is opened and migrated as in production."""
    copied: list[Engine] = []

    def create_engine_from_template(url: str) -> Engine:
        data_dir = get_settings().data_dir
        target = data_dir / "metadata.duckdb"
        if url != f"duckdb:///{target}" or target.exists():
            return _real_create_engine(url)
        db.ensure_data_dir(data_dir)  # what the real start-up does first (and its errors)
        shutil.copyfile(template, target)
        engine = _real_create_engine(url)
        copied.append(engine)
        return engine

    def migrate_unless_copied(engine: Engine) -> None:
        if not any(engine is made for made in copied):
            _real_migrate(engine)

    monkeypatch.setattr(db, "_create_engine", create_engine_from_template)
    monkeypatch.setattr(db, "_migrate", migrate_unless_copied)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             request: pytest.FixtureRequest) -> Iterator[Path]:
    folder = tmp_path / "data"
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RESEARCH_DESK_DATA_DIR", str(folder))
    monkeypatch.setenv("RESEARCH_DESK_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("RESEARCH_DESK_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    reset_settings_cache()
    dispose_engines()
    # The app's start-up starts a resume loop that would take other tests' stale jobs; a
    # test that wants one starts `runner.ResumeLoop` itself.
    monkeypatch.setattr(runner, "start_resume_loop", lambda: None)
    if request.node.get_closest_marker("fresh_migrations") is None:
        _start_new_stores_from(request.getfixturevalue("migrated_store"), monkeypatch)
    yield folder
    dispose_engines()
    reset_settings_cache()
