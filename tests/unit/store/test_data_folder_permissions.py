"""The data folder holds password hashes and everyone's data: owner-only throughout."""

import stat
from pathlib import Path

import pytest

from services.data import datasets
from services.store.db import dispose_engines, get_engine
from tests.factories import make_admin

# a new folder's store is created by start-up itself, as in production
pytestmark = pytest.mark.fresh_migrations


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.duckdb_only(reason="the DuckDB file's own mode; the folder on PostgreSQL is "
                                "test_data_folder_permissions_postgres.py")
def test_a_new_data_folder_and_its_files_are_owner_only(data_dir: Path) -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "tips")
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "metadata.duckdb") == 0o600
    parquet = next((data_dir / "datasets").rglob("*.parquet"))
    assert _mode(parquet) & 0o077 == 0
    assert _mode(parquet.parent) & 0o077 == 0
    assert view.rows == 244


def test_an_existing_world_readable_folder_is_tightened(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    data_dir.chmod(0o755)
    (data_dir / "old").mkdir(mode=0o755)
    leftover = data_dir / "old" / "notes.txt"
    leftover.write_text("x")
    leftover.chmod(0o644)
    dispose_engines()
    get_engine()
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "old") == 0o700
    assert _mode(leftover) == 0o600
