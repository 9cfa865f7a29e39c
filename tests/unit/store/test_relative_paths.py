"""Dataset files are stored relative to the data folder: migration 0011 rewrites old absolute
rows, and a data folder moved or renamed to another path still opens every version."""

import logging
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from services.access.users import UserView
from services.data import data_folder, dataset_files, datasets
from services.data.dataset_models import Impute
from services.errors import NotFound
from services.settings import get_settings, reset_settings_cache
from services.store.db import MIGRATIONS_DIR, dispose_engines, get_engine
from tests.factories import make_admin

WHEN = "2025-03-01 12:00:00"


def _store_at_0010(paths: list[str], recipe: str | None) -> None:
    """A store at revision 0010 (the one before relative paths), one version per path."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.metadata_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0010")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO datasets (name, description, owner, visibility, current_version, "
            "created_at, updated_at) VALUES ('Old', '', 'old', 'private', 1, :w, :w)"),
            {"w": WHEN})
        for number, path in enumerate(paths, start=1):
            connection.execute(text(
                "INSERT INTO dataset_versions (dataset_id, version, parquet_path, rows, "
                "columns, bytes, source, recipe, recipe_sql, note, created_by, created_at) "
                "SELECT id, :n, :path, 1, 1, 1, 'upload', :recipe, '', '', 'old', :w "
                "FROM datasets"), {"n": number, "path": path, "recipe": recipe, "w": WHEN})
    engine.dispose()


def _stored_rows() -> list[tuple[str, str | None]]:
    with get_engine().connect() as connection:
        return [(str(r[0]), r[1]) for r in connection.execute(text(
            "SELECT parquet_path, CAST(recipe AS VARCHAR) FROM dataset_versions "
            "ORDER BY version"))]


@pytest.mark.duckdb_only(reason=(
    "builds an embedded store at the old revision; the migration is plain"
    " SQL that runs alike on PostgreSQL"))
def test_the_migration_makes_old_absolute_rows_relative_and_leaves_outside_ones(
        data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    inside = data_dir / "datasets" / "abc" / "data.parquet"
    results = data_dir / "datasets" / "abc" / "claude_1.parquet"
    recipe = ('[{"kind": "add_claude_columns", "results_file": "' + str(results) + '"}]')
    _store_at_0010([str(inside), "/elsewhere/data.parquet"], recipe)
    dispose_engines()
    with caplog.at_level(logging.WARNING):
        rows = _stored_rows()  # opening the store migrates it
    assert rows[0][0] == "datasets/abc/data.parquet"
    assert '"results_file": "datasets/abc/claude_1.parquet"' in (rows[0][1] or "").replace(
        '":"', '": "')
    assert rows[1][0] == "/elsewhere/data.parquet"  # outside the data folder: left, logged
    assert any("outside the data folder" in r.getMessage() for r in caplog.records)


def _two_versions(tmp_path: Path) -> tuple[UserView, int]:
    admin = make_admin()
    source = tmp_path / "sales.csv"
    source.write_text("region,amount\nNorth,1\nSouth,\nEast,3\n", encoding="utf-8")
    view, _ = datasets.create_from_upload(admin, source, original_name="sales.csv")
    datasets.apply_steps(admin, view.id, [Impute(column="amount", method="constant", value=0)])
    return admin, view.id


def _rows_of_every_version(admin: UserView, dataset_id: int) -> dict[int, list]:
    return {v.version: dataset_files.preview(v.parquet_path).to_dict("records")
            for v in datasets.list_versions(admin, dataset_id)}


def test_new_versions_are_stored_relative_to_the_data_folder(tmp_path: Path) -> None:
    _two_versions(tmp_path)
    paths = [row[0] for row in _stored_rows()]
    assert len(paths) == 2
    assert all(p.startswith("datasets/") and not Path(p).is_absolute() for p in paths)


def test_a_data_folder_moved_elsewhere_still_opens_every_version(
        tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    admin, dataset_id = _two_versions(tmp_path)
    before = _rows_of_every_version(admin, dataset_id)
    assert set(before) == {1, 2} and before[1] != before[2]
    dispose_engines()
    moved = tmp_path / "moved" / "renamed-data"
    moved.parent.mkdir()
    shutil.move(data_dir, moved)
    monkeypatch.setenv("RESEARCH_DESK_DATA_DIR", str(moved))
    reset_settings_cache()
    assert _rows_of_every_version(admin, dataset_id) == before
    assert datasets.original_file(admin, dataset_id) is not None
    assert datasets.restore_version(admin, dataset_id, 1).parquet_path.is_relative_to(moved)


@pytest.mark.parametrize("stored", ["../x", "datasets/../../x", "/etc/passwd", "", "."])
def test_a_stored_path_escaping_the_data_folder_is_refused(stored: str) -> None:
    assert not data_folder.is_inside(stored)
    with pytest.raises(NotFound):
        data_folder.resolve(stored)


def test_a_stored_path_resolves_inside_the_data_folder(data_dir: Path) -> None:
    assert data_folder.resolve("datasets/a/data.parquet") == data_dir / "datasets/a/data.parquet"
    assert data_folder.stored(data_dir / "datasets" / "a" / "data.parquet") == \
        "datasets/a/data.parquet"
