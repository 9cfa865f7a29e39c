"""Migrations upgrade a store that is already in use, not only an empty one: a store made
by each earlier revision, with people and datasets in it, reaches the newest schema with
every row intact and its constraints in force."""

from datetime import datetime

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from services.access import users
from services.data import datasets
from services.settings import get_settings
from services.store.db import MIGRATIONS_DIR, dispose_engines, get_engine


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _revisions() -> list[str]:
    """Every revision that has the dataset tables (0002 on), except the newest."""
    script = ScriptDirectory.from_config(_config())
    head = script.get_current_head()
    ordered = [r.revision for r in reversed(list(script.walk_revisions()))]
    return [r for r in ordered if r not in ("0001", head)]


# The test makes its store at an earlier revision itself (on PostgreSQL: an empty database)
pytestmark = pytest.mark.fresh_migrations
WHEN = datetime(2025, 3, 1, 12, 0)


def _store_at(revision: str) -> None:
    """A store migrated only to `revision`, with a person, a dataset and two versions."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # as rows were written before 0011: the absolute path of a file inside the data folder
    old_file = str(settings.data_dir / "datasets" / "old" / "data.parquet")
    engine = create_engine(settings.metadata_url)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (username, name, email, password_hash, role, disabled, "
            "failed_logins, locked_until, created_at) VALUES ('old', 'Olga Old', '', "
            "'$2b$04$notarealhashnotarealhashnotarealhashnotarealhashnotar', 'analyst', "
            "false, 0, NULL, :when)"), {"when": WHEN})
        connection.execute(text(
            "INSERT INTO datasets (name, description, owner, visibility, current_version, "
            "created_at, updated_at) VALUES ('Old sales', 'kept', 'old', 'private', 2, "
            ":when, :when)"), {"when": WHEN})
        for version, rows in ((1, 10), (2, 8)):
            connection.execute(text(
                "INSERT INTO dataset_versions (dataset_id, version, parquet_path, rows, "
                "columns, bytes, source, recipe, recipe_sql, note, created_by, created_at) "
                "SELECT id, :version, :path, :rows, 3, 1000, 'upload', NULL, '', "
                "'', 'old', :when FROM datasets"), {"version": version, "rows": rows,
                                                   "when": WHEN, "path": old_file})
    engine.dispose()


@pytest.mark.parametrize("revision", _revisions())
def test_a_store_in_use_at_an_earlier_revision_upgrades_with_its_rows(revision: str) -> None:
    _store_at(revision)
    dispose_engines()
    engine = get_engine()  # start-up: migrates to the newest revision
    with engine.connect() as connection:
        at = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert at == ScriptDirectory.from_config(_config()).get_current_head()

    olga = users.get_user("old")
    assert olga is not None and olga.name == "Olga Old"
    assert users.is_session_current("old", 0)  # 0004's column is filled for earlier people
    (kept,) = datasets.list_datasets(olga)
    assert (kept.name, kept.description, kept.versions, kept.rows) == ("Old sales", "kept", 2, 8)
    assert [v.version for v in datasets.list_versions(olga, kept.id)] == [2, 1]

    # (dataset, version) stays unique after the upgrade: a second "version 2" is refused
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO dataset_versions (dataset_id, version, parquet_path, rows, columns, "
            "bytes, source, recipe, recipe_sql, note, created_by, created_at) VALUES "
            "(:id, 2, '/x', 1, 1, 1, 'again', NULL, '', '', 'old', :when)"),
            {"id": kept.id, "when": WHEN})
    # and the service still numbers the next version after the old ones
    assert datasets.restore_version(olga, kept.id, 1).version == 3


def test_every_revision_but_the_first_and_the_newest_is_upgraded_from() -> None:
    assert _revisions()[:2] == ["0002", "0003"]
