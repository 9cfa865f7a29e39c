"""Is Ask's result table the gold one? The evaluation's comparison rules, in one place.

- Column names are ignored: columns are matched by their values. Extra columns in Ask's
  result are fine when every gold column is there (a count beside the top day is still the
  top day); a missing gold column is wrong.
- The rows must be the same rows, as many of them; their order counts only when the
  question asks for one (`ordered`).
- Numbers agree with the rounding a person would use: a whole gold number (a count) must be
  exact; any other within 0.01 or 0.5 %, whichever is larger (3.00 for 2.9983 is right).
- Dates and times compare by the day when they fall at midnight ("2014-01" for a month
  bucket is 2014-01-01); a year may be written as its first day (2012-01-01 for 2012) and
  a month number as its name (February or Feb for 2); text compares without case or outer
  spaces; a number written as text ("2014") is that number; empty values (NULL, NaN) match
  each other.
"""

import calendar
import datetime as dt
import itertools
import math
import re
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

ABSOLUTE_TOLERANCE = 0.01
RELATIVE_TOLERANCE = 0.005
MAX_PAIRINGS = 256  # column pairings tried (a result with many look-alike columns)
MAX_ROWS = 5_000  # beyond this the row matching (quadratic) is not attempted

_NUMBER_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")
_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_START = re.compile(r"^(\d{4})-01-01$")
_MONTH_NAMES = {name.lower() for name in calendar.month_name[1:] + calendar.month_abbr[1:]}
_MONTHS = {name.lower(): float(n) for n, name in enumerate(calendar.month_abbr) if name}
_EMPTY = ("empty",)


class Verdict(BaseModel):
    right: bool
    reason: str = ""  # why not, in a short sentence


def cell(value: Any) -> Any:
    """One value in a comparable form: a float, an ISO date or time text, lower-case text,
    a bool, or the empty marker."""
    if value is None or value is pd.NaT:
        return _EMPTY
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp | dt.datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        if stamp is pd.NaT:
            return _EMPTY
        if stamp.tzinfo is None and stamp == stamp.normalize():
            return stamp.date().isoformat()
        return stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal | np.number):
        number = float(value)
        return _EMPTY if math.isnan(number) else number
    text = str(value).strip()
    if _NUMBER_TEXT.match(text):
        return float(text)
    month = _MONTH_TEXT.match(text)
    if month:
        return f"{month.group(1)}-{month.group(2)}-01"
    return text.lower()


def same(got: Any, gold: Any) -> bool:
    """Two comparable cells agree (numbers within the rounding a person would use; a year
    or a month number written as the year's first day or as the month's name)."""
    if isinstance(gold, float) and isinstance(got, str):
        return _year_or_month(got) == gold
    if isinstance(gold, float) and isinstance(got, float) and not isinstance(got, bool):
        if gold == int(gold) and abs(gold) < 2**53:
            return abs(got - gold) < 1e-9
        return abs(got - gold) <= max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(gold))
    if isinstance(gold, bool) or isinstance(got, bool):
        return type(got) is type(gold) and got == gold
    return bool(got == gold)


def _year_or_month(text: str) -> float | None:
    """2012 for "2012-01-01" (a year bucket), 2 for "february" or "feb"; else None."""
    year = _YEAR_START.match(text)
    if year:
        return float(year.group(1))
    return _MONTHS.get(text[:3]) if text[:3] in _MONTHS and text in _MONTH_NAMES else None


def _rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(cell(v) for v in row) for row in frame.itertuples(index=False, name=None)]


def _rows_match(got: list[tuple[Any, ...]], gold: list[tuple[Any, ...]], *,
                ordered: bool) -> bool:
    if len(got) != len(gold):
        return False
    if ordered:
        return all(_row_same(a, b) for a, b in zip(got, gold, strict=True))
    unused = list(range(len(got)))
    for gold_row in gold:  # each gold row takes one matching row of Ask's, once
        found = next((i for i in unused if _row_same(got[i], gold_row)), None)
        if found is None:
            return False
        unused.remove(found)
    return True


def _row_same(got: tuple[Any, ...], gold: tuple[Any, ...]) -> bool:
    return all(same(a, b) for a, b in zip(got, gold, strict=True))


def compare(got: pd.DataFrame | None, gold: pd.DataFrame, *, ordered: bool = False) -> Verdict:
    """Whether Ask's result `got` answers as the gold result does (the rules above)."""
    if got is None:
        return Verdict(right=False, reason="Ask gave no result table.")
    if len(got) != len(gold):
        return Verdict(right=False, reason=f"{len(got):,} rows where the gold has {len(gold):,}.")
    if len(gold) > MAX_ROWS:
        return Verdict(right=False, reason=f"Too many rows to compare (over {MAX_ROWS:,}).")
    if got.shape[1] < gold.shape[1]:
        return Verdict(right=False, reason=f"{got.shape[1]} columns where the gold has "
                                           f"{gold.shape[1]}.")
    got_columns = [[cell(v) for v in got.iloc[:, i]] for i in range(got.shape[1])]
    gold_columns = [[cell(v) for v in gold.iloc[:, j]] for j in range(gold.shape[1])]
    candidates = [[i for i, column in enumerate(got_columns)
                   if _rows_match([(c,) for c in column], [(g,) for g in gold_column],
                                  ordered=False)]
                  for gold_column in gold_columns]
    missing = next((j for j, found in enumerate(candidates) if not found), None)
    if missing is not None:
        return Verdict(right=False, reason=f"No column has the gold's values of "
                                           f"“{gold.columns[missing]}”.")
    gold_rows = _rows(gold)
    for pairing in itertools.islice(itertools.product(*candidates), MAX_PAIRINGS):
        if len(set(pairing)) < len(pairing):
            continue  # one of Ask's columns stands for one gold column only
        picked = [tuple(got_columns[i][r] for i in pairing) for r in range(len(got))]
        if _rows_match(picked, gold_rows, ordered=ordered):
            return Verdict(right=True)
    if ordered:
        return Verdict(right=False, reason="The rows are not in the order the question asks for.")
    return Verdict(right=False, reason="The values do not line up with the gold's row by row.")
