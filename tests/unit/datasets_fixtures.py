"""Helpers shared by the datasets engine tests (imported explicitly, not a conftest)."""

from pathlib import Path

import duckdb
import pandas as pd

from services.data.dataset_models import IngestResult
from services.data.ingest import ingest_file

# One in-memory DuckDB for reading and writing test files (a cursor per call): opening a new
# database each time cost more than the query.
_DUCK = duckdb.connect()


def write_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def ingest_text(folder: Path, name: str, text: str, encoding: str = "utf-8") -> IngestResult:
    path = write_bytes(folder, name, text.encode(encoding))
    return ingest_file(path, original_name=name, dest_dir=folder / "out")


def rows_of(result: IngestResult) -> list[tuple]:
    con = _DUCK.cursor()
    try:
        return con.execute(f"SELECT * FROM read_parquet('{result.parquet_path}')").fetchall()
    finally:
        con.close()


def parquet_files(folder: Path) -> list[Path]:
    """Every file left in the output folder (including hidden temporary ones)."""
    out = folder / "out"
    return sorted(out.iterdir()) if out.exists() else []


def frame_parquet(tmp_path: Path, frame: pd.DataFrame, name: str = "in.parquet") -> Path:
    """`frame` written as a Parquet file in `tmp_path` (DuckDB, as the app writes them)."""
    path = tmp_path / name
    con = _DUCK.cursor()
    try:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    finally:
        con.close()
    return path
