"""Every test gets its own data folder and metadata store; nothing touches data/runtime.

A new store starts as a copy of one migrated once per test process (running every migration
again for each of ~1,000 tests was a large share of the suite's time). Tests marked
`fresh_migrations`, and every store that already exists when it is opened (those made at an
earlier revision by tests/unit/store/test_migrations.py), go through the real start-up
migrations; the browser tests' servers migrate their own stores as `make run` does.

The same suite runs on PostgreSQL: with RESEARCH_DESK_TEST_STORE=postgres every test's
metadata store is its own database, a copy of one migrated template in this process's
throwaway cluster (tests/postgres_server.py), not migrated again when the test opens it, and
dropped when the test ends. Tests that are about the DuckDB file itself are marked
`duckdb_only` with the reason and skipped there.
`--record-store-users DIR` (DuckDB pass) writes the tests that opened the metadata store to
DIR, one file per xdist worker; `--only-store-users DIR` (PostgreSQL pass) runs exactly those,
so a test that never touches the store is not run twice (Makefile `test`).
"""

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from services.prompts import runner
from services.settings import get_settings, reset_settings_cache
from services.store import db
from services.store.db import dispose_engines
from tests.live_source import live  # noqa: F401 - a live data source's fixture
from tests.postgres_server import (  # noqa: F401 - fixtures for the PostgreSQL tests
    drop_database,
    empty_postgres_url,
    new_database,
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
STORES = ("duckdb", "postgres")
# Tests that bring their own PostgreSQL database already run on PostgreSQL in both passes.
OWN_POSTGRES = {"postgres_url", "empty_postgres_url", "postgres_server"}


def _test_store() -> str:
    store = os.environ.get("RESEARCH_DESK_TEST_STORE", "duckdb")
    if store not in STORES:
        raise pytest.UsageError(f"RESEARCH_DESK_TEST_STORE must be one of {STORES}, not {store!r}")
    return store


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-store-users", metavar="DIR", default=None,
                     help="write the ids of tests that opened the metadata store to DIR")
    parser.addoption("--only-store-users", metavar="DIR", default=None,
                     help="run only the tests recorded in DIR by --record-store-users")


def pytest_configure(config: pytest.Config) -> None:
    _test_store()
    config.addinivalue_line(
        "markers", "duckdb_only(reason): about the DuckDB file itself; skipped when "
                   "RESEARCH_DESK_TEST_STORE=postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    folder = config.getoption("--only-store-users")
    if folder is None:
        return
    lists = sorted(Path(folder).glob("*.txt"))
    if not lists:  # an empty selection would pass while proving nothing
        raise pytest.UsageError(f"--only-store-users: no recorded tests in {folder}")
    wanted = {line for path in lists for line in path.read_text().splitlines() if line}
    kept = [item for item in items if item.nodeid in wanted]
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid not in wanted])
    items[:] = kept


def _record_store_user(request: pytest.FixtureRequest) -> None:
    folder = Path(request.config.getoption("--record-store-users"))
    folder.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (folder / f"{worker}.txt").open("a") as record:
        record.write(request.node.nodeid + "\n")


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


def _note_opened_stores(opened: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every metadata store the test opens (in this process) is listed in `opened`."""
    create = db._create_engine

    def create_and_note(url: str) -> Engine:
        opened.append(url)
        return create(url)

    monkeypatch.setattr(db, "_create_engine", create_and_note)


def _open_copies_unmigrated(is_copy: Callable[[str], bool],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A store whose URL `is_copy` says is a copy of the migrated template (it may make the
    copy first) is not migrated again when opened in this process (alembic loading every
    revision script took ~40 ms a test); any other store, and child processes, migrate as
    in production."""
    copies: list[Engine] = []

    def create_engine_noting_copy(url: str) -> Engine:
        copy = is_copy(url)
        engine = _real_create_engine(url)
        if copy:
            copies.append(engine)
        return engine

    def migrate_unless_copy(engine: Engine) -> None:
        if not any(engine is made for made in copies):
            _real_migrate(engine)

    monkeypatch.setattr(db, "_create_engine", create_engine_noting_copy)
    monkeypatch.setattr(db, "_migrate", migrate_unless_copy)


def _start_new_stores_from(template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A DuckDB store opened for the first time in a data folder is a copy of `template`
    (exactly what the migrations make)."""

    def copy_template(url: str) -> bool:
        data_dir = get_settings().data_dir
        target = data_dir / "metadata.duckdb"
        if url != f"duckdb:///{target}" or target.exists():
            return False
        db.ensure_data_dir(data_dir)  # what the real start-up does first (and its errors)
        shutil.copyfile(template, target)
        return True

    _open_copies_unmigrated(copy_template, monkeypatch)


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
    fresh = request.node.get_closest_marker("fresh_migrations") is not None
    own_postgres = not OWN_POSTGRES.isdisjoint(request.fixturenames)
    database_url = None
    if _test_store() == "postgres" and not own_postgres:
        duckdb_only = request.node.get_closest_marker("duckdb_only")
        if duckdb_only is not None:
            pytest.skip(f"DuckDB only: {duckdb_only.kwargs.get('reason') or duckdb_only.args[0]}")
        # Made before the test rather than on first use: child processes the test starts
        # open the store through this URL too.
        server = request.getfixturevalue("postgres_server")
        database_url = new_database(server, migrated=not fresh)
        monkeypatch.setenv("RESEARCH_DESK_DATABASE_URL", database_url)
        reset_settings_cache()
        if not fresh:
            _open_copies_unmigrated(lambda url: url == database_url, monkeypatch)
    elif not fresh:
        _start_new_stores_from(request.getfixturevalue("migrated_store"), monkeypatch)
    opened: list[str] = []
    _note_opened_stores(opened, monkeypatch)
    yield folder
    dispose_engines()
    reset_settings_cache()
    if database_url is not None:
        drop_database(server, database_url)
    # A child process that used the store left its DuckDB file in the data folder.
    used_store = bool(opened) or (folder / "metadata.duckdb").exists()
    if request.config.getoption("--record-store-users") and used_store and not own_postgres:
        _record_store_user(request)
