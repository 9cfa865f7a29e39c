"""Reading a version's file for people: a preview, and downloads that are safe to open.

CSV exports neutralise spreadsheet formula injection (OWASP "CSV Injection"): wherever a
text cell, or any line inside it, starts with = + - @ tab or carriage return, an apostrophe is
put in front, so a spreadsheet shows it instead of running it. `neutralise_formulas` is the
rule; every download (whole version, Ask answers, Explore charts and tables) goes through it,
for every column that a CSV writes as text: text, but also binary (BLOB), lists, JSON and any
other type that is not a number, a date or time, or true/false.
"""

import re
import tempfile
from pathlib import Path

import pandas as pd

from services.data import duck, duckdb_errors
from services.data.column_kinds import friendly_type
from services.data.sql_names import path_literal, quote_ident, read_columns

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_RISKY = r"=+\-@\t\r"
# Before a risky character at the start of the cell or right after a line break inside it.
_FORMULA = re.compile(rf"(?:^|(?<=[\r\n]))(?=[{_RISKY}])")
_SQL_AFTER_BREAK = rf"([\r\n])([{_RISKY}])"  # DuckDB's RE2 has no look-behind: run twice
# Types whose CSV text DuckDB writes itself (digits, dates, true/false): they cannot hold a
# formula, and a negative number must stay a number.
_NOT_TEXT = ("whole number", "number", "date", "date and time", "time", "true/false")


def neutralise_formulas(text: str) -> str:
    """The one rule for exported text: "South\\r=cmd|…" becomes "South\\r'=cmd|…"."""
    return _FORMULA.sub("'", text)


def preview(parquet_path: Path, *, limit: int = 100) -> pd.DataFrame:
    """The first rows, with the column names people see."""
    columns = read_columns(parquet_path)
    select = ", ".join(f"{quote_ident(c.sql_name)} AS {quote_ident(c.name)}" for c in columns)
    return duck.query_frame(
        f"SELECT {select} FROM read_parquet({path_literal(parquet_path)}) LIMIT {int(limit)}",
        row_limit=int(limit), task=duckdb_errors.PREVIEW)


def _safe_text(column_sql: str) -> str:
    """`neutralise_formulas` in DuckDB SQL, so a whole version never passes through pandas."""
    starts = ", ".join(f"'{c}'" for c in FORMULA_STARTS)
    inner = column_sql
    for _ in range(2):  # the second pass catches breaks whose neighbour the first one used
        inner = f"regexp_replace({inner}, '{_SQL_AFTER_BREAK}', '\\1''\\2', 'g')"
    return (
        f"CASE WHEN left({column_sql}, 1) IN ({starts}) THEN '''' || {inner} "
        f"ELSE {inner} END"
    )


def csv_bytes(parquet_path: Path) -> bytes:
    """The whole version as UTF-8 CSV with the display names as header, formula-safe."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "export.csv"
        write_csv(parquet_path, target)
        return target.read_bytes()


def write_csv(parquet_path: Path, target: Path) -> None:
    """`csv_bytes` written to a file instead (a large version never sits in memory)."""
    columns = read_columns(parquet_path)
    parts = []
    for column in columns:
        source = quote_ident(column.sql_name)
        is_text = friendly_type(column.duckdb_type) not in _NOT_TEXT
        expression = _safe_text(f"CAST({source} AS VARCHAR)") if is_text else source
        parts.append(f"{expression} AS {quote_ident(_safe_header(column.name))}")
    with duck.session(task=duckdb_errors.DOWNLOAD) as con:
        con.execute(
            f"COPY (SELECT {', '.join(parts)} FROM read_parquet({path_literal(parquet_path)})) "
            f"TO {path_literal(target)} (HEADER, DELIMITER ',')"
        )


def frame_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A small in-memory table (chart data, query result) as formula-safe CSV."""
    safe = frame.copy()
    safe.columns = [_safe_header(str(c)) for c in safe.columns]
    for name in safe.columns:
        if _written_as_text(safe[name]):
            values = safe[name].map(_binary_text, na_action="ignore").astype("string")
            safe[name] = values.str.replace(_FORMULA, "'", regex=True)
    # CRLF row ends (RFC 4180) make pandas quote any cell holding \r, as DuckDB does.
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def _written_as_text(values: pd.Series) -> bool:
    types = pd.api.types
    return not (types.is_numeric_dtype(values) or types.is_bool_dtype(values) or
                types.is_datetime64_any_dtype(values))


def _binary_text(value: object) -> object:
    """Bytes (a BLOB cell) as DuckDB writes them: text, with \\xNN for what is not."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "backslashreplace")
    return value


def _safe_header(name: str) -> str:
    return neutralise_formulas(name)


def parquet_bytes(parquet_path: Path) -> bytes:
    return parquet_path.read_bytes()
