"""Per-column summary statistics of a dataset version, computed in DuckDB.

Three kinds of query, each reading only the columns it needs from Parquet:
1. one pass with every cheap aggregate (counts, approximate distinct counts, min/max/mean/
   std), then exact distinct counts of integer ID columns as bitmaps and the duplicate-row
   count (via that ID column, or else a 64-bit hash of each row);
2. per column, a GROUP BY for the exact distinct count and the top values — skipped for
   nearly-unique columns with more than 100,000 distinct values, whose count stays
   approximate (the expensive part of a naive profile). For a numeric column with up to
   250,000 distinct values the whole value → count table comes back as arrays, and its
   quartiles, histogram and outliers are computed from that table without reading the
   column again;
3. for the remaining numeric columns, one holistic query for quartiles and one pass for
   histograms and outlier counts.
"""

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np

from services.data import duck, duckdb_errors
from services.data.column_kinds import INTEGER_TYPES, NUMBER_TYPES, ORDERED_TYPES, TEXT_TYPES
from services.data.dataset_models import (
    ColumnInfo,
    ColumnProfile,
    DatasetProfile,
    HistogramBin,
    ValueCount,
)
from services.data.sql_names import path_literal, quote_ident, read_columns
from services.settings import get_settings

EXACT_DISTINCT_LIMIT = 100_000
FREQUENCY_LIMIT = 250_000
BITMAP_LIMIT = 1 << 28  # bits (32 MB) for an exact distinct count of an integer column
# bitstring_agg counts distinct values of integers up to 64 bits
_BITMAP_TYPES = tuple(t for t in INTEGER_TYPES if "HUGEINT" not in t)
TOP_N = 10
BINS = 20
_NUMERIC = NUMBER_TYPES
_ORDERED = ORDERED_TYPES


WIDE_COLUMNS = 150  # more columns than this are profiled in batches
Progress = Callable[[int, int], None]  # (columns done, columns in all)
BATCH_CELLS = 4_000_000  # values per batch copied into memory (rows × columns)
MAX_BATCH_COLUMNS = 200


def profile_dataset(parquet_path: Path, *, on_progress: Progress | None = None,
                    ) -> DatasetProfile:
    """Rows, duplicate rows, size and a `ColumnProfile` per column of a Parquet file.

    A wide table (hundreds or thousands of columns) is profiled a batch of columns at a
    time, so memory and query size stay bounded however many columns there are;
    `on_progress(columns done, columns in all)` hears after each batch."""
    with duck.session(task=duckdb_errors.PROFILE) as con:
        columns = read_columns(parquet_path, con)
        source = f"read_parquet({path_literal(parquet_path)})"
        if len(columns) <= WIDE_COLUMNS:
            rows, duplicates, profiles = _profile_columns(con, source, columns)
        else:
            rows, duplicates, profiles = _profile_wide(con, source, columns, on_progress)
    return DatasetProfile(rows=rows, duplicate_rows=duplicates, bytes=parquet_path.stat().st_size,
                          columns=profiles)


def column_batches(columns: list[Any], rows: int) -> list[list[Any]]:
    """Columns in groups small enough to hold `BATCH_CELLS` values in memory at once."""
    size = max(1, min(MAX_BATCH_COLUMNS, BATCH_CELLS // max(rows, 1)))
    return [columns[i:i + size] for i in range(0, len(columns), size)]


def _profile_columns(con: duckdb.DuckDBPyConnection, source: str, columns: list[ColumnInfo],
                     *, duplicates: bool = True, approximate: bool = True,
                     batch_text: bool = False) -> tuple[int, int, list[ColumnProfile]]:
    rows, duplicate_rows, stats = _first_pass(con, source, columns, duplicates=duplicates,
                                              approximate=approximate)
    tables: dict[str, _Frequencies] = {}
    profiles: list[ColumnProfile] = []
    text_tops: list[ColumnProfile] = []  # text columns whose top values one query finds
    for c in columns:
        if batch_text and c.duckdb_type == "VARCHAR":
            profile, needs = _base_profile(c, stats[c.sql_name], rows)
            if needs == "top":
                text_tops.append(profile)
            profiles.append(profile)
            continue
        profiles.append(_column_profile(con, source, c, stats[c.sql_name], rows, tables))
    _add_text_tops(con, source, text_tops)
    _add_quartiles(con, source, [p for p in profiles if p.sql_name not in tables])
    _add_histograms(con, source, profiles, tables)
    return rows, duplicate_rows, profiles


def _profile_wide(con: duckdb.DuckDBPyConnection, source: str, columns: list[ColumnInfo],
                  on_progress: Progress | None) -> tuple[int, int, list[ColumnProfile]]:
    """Each batch of columns is copied into a small in-memory table once and profiled there
    (one Parquet scan per batch instead of several per column), as many batches at once as
    the connection has threads (a small file's scan uses one thread); duplicate rows come
    from a row hash combined across batches, in column order."""
    counted = con.execute(f"SELECT count(*) FROM {source}").fetchone()
    rows = int(counted[0]) if counted else 0
    profiles: list[ColumnProfile] = []
    row_hash = np.zeros(rows, dtype=np.uint64)
    threads = max(1, int(get_settings().duckdb_threads))

    def one_batch(batch: list[ColumnInfo]) -> tuple[list[ColumnProfile], np.ndarray | None]:
        cursor = duck.cursor(con)  # a cursor per thread; its temp table is its own
        try:
            return _profile_batch(cursor, source, batch, rows)
        finally:
            cursor.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for found, hashed in pool.map(one_batch, column_batches(columns, rows)):
            profiles += found
            if hashed is not None:
                with np.errstate(over="ignore"):
                    row_hash = row_hash * np.uint64(1_000_003) + hashed
            if on_progress is not None:
                on_progress(len(profiles), len(columns))
    duplicates = rows - len(np.unique(row_hash)) if rows > 1 else 0
    return rows, duplicates, profiles


def _profile_batch(con: duckdb.DuckDBPyConnection, source: str, batch: list[ColumnInfo],
                   rows: int) -> tuple[list[ColumnProfile], np.ndarray | None]:
    """The batch's column profiles and its row hashes (None for fewer than two rows)."""
    names = ", ".join(quote_ident(c.sql_name) for c in batch)
    con.execute(f"CREATE OR REPLACE TEMP TABLE profile_batch AS SELECT {names} FROM {source}")
    try:
        # with at most 100,000 rows no column can be "nearly unique", so numeric columns
        # are profiled exactly from their values and the rest skip approximate counts
        small = rows <= EXACT_DISTINCT_LIMIT
        numeric = [c for c in batch if small and c.dtype in _NUMERIC]
        tables: dict[str, _Frequencies] = {}
        found = {p.sql_name: p for p in
                 _numeric_in_memory(con, "profile_batch", numeric, rows, tables)}
        _add_histograms(con, "profile_batch", list(found.values()), tables)
        others = [c for c in batch if c.sql_name not in found]
        if others:
            _, _, rest = _profile_columns(con, "profile_batch", others, duplicates=False,
                                          approximate=not small, batch_text=True)
            found.update((p.sql_name, p) for p in rest)
        hashed = None
        if rows > 1:
            hashed = np.asarray(con.execute(
                f"SELECT hash({names}) AS h FROM profile_batch ORDER BY rowid"
            ).fetchnumpy()["h"], dtype=np.uint64)
        return [found[c.sql_name] for c in batch], hashed
    finally:
        con.execute("DROP TABLE IF EXISTS profile_batch")


def _aggregates(column: ColumnInfo) -> list[tuple[str, str]]:
    c = quote_ident(column.sql_name)
    parts = [("count", f"count({c})"), ("approx", f"approx_count_distinct({c})")]
    if column.dtype in _NUMERIC:
        x = f"CAST({c} AS DOUBLE)"
        parts += [("min", f"min({x})"), ("max", f"max({x})"), ("mean", f"avg({x})"),
                  ("std", f"stddev_samp({x})")]
    elif column.dtype in TEXT_TYPES:
        # trim() removes spaces, so look for spaces (prefix tests beat a regex 3×)
        parts += [("padded", f"count(*) FILTER (WHERE starts_with({c}, ' ') OR "
                             f"ends_with({c}, ' '))")]
    elif column.dtype in _ORDERED:
        parts += [("min", f"min({c})"), ("max", f"max({c})")]
    return parts


def _first_pass(con: duckdb.DuckDBPyConnection, source: str, columns: list[ColumnInfo],
                *, duplicates: bool = True, approximate: bool = True,
                ) -> tuple[int, int, dict[str, dict[str, Any]]]:
    """Streaming aggregates in one query; quartiles and the duplicate count run separately
    because mixing holistic (quantile) or DISTINCT aggregates with the rest makes DuckDB fall
    back to a much slower plan for all of them."""
    streaming = [(c.sql_name, key, expr) for c in columns for key, expr in _aggregates(c)
                 if approximate or key != "approx"]
    stats: dict[str, dict[str, Any]] = {c.sql_name: {} for c in columns}
    selects = ["count(*)"] + [expr for _, _, expr in streaming]
    row = con.execute(f"SELECT {', '.join(selects)} FROM {source}").fetchone()
    assert row is not None  # an aggregate query always returns one row
    rows = int(row[0])
    for (sql_name, key, _), value in zip(streaming, row[1:], strict=True):
        stats[sql_name][key] = value
    if not approximate:  # the caller counts distinct values exactly afterwards
        for found in stats.values():
            found["approx"] = found["count"]
    _add_exact_integer_distinct(con, source, columns, stats)
    if not duplicates:
        return rows, 0, stats
    return rows, _duplicate_rows(con, source, columns, rows, stats), stats


def _add_exact_integer_distinct(con: duckdb.DuckDBPyConnection, source: str,
                                columns: list[ColumnInfo],
                                stats: dict[str, dict[str, Any]]) -> None:
    """Exact distinct counts of nearly-unique integer columns (IDs) as one bit per possible
    value: `bit_count(bitstring_agg(x, min, max))` is about 9× faster than count(DISTINCT)."""
    targets = []
    for column in columns:
        found = stats[column.sql_name]
        if (column.duckdb_type.upper() in _BITMAP_TYPES and found.get("min") is not None
                and int(found["approx"]) > EXACT_DISTINCT_LIMIT
                and found["max"] - found["min"] < BITMAP_LIMIT):
            targets.append((column.sql_name, int(found["min"]), int(found["max"])))
    if not targets:
        return
    selects = [f"bit_count(bitstring_agg({quote_ident(name)}, {low}, {high}))"
               for name, low, high in targets]
    row = con.execute(f"SELECT {', '.join(selects)} FROM {source}").fetchone()
    assert row is not None
    for (name, _, _), exact in zip(targets, row, strict=True):
        stats[name]["exact"] = int(exact or 0)


def _duplicate_rows(con: duckdb.DuckDBPyConnection, source: str, columns: list[ColumnInfo],
                    rows: int, stats: dict[str, dict[str, Any]]) -> int:
    """Duplicate rows via a 64-bit row hash: far cheaper than DISTINCT over every column; a
    false match needs a hash collision (about 1 in 10 million at 5M rows). When one column
    looks unique (an ID), checking that single column exactly is enough and cheaper still."""
    if not columns or rows < 2:
        return 0
    key = max(columns, key=lambda c: int(stats[c.sql_name]["approx"]))
    key_stats = stats[key.sql_name]
    if int(key_stats["count"]) == rows and int(key_stats["approx"]) >= 0.9 * rows:
        distinct = key_stats.get("exact")
        if distinct is None:
            c = quote_ident(key.sql_name)
            row = con.execute(f"SELECT count(DISTINCT {c}) FROM {source}").fetchone()
            distinct = int(row[0]) if row else 0
        if distinct == rows:
            return 0  # a column with no repeats means no two rows are identical
    row_hash = "hash(" + ", ".join(quote_ident(c.sql_name) for c in columns) + ")"
    row = con.execute(f"SELECT count(*) - count(DISTINCT {row_hash}) FROM {source}").fetchone()
    return int(row[0]) if row else 0


class _Frequencies(NamedTuple):
    """A numeric column's distinct values (ascending) and how often each occurs."""

    values: np.ndarray
    counts: np.ndarray


def _column_profile(con: duckdb.DuckDBPyConnection, source: str, column: ColumnInfo,
                    stats: dict[str, Any], rows: int,
                    tables: dict[str, _Frequencies]) -> ColumnProfile:
    profile, needs = _base_profile(column, stats, rows)
    if needs == "frequencies":
        c = quote_ident(column.sql_name)
        arrays = con.execute(
            f"SELECT CAST({c} AS DOUBLE) AS v, count(*) AS n FROM {source} "
            f"WHERE {c} IS NOT NULL GROUP BY 1 ORDER BY 1").fetchnumpy()  # by position: a
        # column may itself be called "v"
        table = _Frequencies(np.asarray(arrays["v"], dtype=float),
                             np.asarray(arrays["n"], dtype=np.int64))
        _from_frequencies(profile, table)
        tables[column.sql_name] = table
    elif needs == "top":
        c = quote_ident(column.sql_name)
        groups = (f"SELECT {c} AS v, count(*) AS n FROM {source} WHERE {c} IS NOT NULL "
                  f"GROUP BY {c}")
        result = con.execute(
            f"SELECT v, n, count(*) OVER () FROM ({groups}) ORDER BY n DESC, v LIMIT {TOP_N}"
        ).fetchall()
        _from_top(profile, [(v, n) for v, n, _ in result], int(result[0][2]) if result else 0)
    return profile


def _add_text_tops(con: duckdb.DuckDBPyConnection, source: str,
                   profiles: list[ColumnProfile]) -> None:
    """Top values and distinct counts of many text columns in one query (a wide table
    would otherwise need a GROUP BY query per column)."""
    if not profiles:
        return
    names = ", ".join(quote_ident(p.sql_name) for p in profiles)
    found = con.execute(
        f"WITH u AS (UNPIVOT (SELECT {names} FROM {source}) ON {names} "
        "INTO NAME col VALUE v), g AS (SELECT col, v, count(*) AS n FROM u GROUP BY ALL), "
        "r AS (SELECT col, v, n, count(*) OVER (PARTITION BY col) AS d, "
        "row_number() OVER (PARTITION BY col ORDER BY n DESC, v) AS k FROM g) "
        f"SELECT col, v, n, d FROM r WHERE k <= {TOP_N} ORDER BY col, k"
    ).fetchall()
    tops: dict[str, list[tuple[Any, Any]]] = {}
    distinct: dict[str, int] = {}
    for col, value, n, d in found:
        tops.setdefault(str(col), []).append((value, n))
        distinct[str(col)] = int(d)
    for profile in profiles:
        _from_top(profile, tops.get(profile.sql_name, []), distinct.get(profile.sql_name, 0))


def _base_profile(column: ColumnInfo, stats: dict[str, Any], rows: int,
                  ) -> tuple[ColumnProfile, str]:
    """The profile from the first pass, and what it still needs: "done", "frequencies" (a
    numeric column's whole value → count table) or "top" (its most common values)."""
    count = int(stats["count"])
    approx = int(stats["approx"])
    profile = ColumnProfile(
        name=column.name, sql_name=column.sql_name, dtype=column.dtype,
        duckdb_type=column.duckdb_type, count=count, missing=rows - count,
        missing_pct=round(100 * (rows - count) / rows, 2) if rows else 0.0,
        distinct=approx, min=_plain(stats.get("min")), max=_plain(stats.get("max")),
        mean=_finite(stats.get("mean")), std=_finite(stats.get("std")),
        padded=int(stats["padded"]) if "padded" in stats else None,
    )
    nearly_unique = approx > EXACT_DISTINCT_LIMIT and approx > 0.5 * count
    if nearly_unique:
        profile.distinct = stats.get("exact", approx)
        profile.distinct_is_approximate = "exact" not in stats
        return profile, "done"
    if column.dtype in _NUMERIC and approx <= FREQUENCY_LIMIT:
        # the full value counts give exact quartiles, histogram and outliers cheaply
        return profile, "frequencies"
    return profile, "top"


def _from_top(profile: ColumnProfile, top: list[tuple[Any, Any]], distinct: int) -> None:
    profile.distinct = distinct
    profile.top_values = [ValueCount(value=_plain(v), count=int(n)) for v, n in top]


def _numeric_in_memory(con: duckdb.DuckDBPyConnection, source: str,
                       columns: list[ColumnInfo], rows: int,
                       tables: dict[str, _Frequencies]) -> list[ColumnProfile]:
    """Profiles of numeric columns of a small batch table, from the values themselves
    (numpy): a thousand numeric columns would otherwise take a thousand GROUP BY queries."""
    if not columns:
        return []
    casts = ", ".join(f"CAST({quote_ident(c.sql_name)} AS DOUBLE) AS {quote_ident(c.sql_name)}"
                      for c in columns)
    arrays = con.execute(f"SELECT {casts} FROM {source}").fetchnumpy()
    profiles = []
    for column in columns:
        raw = arrays[column.sql_name]
        present = raw.compressed() if isinstance(raw, np.ma.MaskedArray) else np.asarray(raw)
        values = present.astype(float)
        distinct, counts = np.unique(values, return_counts=True)
        with np.errstate(all="ignore"):
            stats: dict[str, Any] = {
                "count": len(values), "approx": len(distinct),
                "min": float(values.min()) if len(values) else None,
                "max": float(values.max()) if len(values) else None,
                "mean": float(values.mean()) if len(values) else None,
                "std": float(values.std(ddof=1)) if len(values) > 1 else None,
            }
        profile, _ = _base_profile(column, stats, rows)
        table = _Frequencies(distinct, counts.astype(np.int64))
        _from_frequencies(profile, table)
        tables[column.sql_name] = table
        profiles.append(profile)
    return profiles


def _from_frequencies(profile: ColumnProfile, table: _Frequencies) -> None:
    """Distinct count, top values and quartiles (linear interpolation, as pandas) from a
    value → count table sorted by value."""
    values, counts = table
    profile.distinct = len(values)
    ranked = np.argsort(-counts, kind="stable")[:TOP_N]  # stable: ties stay by value
    profile.top_values = [ValueCount(value=_plain(_whole(values[i], profile.dtype)),
                                     count=int(counts[i])) for i in ranked]
    if not len(values):
        return
    ends = np.cumsum(counts)  # position after each value's run
    positions = (ends[-1] - 1) * np.array([0.25, 0.5, 0.75])
    below = values[np.searchsorted(ends, np.floor(positions), side="right")]
    above = values[np.searchsorted(ends, np.ceil(positions), side="right")]
    q = below + (positions - np.floor(positions)) * (above - below)
    profile.q25, profile.q50, profile.q75 = (float(x) for x in q)


def _whole(value: float, dtype: str) -> float | int:
    """Whole-number columns keep showing whole numbers (12, not 12.0) as top values."""
    return int(value) if dtype == "whole number" and float(value).is_integer() else value


def _add_quartiles(con: duckdb.DuckDBPyConnection, source: str,
                   profiles: list[ColumnProfile]) -> None:
    """Exact quartiles of the remaining numeric columns in one (holistic) query."""
    targets = [p for p in profiles if p.dtype in _NUMERIC and p.q25 is None and p.count > 0]
    if not targets:
        return
    selects = [f"quantile_cont(CAST({quote_ident(p.sql_name)} AS DOUBLE), [0.25, 0.5, 0.75])"
               for p in targets]
    row = con.execute(f"SELECT {', '.join(selects)} FROM {source}").fetchone()
    assert row is not None
    for p, quartiles in zip(targets, row, strict=True):
        p.q25, p.q50, p.q75 = (_finite(x) for x in quartiles)


def _add_histograms(con: duckdb.DuckDBPyConnection, source: str,
                    profiles: list[ColumnProfile], tables: dict[str, _Frequencies]) -> None:
    """Histograms and IQR outlier counts of every numeric column: from the value → count
    table where there is one, otherwise all in one pass over the file."""
    targets = [p for p in profiles if p.dtype in _NUMERIC and isinstance(p.min, float)
               and isinstance(p.max, float) and math.isfinite(p.min) and math.isfinite(p.max)]
    scanned = [p for p in targets if p.sql_name not in tables]
    counted: dict[str, tuple[list[int], int]] = {
        p.sql_name: _binned_from_table(p, tables[p.sql_name])
        for p in targets if p.sql_name in tables}
    if scanned:
        counted.update(_binned_by_scan(con, source, scanned))
    for p in targets:
        low, width, n = _edges(p)
        bins, p.outliers = counted[p.sql_name]
        p.histogram = [HistogramBin(start=low + i * width, end=low + (i + 1) * width,
                                    count=bins[i]) for i in range(n)]
        p.skewness = _binned_skewness(p.histogram)


def _binned_from_table(p: ColumnProfile, table: _Frequencies) -> tuple[list[int], int]:
    low, width, n = _edges(p)
    # the same arithmetic as the SQL below, so a value on a bin edge lands in the same bin
    index = np.minimum(np.floor((table.values - low) / width), n - 1).astype(np.int64)
    bins = np.bincount(index, weights=table.counts, minlength=n)
    fence_low, fence_high = _fences(p)
    outside = (table.values < fence_low) | (table.values > fence_high)
    return [int(b) for b in bins], int(table.counts[outside].sum())


def _binned_by_scan(con: duckdb.DuckDBPyConnection, source: str,
                    targets: list[ColumnProfile]) -> dict[str, tuple[list[int], int]]:
    selects = []
    for p in targets:
        low, width, n = _edges(p)
        x = f"CAST({quote_ident(p.sql_name)} AS DOUBLE)"
        # FILTER, not least(): least() skips NULLs and would count missing values as top bin
        selects.append(f"histogram(least(CAST(floor(({x} - {low!r}) / {width!r}) AS INTEGER), "
                       f"{n - 1})) FILTER (WHERE {x} IS NOT NULL)")
        fence_low, fence_high = _fences(p)
        selects.append(f"count(*) FILTER (WHERE {x} < {fence_low!r} OR {x} > {fence_high!r})"
                       if math.isfinite(fence_low) else "0")
    row = con.execute(f"SELECT {', '.join(selects)} FROM {source}").fetchone()
    assert row is not None
    counted = {}
    for index, p in enumerate(targets):
        counts = row[2 * index] or {}
        n = _edges(p)[2]
        counted[p.sql_name] = ([int(counts.get(i, 0)) for i in range(n)], int(row[2 * index + 1]))
    return counted


def _binned_skewness(bins: list[HistogramBin]) -> float | None:
    """Skewness from the histogram's bin midpoints: close enough to flag a lopsided column,
    and free, where an exact skewness() costs a tenth of the whole profile on big files."""
    counts = np.array([b.count for b in bins], dtype=float)
    total = counts.sum()
    if total < 3:
        return None
    middles = np.array([(b.start + b.end) / 2 for b in bins])
    mean = float((counts * middles).sum() / total)
    spread = float(np.sqrt((counts * (middles - mean) ** 2).sum() / total))
    if spread == 0:
        return None
    return float((counts * (middles - mean) ** 3).sum() / total / spread**3)


def outlier_fences(profile: ColumnProfile) -> tuple[float, float]:
    """Tukey's fences: values outside q25 - 1.5·IQR .. q75 + 1.5·IQR are outliers. Each
    fence is kept within the values seen: a column that is never negative (rain, GDP) never
    gets a bound below zero; a fence at the smallest (largest) value means no outlier on that
    side, and the same values fall outside as with the open fences."""
    low, high = _fences(profile)
    if isinstance(profile.min, int | float) and not isinstance(profile.min, bool):
        low = max(low, float(profile.min))
    if isinstance(profile.max, int | float) and not isinstance(profile.max, bool):
        high = min(high, float(profile.max))
    return low, high


def _fences(p: ColumnProfile) -> tuple[float, float]:
    q25, q75 = float(p.q25 or 0.0), float(p.q75 or 0.0)
    iqr = q75 - q25
    if iqr <= 0:  # no spread in the middle half: nothing is called an outlier
        return -math.inf, math.inf
    return q25 - 1.5 * iqr, q75 + 1.5 * iqr


def _edges(profile: ColumnProfile) -> tuple[float, float, int]:
    """(start, bin width, bins); whole numbers with a small range get one bin per value."""
    low, high = float(profile.min or 0.0), float(profile.max or 0.0)
    if high == low:
        return low - 0.5, 1.0, 1
    if profile.dtype == "whole number" and high - low < BINS:
        return low - 0.5, 1.0, int(high - low) + 1
    return low, (high - low) / BINS, BINS


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    """JSON-friendly: dates as ISO text, numbers as float/int, everything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
