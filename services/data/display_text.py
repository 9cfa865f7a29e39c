"""How numbers, shares, years, dates and missing cells are written for people: one home.

Pages, components and services (quality messages) all call these functions, so 99.95 reads
the same everywhere, a year never gets a thousands separator ("2007", not "2,007"), dates read
as people write them ("1 Mar 2024", "1 Mar 2024 14:05") and no value ever shows as "None",
"NaN" or in scientific notation ("-1.098e+04").
"""

import math
import re
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from services.data.column_kinds import ORDERED_TYPES, is_number
from services.data.dataset_models import ColumnProfile
from services.data.time_zone import TIME_ZONE

MISSING = "—"
_YEAR_NAME = re.compile(r"(^|[^a-z])(year|years|yr|yrs|yyyy|jahr|año|ano|annee|année|anno)"
                        r"($|[^a-z])|year$", re.IGNORECASE)
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                         r"(Z|[+-]\d{2}(:?\d{2})?)?$")
MOST = 0.5  # "most" means more than half
MAX_DECIMALS = 12


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(math.isnan(value))
    return False


def number(value: float | int | None, *, digits: int = 2, grouping: bool = True,
           extra: int = 0) -> str:
    """The one rule for a number on screen: thousands separators, never scientific notation,
    whole numbers in full, and rounding by size — from 1 to 1,000 two decimals, to 100,000
    one, beyond that none; below 1 three significant digits. Trailing zeros are dropped:
    1,234,567 · 123,457 (from 123,456.7) · 1,234.6 · 99.95 · 3.25 · 0.478 · 0.00123 · "—"
    for no value. `extra` adds decimals (see `numbers_apart`)."""
    if is_missing(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        return MISSING
    sep = "," if grouping else ""
    x = float(value)  # type: ignore[arg-type]
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{int(value):{sep}d}"
    magnitude = abs(x)
    if x.is_integer():
        decimals = 0
    elif magnitude >= 100_000:
        decimals = 0
    elif magnitude >= 1000:
        decimals = 1
    elif magnitude >= 1:
        decimals = digits
    else:  # small values keep `digits + 1` significant digits: 0.478, 0.00123
        decimals = digits - int(math.floor(math.log10(magnitude)))
    decimals = min(MAX_DECIMALS, decimals + extra) if not x.is_integer() else 0
    shown = f"{x:{sep}.{decimals}f}"
    if decimals:
        shown = shown.rstrip("0").rstrip(".")
    return "0" if shown in ("-0", "") else shown


def number_texts(values: Sequence[float] | np.ndarray | pd.Series) -> list[str]:
    """`number` for many floats at once (a chart's hover text): the same text, with the
    rounding worked out for the whole array instead of value by value."""
    x = np.asarray(values, dtype="float64")
    finite = np.isfinite(x)
    magnitude = np.abs(np.where(finite, x, 1.0))
    small = 2 - np.floor(np.log10(np.where(magnitude > 0, magnitude, 1.0)))
    decimals = np.select(
        [~finite | (x == np.round(x)) | (magnitude >= 100_000), magnitude >= 1000,
         magnitude >= 1], [0, 1, 2], np.minimum(MAX_DECIMALS, small)).astype(int)
    texts = np.full(len(x), MISSING, dtype=object)
    for places in np.unique(decimals[finite]).tolist():  # a few roundings: one pass each
        at = np.flatnonzero(finite & (decimals == places))
        spec = f",.{places}f"
        shown = np.array([format(v, spec) for v in x[at].tolist()])
        if places:
            shown = np.char.rstrip(np.char.rstrip(shown, "0"), ".")
        texts[at] = shown
    texts[(texts == "-0") | (texts == "")] = "0"
    return texts.tolist()


def numbers_apart(values: Sequence[float | int | None], *, grouping: bool = True,
                  ) -> list[str]:
    """Numbers shown together (a range, the highest and the lowest, a chart's bins), each
    as `number` writes it — with as many more decimals as it takes for different values
    never to look the same: 99.95 and 100 stay "99.95" and "100"; 1,234.56 and 1,234.61
    read "1,234.56" and "1,234.61", not "1,234.6" twice."""
    for extra in range(MAX_DECIMALS + 1):
        texts = [number(v, grouping=grouping, extra=extra) for v in values]
        seen: dict[str, float] = {}
        is_apart = True
        for value, text in zip(values, texts, strict=True):
            if is_missing(value):
                continue
            first = seen.setdefault(text, float(value))  # type: ignore[arg-type]
            if not math.isclose(first, float(value), rel_tol=1e-9):  # type: ignore[arg-type]
                is_apart = False  # (a float's last bits are not a difference to show)
                break
        if is_apart:
            return texts
    return texts


def exact_number(value: float | int, *, grouping: bool = False) -> str:
    """A number read from a file, shown exactly as read (up to 12 significant digits, no
    exponent): where the point is which number was read, 1.234 must not show as 1.23."""
    if is_missing(value) or not math.isfinite(float(value)):
        return MISSING
    sep = "," if grouping else ""
    x = float(value)
    if x.is_integer():
        return f"{x:{sep}.0f}"
    decimals = max(0, 11 - int(math.floor(math.log10(abs(x)))))
    return f"{x:{sep}.{min(MAX_DECIMALS, decimals)}f}".rstrip("0").rstrip(".")


def money(amount: float) -> str:
    """US dollars as a budget sentence says them: cents, or tenths of a cent below $1."""
    return f"${amount:,.2f}" if amount >= 1 else f"${amount:.3f}"


def in_words(count: int) -> str:
    """A large count as a sentence says it: "950", "12,400", "1.2 million", "3 billion"."""
    for size, word in ((10**9, "billion"), (10**6, "million")):
        if abs(count) >= size:
            return f"{number(math.floor(count / size * 10 + 0.5) / 10)} {word}"  # half up
    return f"{count:,}"


def share(part: float, whole: float) -> str:
    """A part of a whole as a percentage that is never rounded to a false 0% or 100%."""
    if not whole or not part:
        return "0%"
    pct = 100 * part / whole
    if pct < 1:
        return "<1%"
    if 99 < pct < 100:
        return ">99%"
    return f"{pct:.0f}%"


def missing_share(missing: int, present: int) -> str:
    """The share of rows with no value: the Columns and the Quality tab both write this."""
    return share(missing, missing + present)


def is_year_column(name: str, values: Any = None) -> bool:
    """A column of years: its name says year (year, Year, yr, birth_year, Jahr…) and, when
    values are given, every value is a whole number from 1000 to 2999."""
    if not _YEAR_NAME.search(name.replace("_", " ")):
        return False
    if values is None:
        return True
    series = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    if series.empty:
        return True
    return bool(((series % 1 == 0) & (series >= 1000) & (series <= 2999)).all())


def shows_years(column: ColumnProfile) -> bool:
    """A number column of years (by its name and its smallest and largest value)."""
    if not is_number(column.dtype):
        return False
    ends = [v for v in (column.min, column.max)
            if isinstance(v, int | float) and not isinstance(v, bool)]
    return is_year_column(column.name, ends or None)


def column_value(column: ColumnProfile, value: Any) -> str:
    """A value of a profiled column in a sentence or a table: 2,500 not 2500.0, 2007 not
    2,007, 1 Mar 2024 not 2024-03-01; text stays as typed."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return year(value) if shows_years(column) else number(value)
    if isinstance(value, str) and column.dtype in ORDERED_TYPES:
        return moment(value)
    return cell(value)


def column_numbers(column: ColumnProfile, values: Sequence[float | int]) -> list[str]:
    """Several numbers of one column shown together (a range, bounds): years as years,
    other numbers kept apart as `numbers_apart` keeps them."""
    return numbers_apart(values, grouping=not shows_years(column))


def year(value: float | int | None) -> str:
    """A year as people write it: 2007, never 2,007 (and 2007.5 as 2007.5)."""
    return number(value, grouping=False)


def moment(value: Any, *, with_time: bool | None = None, seconds: bool = True) -> str:
    """A date or date-time as people write it: "1 Mar 2024", "1 Mar 2024 14:05". Times with
    a time zone are shown in `TIME_ZONE` (UTC). `with_time=None` shows the time only when it
    is not midnight; seconds show when they are not zero, unless `seconds=False`. ISO text
    ("2024-03-01T00:00:00") is read first."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        if not _ISO_MOMENT.match(value.strip()):
            return value
        value = pd.Timestamp(value.strip())
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = pd.Timestamp(value).tz_convert(TIME_ZONE).to_pydatetime()
        shows_time = with_time if with_time is not None else value.time() != time(0)
        if not shows_time:
            return f"{value.day} {value:%b %Y}"
        clock = "%H:%M:%S" if value.second and seconds else "%H:%M"
        return f"{value.day} {value:%b %Y} {value.strftime(clock)}"
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return str(value)


def cell(value: Any) -> str:
    """Any single value for a table cell or a sentence."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | float | np.integer | np.floating | Decimal):
        return number(float(value))
    if isinstance(value, datetime | date | time | pd.Timestamp | np.datetime64):
        return moment(value)
    return str(value)


def has_time_zone(frame: pd.DataFrame) -> bool:
    return any(isinstance(t, pd.DatetimeTZDtype) for t in frame.dtypes)


def frame_for_people(frame: pd.DataFrame, *, missing: str = "") -> pd.DataFrame:
    """A small table (a preview) as text written for people: numbers with separators,
    years without, dates as people write them, missing cells blank. Vectorised per column."""
    shown = _joined(frame, [_column_for_people(str(name), frame.iloc[:, position], missing)
                             for position, name in enumerate(frame.columns)])
    shown.columns = frame.columns
    return shown


def _joined(frame: pd.DataFrame, columns: list[pd.Series]) -> pd.DataFrame:
    """The columns as one table on the frame's rows, built at once (column by column, a wide
    table's frame is fragmented: pandas warns, and every later step is slower)."""
    return pd.DataFrame(dict(enumerate(columns)), index=frame.index)


def _column_for_people(name: str, column: pd.Series, missing: str) -> pd.Series:
    present = column.notna()
    if pd.api.types.is_bool_dtype(column.dtype):
        text = column.map(lambda v: "yes" if v else "no")
    elif pd.api.types.is_numeric_dtype(column.dtype):
        as_year = is_year_column(name, column[present])
        text = column.map(lambda v: MISSING if is_missing(v) else
                          year(v) if as_year else number(v))
    elif pd.api.types.is_datetime64_any_dtype(column.dtype):
        values = column[present]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_convert(TIME_ZONE)
        with_time = bool((values.dt.normalize() != values).any())
        text = values.map(lambda v: moment(v, with_time=with_time))
    else:
        text = column.map(lambda v: MISSING if is_missing(v) else cell(v))
    return text.reindex(column.index).astype(object).where(present, missing)


class TableForPeople(BaseModel):
    """A table ready to show: `frame` holds the values, `kinds` says how the screen writes
    each column kept as numbers or dates ("number", "year", "date", "minute", "second") and
    `decimals` how many decimals each number column shows.
    Columns not in `kinds` are already text as people write it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    frame: pd.DataFrame
    kinds: dict[str, str]
    decimals: dict[str, int]


def table_for_people(frame: pd.DataFrame) -> TableForPeople:
    """Any table a person sees, written as `frame_for_people` writes cells — but a number or
    date column stays a number or a date (rounded; the screen formats it and leaves missing
    cells blank), so clicking its header still sorts 9 before 10 and March before November."""
    columns: list[pd.Series] = []
    kinds: dict[str, str] = {}
    decimals: dict[str, int] = {}
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        label = str(name)
        kind = _kept_kind(label, column)
        if kind in ("number", "year"):
            decimals[label] = _decimals_shown(column)
            columns.append(column.round(decimals[label]))
        elif kind == "list":
            columns.append(column)  # a little chart's numbers (BarChartColumn)
        elif kind:
            if isinstance(column.dtype, pd.DatetimeTZDtype):
                column = column.dt.tz_convert(TIME_ZONE)
            columns.append(column)
        else:
            columns.append(_column_for_people(label, column, ""))
        if kind and kind != "list":
            kinds[label] = kind
    shown = _joined(frame, columns)
    shown.columns = [str(c) for c in frame.columns]
    return TableForPeople(frame=shown, kinds=kinds, decimals=decimals)


def _kept_kind(name: str, column: pd.Series) -> str:
    if column.dtype == object and any(isinstance(v, list | tuple | np.ndarray) for v in column):
        return "list"
    if pd.api.types.is_bool_dtype(column.dtype):
        return ""
    present = column.dropna()
    if pd.api.types.is_numeric_dtype(column.dtype):
        if not bool(np.isfinite(present.to_numpy(dtype="float64")).all()):
            return ""  # infinity: the text column says "—"
        return "year" if is_year_column(name, present) else "number"
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        values = present.dt.tz_convert(TIME_ZONE) if isinstance(
            column.dtype, pd.DatetimeTZDtype) else present
        if bool((values.dt.normalize() == values).all()):
            return "date"
        return "second" if bool((values.dt.second != 0).any()) else "minute"
    return ""


def _decimals_shown(column: pd.Series) -> int:
    """The most decimals `number` writes for any value of the column: 2 from 1 to 1,000,
    three significant digits below 1 (0.00508), so no cell shows digits nobody reads."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return 0
    texts = number_texts(column.dropna().to_numpy(dtype="float64"))
    return max((len(t) - t.index(".") - 1 for t in texts if "." in t), default=0)


_FILE_READ = re.compile(r"read_parquet\('((?:[^']|'')*)'")


def sql_for_people(sql: str, dataset_name: str) -> str:
    """A stored query as shown on screen: the server's file paths are no one's business, so
    the dataset's file reads as the dataset's name and a second file (the answers Claude
    added, joined in) as "Claude's answers"."""
    names: dict[str, str] = {}

    def named(found: re.Match[str]) -> str:
        shown = names.setdefault(found.group(1),
                                 dataset_name if not names else "Claude's answers")
        return "read_parquet('" + shown.replace("'", "''") + "'"

    return _FILE_READ.sub(named, sql)


def counted(count: int, word: str, words: str = "") -> str:
    """A count with its noun: "1 group", "2 groups", "1,200 rows" (`words` for an odd plural)."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"
