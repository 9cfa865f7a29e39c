"""Dates written with the day and month as numbers (03/01/2024, 25.12.24, 3-1-2024 14:05).

Such a date is ambiguous when both numbers are 12 or less: 03/01/2024 is 3 January in most
of the world and 1 March in the US. Left to itself, DuckDB reads these silently one way and
reads a two-digit year (03/01/24) as year first. So ingest finds these columns in its
sample, reads them as text, and converts them itself: in the order the values prove
(a 25 can only be a day), else the order the person chose, else the order the rest of the
file proves, else day first, with a warning that says how to change it.
"""

import re
from dataclasses import dataclass

from services.data.dataset_models import DateOrder
from services.data.sql_names import sql_literal

DAY_FIRST: DateOrder = "day_first"
MONTH_FIRST: DateOrder = "month_first"
DEFAULT_ORDER: DateOrder = DAY_FIRST  # most of the world; DuckDB's own guess too

_DATE = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?:(?P<tsep>[ T])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
)
DATE_RE = _DATE  # read by services.data.text_reading


@dataclass(frozen=True)
class DateColumn:
    """A sample column whose every value is a day/month date written the same way."""

    index: int
    separator: str
    long_year: bool
    time_format: str  # "", " %H:%M", "T%H:%M:%S", ...
    order: DateOrder | None  # proven by a value above 12, or None when every value is ambiguous
    example: str


def find_date_columns(rows: list[list[str]], *, skip: set[int]) -> list[DateColumn]:
    """Columns (not in `skip`) whose non-empty sample values all look like day/month dates."""
    if not rows:
        return []
    found = []
    for index in range(max(len(r) for r in rows)):
        if index in skip:
            continue
        values = [r[index].strip() for r in rows if index < len(r) and r[index].strip()]
        column = _date_column(index, values) if values else None
        if column is not None:
            found.append(column)
    return found


def _date_column(index: int, values: list[str]) -> DateColumn | None:
    matches = [_DATE.fullmatch(v) for v in values]
    if not all(matches):
        return None
    shapes = {(m["sep"], len(m["year"]), m["tsep"], m["second"] is not None)
              for m in matches if m}
    if len(shapes) != 1:
        return None  # written several ways: leave it to DuckDB, or as text
    separator, year_digits, time_sep, has_seconds = shapes.pop()
    day_first = any(int(m["a"]) > 12 for m in matches if m)
    month_first = any(int(m["b"]) > 12 for m in matches if m)
    if day_first and month_first:
        return None  # no single order fits every value
    time_format = ""
    if time_sep:
        time_format = f"{time_sep}%H:%M" + (":%S" if has_seconds else "")
    return DateColumn(
        index=index, separator=separator, long_year=year_digits == 4,
        time_format=time_format,
        order=DAY_FIRST if day_first else MONTH_FIRST if month_first else None,
        example=values[0])


def order_for(column: DateColumn, requested: DateOrder | None,
              columns: list[DateColumn]) -> DateOrder:
    """What this column proves (a 25 can only be a day), else the person's choice, else
    what the rest of the file proves, else day first."""
    return column.order or requested or _proven(columns) or DEFAULT_ORDER


def is_guess(column: DateColumn, requested: DateOrder | None,
             columns: list[DateColumn]) -> bool:
    """True when nothing (the person, this column, the rest of the file) settled the order."""
    return not (requested or column.order or _proven(columns))


def _proven(columns: list[DateColumn]) -> DateOrder | None:
    proven = {c.order for c in columns if c.order}
    return proven.pop() if len(proven) == 1 else None


def strptime_format(column: DateColumn, order: str) -> str:
    year = "%Y" if column.long_year else "%y"
    first, second = ("%d", "%m") if order == DAY_FIRST else ("%m", "%d")
    sep = column.separator
    return f"{first}{sep}{second}{sep}{year}{column.time_format}"


def date_expr(column_sql: str, column: DateColumn, order: str) -> str:
    """SQL turning the text column into DATE (or TIMESTAMP when it has times)."""
    parsed = f"strptime(trim({column_sql}), {sql_literal(strptime_format(column, order))})"
    return parsed if column.time_format else f"CAST({parsed} AS DATE)"


def spelled_out(column: DateColumn, order: str) -> str:
    """How the example was read, in words: “03/01/2024” → “3 January 2024”."""
    match = _DATE.fullmatch(column.example)
    assert match is not None  # examples come from matching values
    day, month = (match["a"], match["b"]) if order == DAY_FIRST else (match["b"], match["a"])
    year = match["year"]
    if not column.long_year:  # as strptime's %y: 00-68 → 2000s, 69-99 → 1900s
        year = f"{'20' if int(year) < 69 else '19'}{year}"
    return f"{int(day)} {_MONTHS[int(month) - 1]} {year}"


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
