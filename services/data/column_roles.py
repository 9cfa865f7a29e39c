"""What a column is *for*: a measure worth averaging, a category worth grouping by, or an
identifier / row number that must never be a default measure.

One place decides it, for Explore's first chart (`services.charts.spec.suggest_fields`), Ask's
starter questions and the quality report's "looks like an ID" finding (`is_unique_id`).
Names settle the obvious cases ("id", "rownames", "customer_id"); the values settle the
rest when they are known: whole numbers that differ in every row and run almost without
gaps (1, 2, 3, …) are row numbers, whatever they are called — unless they are years,
months or hours. The column's kind itself comes from `services.data.column_kinds`.
"""

import re
from collections.abc import Mapping

from pydantic import BaseModel

from services.data.column_kinds import chart_kind, is_text
from services.data.dataset_models import ColumnProfile, DatasetProfile

MIN_ROWS_FOR_VALUES = 20  # fewer rows say too little about uniqueness
FEW_CATEGORIES = 20  # a category people can read as bars or colours
_ID_NAMES = {"id", "ids", "rownames", "rowname", "row_names", "row_name", "index", "idx",
             "row", "row_number", "row_no", "rownumber", "row_num", "rownum", "row_id", "rowid",
             "key", "pk", "uuid", "guid", "unnamed_0", "unnamed", "no", "nr"}
_TIME_PARTS = {"year", "yr", "month", "mon", "day", "weekday", "week", "quarter", "hour",
               "minute", "second", "date", "time", "jahr", "monat", "tag", "ano", "año",
               "mes", "dia", "día", "annee", "année", "mois", "jour"}  # plurals are durations


class ColumnStats(BaseModel):
    """What is known about a column's values (all optional: names alone still decide)."""

    kind: str = ""  # a chart kind: "number", "text", "date", "boolean"
    dtype: str = ""  # the type people see ("whole number", "time" …), when known
    count: int | None = None  # values present
    missing: int | None = None  # rows without a value
    distinct: int | None = None
    is_whole: bool | None = None  # every present value is a whole number
    low: float | None = None
    high: float | None = None


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())  # customerId → customer_Id
    return [w for w in re.split(r"[^0-9a-zA-ZÀ-ÿ]+", spaced.lower()) if w]


def _key(name: str) -> str:
    return "_".join(_words(name))


def has_id_name(name: str) -> bool:
    """“id”, “rownames”, “Unnamed: 0”, “customer_id”, “CustomerID”, “row number” …"""
    if not name.strip():
        return True  # a blank header is almost always a saved row index
    key = _key(name)
    words = key.split("_")
    if key in _ID_NAMES or key.startswith("unnamed"):
        return True
    return len(words) > 1 and (words[-1] in ("id", "ids", "uuid", "guid", "key")
                               or words[0] == "id")


def is_row_number(stats: ColumnStats | None) -> bool:
    """Whole numbers, a different one in every row, running almost without gaps."""
    if stats is None or stats.kind != "number" or not stats.is_whole:
        return False
    if stats.count is None or stats.distinct is None or stats.count < MIN_ROWS_FOR_VALUES:
        return False
    if stats.distinct < stats.count or stats.low is None or stats.high is None:
        return False
    return stats.high - stats.low + 1 <= 2 * stats.count


def is_id_like(name: str, stats: ColumnStats | None = None) -> bool:
    """True when the column identifies rows, so a chart must not average or add it up:
    named like an ID, or a row number that is not a run of years, months or hours."""
    return has_id_name(name) or (is_row_number(stats) and not is_time_part(name, stats))


def is_unique(stats: ColumnStats | None) -> bool:
    """A value in every row, a different one each time (on enough rows to tell)."""
    if stats is None or stats.count is None or stats.distinct is None:
        return False
    return (stats.count >= MIN_ROWS_FOR_VALUES and stats.distinct >= stats.count
            and not stats.missing)


def is_unique_id(name: str, stats: ColumnStats | None) -> bool:
    """A column the quality report calls an ID (use it to find rows, never to average or
    chart): a different value in every row, and text labels, or whole numbers that
    `is_id_like`. Unique measures (populations, prices) and years are not IDs."""
    if stats is None or not is_unique(stats):
        return False
    if stats.kind == "text":
        return not stats.dtype or is_text(stats.dtype)  # words, not times of day
    return stats.kind == "number" and bool(stats.is_whole) and is_id_like(name, stats)


def is_time_part(name: str, stats: ColumnStats | None = None) -> bool:
    """A year, month, day, hour … stored as a number: an axis, not a measure."""
    words = _words(name)
    if any(w in _TIME_PARTS for w in words):
        return True
    return bool(stats and stats.kind == "number" and stats.is_whole and stats.low is not None
                and stats.high is not None and 1800 <= stats.low and stats.high <= 2100
                and (stats.distinct or 0) <= 300)


def measures(columns: Mapping[str, str], stats: Mapping[str, ColumnStats] | None = None,
             ) -> list[str]:
    """Number columns worth averaging, best first: never an ID; years, months, hours …
    only after every real measure."""
    known = stats or {}
    numbers = [n for n, kind in columns.items() if kind == "number"
               and not is_id_like(n, known.get(n))]
    real = [n for n in numbers if not is_time_part(n, known.get(n))]
    return real + [n for n in numbers if n not in real]


def categories(columns: Mapping[str, str], stats: Mapping[str, ColumnStats] | None = None,
               ) -> list[str]:
    """Text and yes/no columns to group by, best first: a few distinct values (2 to
    `FEW_CATEGORIES`) in dataset order, then the rest by how few values they have; never
    an ID, never a column with a different value in every row."""
    known = stats or {}
    few: list[str] = []
    many: list[tuple[int, int, str]] = []
    for index, (name, kind) in enumerate(columns.items()):
        if kind not in ("text", "boolean") or has_id_name(name):
            continue
        info = known.get(name)
        distinct = info.distinct if info is not None else None
        if distinct is None or 2 <= distinct <= FEW_CATEGORIES:
            few.append(name)
            continue
        is_unique = info is not None and info.count is not None and distinct >= info.count
        if distinct >= 2 and not is_unique:
            many.append((distinct, index, name))
    return few + [name for _, _, name in sorted(many)]


def stats_of(column: ColumnProfile) -> ColumnStats:
    """What one column's profile says (an approximate distinct count as counted)."""
    low = column.min if isinstance(column.min, int | float) else None
    high = column.max if isinstance(column.max, int | float) else None
    return ColumnStats(
        kind=chart_kind(column.dtype), dtype=column.dtype, count=column.count,
        missing=column.missing,
        distinct=column.distinct, is_whole=column.dtype == "whole number",
        low=float(low) if low is not None else None,
        high=float(high) if high is not None else None)


def stats_from_profile(profile: DatasetProfile) -> dict[str, ColumnStats]:
    """Column name → what the profile knows, for `measures` and `categories` (an
    approximate count of "different in every row" is left unknown)."""
    out: dict[str, ColumnStats] = {}
    for column in profile.columns:
        stats = stats_of(column)
        if column.distinct_is_approximate and column.distinct >= column.count:
            stats.distinct = None
        out[column.name] = stats
    return out
