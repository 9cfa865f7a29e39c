"""kill -9 in the middle of an ingest or a cleaning run leaves no readable half version."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[3]

INGEST = """
import sys
from pathlib import Path
from services.data.ingest import ingest_file
ingest_file(Path(sys.argv[1]), original_name="big.csv", dest_dir=Path(sys.argv[2]))
print("finished")
"""

CLEAN = """
import sys
from pathlib import Path
from services.data.cleaning import apply_recipe
from services.data.dataset_models import Trim
apply_recipe(Path(sys.argv[1]), [Trim(columns=["name"])], Path(sys.argv[2]) / "v2.parquet")
print("finished")
"""


def _big_csv(path: Path) -> None:
    duckdb.sql(
        "COPY (SELECT i AS id, 'name ' || (i % 1000) AS name, i * 1.5 AS amount "
        f"FROM range(3000000) t(i)) TO '{path}' (HEADER)"
    )


def _kill_midway(script: str, source: Path, dest: Path) -> bool:
    """Run the script, kill it hard once its temp file appears; True if it was interrupted."""
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(source), str(dest)], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if any(dest.glob(".*.tmp")):
            time.sleep(0.05)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.01)
    process.wait()
    return False


def _readable_versions(dest: Path) -> list[Path]:
    return [p for p in dest.glob("*.parquet") if not p.name.startswith(".")]


def test_kill_during_ingest_leaves_no_version(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    _big_csv(source)
    dest = tmp_path / "out"
    dest.mkdir()
    assert _kill_midway(INGEST, source, dest), "the ingest finished before it could be killed"
    assert _readable_versions(dest) == []


def test_kill_during_cleaning_leaves_no_version(tmp_path: Path) -> None:
    source = tmp_path / "big.parquet"
    duckdb.sql(
        "COPY (SELECT i AS id, ' name ' || (i % 1000) AS name FROM range(6000000) t(i)) "
        f"TO '{source}' (FORMAT parquet)"
    )
    dest = tmp_path / "out"
    dest.mkdir()
    assert _kill_midway(CLEAN, source, dest), "the cleaning finished before it could be killed"
    assert _readable_versions(dest) == []
