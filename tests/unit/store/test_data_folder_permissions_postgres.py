"""With the metadata in PostgreSQL the data folder still holds everyone's datasets and
uploads: it is owner-only (0700, files 0600) as README promises, as with DuckDB."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.data import datasets
from services.store.db import dispose_engines, get_engine
from tests.factories import make_admin


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """Files made as a fresh process makes them (an earlier test may have tightened it)."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_the_data_folder_is_owner_only_on_postgres(postgres_url: str, data_dir: Path,
                                                    usual_umask: None) -> None:
    data_dir.mkdir(parents=True)
    data_dir.chmod(0o755)
    leftover = data_dir / "notes.txt"
    leftover.write_text("x")
    leftover.chmod(0o644)
    dispose_engines()
    get_engine()
    assert (_mode(data_dir), _mode(leftover)) == (0o700, 0o600)
    datasets.create_from_sample(make_admin(), "tips")
    parquet = next((data_dir / "datasets").rglob("*.parquet"))
    assert _mode(parquet) & 0o077 == 0
    assert _mode(parquet.parent) & 0o077 == 0
