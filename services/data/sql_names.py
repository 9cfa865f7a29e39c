"""Safe SQL names and literals, friendly type names, and the column-name map kept in Parquet.

Parquet files store columns under their `sql_name` (lowercase ASCII, never a reserved word)
so generated SQL is easy to read; the names users see travel with the file in Parquet
key-value metadata (`COLUMNS_KEY`), so any reader of the file can show the real names.
"""

import json
import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from services.data import duck, duckdb_errors
from services.data.column_kinds import friendly_type
from services.data.dataset_models import ColumnInfo

COLUMNS_KEY = "research_desk_columns"
MAX_SQL_NAME = 60



def quote_ident(name: str) -> str:
    """Double-quote an identifier; embedded quotes are doubled, so any text is safe."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: str | float | int | bool | None) -> str:
    """A SQL literal for a user value. Strings are single-quoted with quotes doubled
    (DuckDB has no backslash escapes in standard strings), so nothing can break out."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("Only finite numbers can be used here.")
        return repr(value)
    return "'" + str(value).replace("\x00", "").replace("'", "''") + "'"


def path_literal(path: Path) -> str:
    return sql_literal(str(path))


@lru_cache(maxsize=1)
def _reserved_words() -> frozenset[str]:
    rows = duck.query_rows("SELECT keyword_name FROM duckdb_keywords() "
                           "WHERE keyword_category <> 'unreserved'")
    return frozenset(str(r[0]).lower() for r in rows)


def base_sql_name(display: str) -> str:
    """lowercase ASCII letters, digits and underscores; starts with a letter; not reserved."""
    ascii_text = unicodedata.normalize("NFKD", display).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")
    slug = slug[:MAX_SQL_NAME].rstrip("_") or "column"
    if slug[0].isdigit():
        slug = "c_" + slug
    if slug in _reserved_words():
        slug += "_"
    return slug


def derive_sql_names(display_names: list[str]) -> list[str]:
    """One unique safe name per column, in order ("price", "price_2", ...)."""
    used: set[str] = set()
    result: list[str] = []
    for display in display_names:
        base = base_sql_name(display)
        candidate, n = base, 2
        while candidate in used:
            candidate = f"{base[:MAX_SQL_NAME - 4]}_{n}"
            n += 1
        used.add(candidate)
        result.append(candidate)
    return result


def unique_display_names(raw: list[str | None]) -> tuple[list[str], list[str]]:
    """Blank names become "Column 3", repeats become "name (2)"; returns (names, warnings)."""
    warnings: list[str] = []
    names: list[str] = []
    seen: set[str] = set()
    blank_positions: list[int] = []
    renamed: list[str] = []
    for position, value in enumerate(raw, start=1):
        name = " ".join(str(value).split()) if value is not None else ""
        if not name:
            blank_positions.append(position)
            name = f"Column {position}"
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate = f"{name} ({n})"
            n += 1
        if candidate != name:
            renamed.append(f"“{name}” → “{candidate}”")
        seen.add(candidate.lower())
        names.append(candidate)
    if blank_positions:
        listed = ", ".join(str(p) for p in blank_positions[:10])
        warnings.append(f"Column(s) {listed} had no name, so they are called “Column N”.")
    if renamed:
        warnings.append("Some column names were repeated and were renamed: "
                        + ", ".join(renamed[:10]) + ".")
    return names, warnings


def kv_metadata_clause(columns: list[ColumnInfo]) -> str:
    """The KV_METADATA option of COPY ... TO parquet carrying the display names."""
    payload = [{"name": c.name, "sql_name": c.sql_name, "dtype": c.dtype} for c in columns]
    return f"KV_METADATA {{{COLUMNS_KEY}: {sql_literal(json.dumps(payload))}}}"


def read_columns(parquet_path: Path, con: duckdb.DuckDBPyConnection | None = None,
                 ) -> list[ColumnInfo]:
    """Columns of a Parquet file with their display names (falls back to the raw names);
    on `con` when given (a session's), else through the door."""
    def rows(sql: str) -> list[tuple[Any, ...]]:
        if con is not None:
            return con.execute(sql).fetchall()
        return duck.query_rows(sql, task=duckdb_errors.SCHEMA)

    source = path_literal(parquet_path)
    schema = rows(f"DESCRIBE SELECT * FROM read_parquet({source})")
    meta = rows(
        f"SELECT decode(value) FROM parquet_kv_metadata({source}) "
        f"WHERE decode(key) = {sql_literal(COLUMNS_KEY)}"
    )
    known: dict[str, dict[str, str]] = {}
    if meta:
        known = {entry["sql_name"]: entry for entry in json.loads(meta[0][0])}
    result = []
    for row in schema:
        sql_name, duck_type = str(row[0]), str(row[1])
        entry = known.get(sql_name, {})
        dtype = friendly_type(duck_type)
        if entry.get("dtype") == "category" and dtype == "text":
            dtype = "category"
        result.append(ColumnInfo(name=entry.get("name", sql_name), sql_name=sql_name,
                                 dtype=dtype, duckdb_type=duck_type))
    return result


def number_expr(column_sql: str, decimal: str = ".", *, strict: bool = False) -> str:
    """SQL turning text like "1,234", "$5", "12 %", "1.234,50 €", "(3)" into a DOUBLE, read
    with this decimal mark and any thousands mark (see services.data.text_reading, which decides
    and reads every number written as text). Unreadable text becomes missing, or raises an
    error when `strict`."""
    from services.data import text_reading  # text_reading builds on this module

    if decimal not in (".", ","):
        raise ValueError("decimal must be '.' or ','")
    fmt = text_reading.NumberFormat(decimal=decimal)  # type: ignore[arg-type]
    return text_reading.number_sql(column_sql, fmt, strict=strict, any_thousands=True)
