"""A DuckDB metadata file held by another process (a running server beside a command): the
command waits a little for it, then says so in plain words instead of suggesting damage."""

import subprocess
import sys
from pathlib import Path

import pytest

from services.errors import StorageUnavailable
from services.store import db

HOLD = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
        " time.sleep(60)")


@pytest.mark.duckdb_only(reason="the DuckDB file lock; PostgreSQL serves many processes")
def test_a_store_held_by_another_process_is_named_as_such(
        migrated_store: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db.ensure_data_dir(data_dir)
    target = data_dir / "metadata.duckdb"
    target.write_bytes(migrated_store.read_bytes())
    monkeypatch.setattr(db, "DUCKDB_LOCK_WAIT_SECONDS", 0.3)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], text=True,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StorageUnavailable, match="Another Research Desk process"):
            db.get_engine()
    finally:
        holder.kill()
        holder.wait()
    db.dispose_engines()
    assert db.get_engine() is not None  # free again: it opens
