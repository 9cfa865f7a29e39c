"""Reading a version's file for people: a preview, and downloads that are safe to open.

CSV exports neutralise spreadsheet formula injection: a text cell starting with = + - @
(or a tab/carriage return) gets a leading apostrophe, so Excel shows it instead of running it.
"""

import tempfile
from pathlib import Path

import pandas as pd

from services import duck
from services.sql_names import path_literal, quote_ident, read_columns

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def preview(parquet_path: Path, *, limit: int = 100) -> pd.DataFrame:
    """The first rows, with the column names people see."""
    columns = read_columns(parquet_path)
    select = ", ".join(f"{quote_ident(c.sql_name)} AS {quote_ident(c.name)}" for c in columns)
    with duck.connect() as con:
        return con.execute(
            f"SELECT {select} FROM read_parquet({path_literal(parquet_path)}) LIMIT {int(limit)}"
        ).df()


def _safe_text(column_sql: str) -> str:
    starts = ", ".join(f"'{c}'" for c in FORMULA_STARTS)
    return (
        f"CASE WHEN left({column_sql}, 1) IN ({starts}) THEN '''' || {column_sql} "
        f"ELSE {column_sql} END"
    )


def csv_bytes(parquet_path: Path) -> bytes:
    """The whole version as UTF-8 CSV with the display names as header, formula-safe."""
    columns = read_columns(parquet_path)
    parts = []
    for column in columns:
        source = quote_ident(column.sql_name)
        is_text = column.duckdb_type.upper().startswith("VARCHAR")
        expression = _safe_text(source) if is_text else source
        parts.append(f"{expression} AS {quote_ident(_safe_header(column.name))}")
    with tempfile.TemporaryDirectory() as folder, duck.connect() as con:
        target = Path(folder) / "export.csv"
        con.execute(
            f"COPY (SELECT {', '.join(parts)} FROM read_parquet({path_literal(parquet_path)})) "
            f"TO {path_literal(target)} (HEADER, DELIMITER ',')"
        )
        return target.read_bytes()


def frame_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A small in-memory table (chart data, query result) as formula-safe CSV."""
    safe = frame.copy()
    safe.columns = [_safe_header(str(c)) for c in safe.columns]
    for name in safe.columns:
        if safe[name].dtype == object or pd.api.types.is_string_dtype(safe[name]):
            values = safe[name].astype("string")
            risky = values.str.startswith(FORMULA_STARTS).fillna(False)
            safe[name] = values.where(~risky, "'" + values)
    return safe.to_csv(index=False).encode("utf-8")


def _safe_header(name: str) -> str:
    return "'" + name if name.startswith(FORMULA_STARTS) else name


def parquet_bytes(parquet_path: Path) -> bytes:
    return parquet_path.read_bytes()
