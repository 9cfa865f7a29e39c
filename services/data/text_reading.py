"""How numbers and dates written as text are read: the one place that decides it.

Ingest, the quality report's fixes, the cleaning steps and the read-options form all use
this module, so one column is always read one way, the same way everywhere.

Numbers. A value is read under a *style*: a decimal mark ("." or ",") and a thousands mark
("", ",", ".", a space — any of " ", U+00A0, U+202F — or the Swiss apostrophe "'"), with
Indian lakh grouping (12,34,567.89) allowed where "," groups. Currency signs and codes,
percent signs and "(5)" for -5 are stripped; a percent keeps its number (12 % → 12).
Evidence, value by value:

- a value with two or more dots (8.425.333) can only use dots as thousands, so its
  decimal mark is a comma (and the same for two or more commas: 1,234,567);
- a mark followed by 1–2 or 4+ digits (779,45; 28,8012) can only be a decimal mark;
- both marks (1.234,5 / 1,234.5): the last one is the decimal mark;
- "1,234" or "1.234" alone is ambiguous: it fits both styles and gives different numbers.

`column_evidence` works out, for one column's sample values, which decimal marks (and,
for each, which thousands marks) fit every value. `decide_numbers` decides for a whole
file from all its columns: a column that proves its mark is read that way; ambiguous
columns follow what the rest of the file proves; when no column proves anything, a
semicolon-separated file is read with a decimal comma (the European spreadsheet export)
and any other file with a decimal point. When columns prove *different* marks the
evidence is split: the ambiguous columns follow the mark most columns prove (a decimal
point on a tie), and the result carries a warning that names the columns and the read
option ("Decimal mark" / "Thousands separator") that changes it.

Dates. Day/month dates (03/01/2024) are read in one order per column: the order a value
proves (a 25 can only be a day), else the order the person chose, else (at ingest) the
order the rest of the file proves, else day first. ISO dates (2024-01-03) are read as
such. `decide_date_format` gives one strptime format for a column's values, so a column
is never read row by row in mixed orders.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Literal

from services.data import column_kinds, date_text
from services.data.dataset_models import DateOrder
from services.data.date_text import (  # noqa: F401 - re-exported: dates are read from here
    DAY_FIRST,
    DEFAULT_ORDER,
    MONTH_FIRST,
    DateColumn,
    date_expr,
    find_date_columns,
    is_guess,
    order_for,
    spelled_out,
)
from services.data.sql_names import sql_literal

Decimal = Literal[".", ","]
DECIMALS: tuple[Decimal, ...] = (".", ",")
THOUSANDS = ("", ",", ".", " ", "'")  # " " stands for any space, U+00A0 and U+202F too
SPACES = " \u00a0\u202f"
CURRENCY = r"(?:[$€£¥₹]|CHF|EUR|USD|GBP|INR|JPY|Rs\.?|Fr\.?)"
DECIMAL_NAMES = {".": "point", ",": "comma"}
THOUSANDS_NAMES = {"": "none", ",": "comma", ".": "point", " ": "space", "'": "apostrophe"}

# sign, currency, body, unit, as people write them: "-1.234,5 €", "(5)", "$ 12", "12 %"
_AFFIXES = re.compile(
    rf"^(?P<open>\()?\s*(?P<sign1>[-+])?\s*(?P<cur>{CURRENCY})?\s*(?P<sign2>[-+])?\s*"
    rf"(?P<body>\d[\d.,'{SPACES}]*?)\s*(?P<unit>%|‰|{CURRENCY})?\s*(?P<close>\))?$")
_DIGITS = re.compile(r"[-+]?\d+")
_FRACTION = {".": r"\.\d+", ",": r",\d+"}
_GROUPED = {
    ",": r"[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d?(?:,\d\d)+,\d{3}",  # 1,234,567 and 12,34,567
    ".": r"[1-9]\d{0,2}(?:\.\d{3})+",
    " ": rf"[1-9]\d{{0,2}}(?:[{SPACES}]\d{{3}})+",
    "'": r"[1-9]\d{0,2}(?:'\d{3})+",
}


def _body_pattern(decimal: str, thousands: str) -> str:
    integer = r"\d+" if not thousands else rf"\d+|{_GROUPED[thousands]}"
    return rf"(?:{integer})(?:{_FRACTION[decimal]})?"


_STYLE_RE = {(d, t): re.compile(_body_pattern(d, t)) for d in DECIMALS for t in THOUSANDS
             if t != d}


_ANY_STYLE: dict[str, frozenset[str]] = {
    d: frozenset(t for t in THOUSANDS if t != d) for d in DECIMALS}
_POINT_ONLY: dict[str, frozenset[str]] = {".": _ANY_STYLE["."]}
_POINT_FRACTION = re.compile(r"\d+\.\d+")
_AMBIGUOUS_POINT = re.compile(r"[1-9]\d{0,2}\.\d{3}")  # 1.234: also 1234 with dot thousands


@dataclass(frozen=True)
class NumberFormat:
    """A decided way to read one column: its decimal mark and thousands mark."""

    decimal: Decimal = "."
    thousands: str = ""


@dataclass(frozen=True)
class ColumnEvidence:
    """What one column's sample values allow. `fits[d]` holds the thousands marks that fit
    every value when `d` is the decimal mark; a mark missing from `fits` is ruled out."""

    index: int
    fits: dict[str, frozenset[str]]
    matters: bool  # some value holds "." or ",": the decimal mark changes the number
    plain: bool  # every value is digits with an optional ".fraction" (DuckDB reads these)
    has_units: bool  # currency, percent or "(5)" somewhere
    example: str

    @property
    def proven(self) -> Decimal | None:
        """The decimal mark the values prove, when only one fits and it makes a difference."""
        if self.matters and len(self.fits) == 1:
            return "," if "," in self.fits else "."
        return None


@dataclass
class NumberDecision:
    """How a file's text numbers are read: per column, plus the file-wide marks."""

    decimal: Decimal
    thousands: str
    columns: dict[int, NumberFormat] = field(default_factory=dict)  # columns to convert
    units: set[int] = field(default_factory=set)  # of those, the ones with currency etc.
    split: dict[str, list[int]] = field(default_factory=dict)  # decimal → proving columns
    guessed: list[int] = field(default_factory=list)  # ambiguous columns read by a default


@lru_cache(maxsize=65_536)  # the same values recur across columns and calls
def split_affixes(text: str) -> tuple[str, bool, bool] | None:
    """(body, negative, had_units) for text shaped like a number, else None."""
    text = text.strip()
    if _DIGITS.fullmatch(text):
        return text.lstrip("+-"), text.startswith("-"), False
    match = _AFFIXES.fullmatch(text)
    if match is None or bool(match["open"]) != bool(match["close"]):
        return None
    if match["sign1"] and match["sign2"]:
        return None
    negative = bool(match["open"]) or "-" in (match["sign1"] or "", match["sign2"] or "")
    had_units = bool(match["open"] or match["cur"] or match["unit"])
    return match["body"], negative, had_units


def fitting_styles(body: str) -> dict[str, frozenset[str]]:
    """decimal mark → the thousands marks under which `body` is a well-written number."""
    if body.isdigit():
        return _ANY_STYLE  # 1234 reads the same in every style
    if _POINT_FRACTION.fullmatch(body) and not _AMBIGUOUS_POINT.fullmatch(body):
        return _POINT_ONLY  # 12.5, 0.125, 1234.567: only a decimal point
    return _fitting_styles(body)


@lru_cache(maxsize=4096)
def _fitting_styles(body: str) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for (decimal, thousands), pattern in _STYLE_RE.items():
        if pattern.fullmatch(body):
            found.setdefault(decimal, set()).add(thousands)
    return {d: frozenset(t) for d, t in found.items()}


def column_evidence(index: int, values: list[str]) -> ColumnEvidence | None:
    """What the non-empty `values` of one column allow; None when some value is not a number
    in any style (the column is text, or dates)."""
    fits: dict[str, frozenset[str]] | None = None
    matters = has_units = False
    plain = True
    seen: set[str] = set()
    for value in values:
        if value in seen:
            continue
        seen.add(value)
        parts = split_affixes(value)
        if parts is None:
            return None
        body, _, units = parts
        styles = fitting_styles(body)
        fits = styles if fits is None else {
            d: fits[d] & styles[d] for d in fits if d in styles and fits[d] & styles[d]}
        if not fits:
            return None
        has_units = has_units or units
        matters = matters or "." in body or "," in body
        plain = plain and not units and re.fullmatch(r"\d+(\.\d+)?", body) is not None
    if fits is None:
        return None
    return ColumnEvidence(index=index, fits=fits, matters=matters, plain=plain,
                          has_units=has_units, example=values[0] if values else "")


def decide_numbers(evidence: list[ColumnEvidence], *, delimiter: str = ",",
                   decimal: str | None = None, thousands: str | None = None,
                   ) -> NumberDecision:
    """Decide how the file's text numbers are read (see the module docstring).
    `decimal` / `thousands` are the person's read options and win over any evidence."""
    votes = Counter(e.proven for e in evidence if e.proven)
    if decimal in DECIMALS:
        file_decimal: Decimal = decimal  # type: ignore[assignment]
    elif votes:
        file_decimal = "," if votes[","] > votes["."] else "."
    else:
        file_decimal = "," if delimiter == ";" else "."
    result = NumberDecision(decimal=file_decimal, thousands="")
    if len(votes) == 2 and decimal is None:
        result.split = {d: [e.index for e in evidence if e.proven == d] for d in DECIMALS}
    result.thousands = thousands if thousands is not None else _file_thousands(
        evidence, file_decimal)
    for e in evidence:
        mark: str = file_decimal if decimal in DECIMALS else (e.proven or file_decimal)
        if mark not in e.fits:
            continue  # this column's values cannot be read with the chosen mark
        marks = e.fits[mark]
        if thousands is not None and thousands not in marks:
            continue
        group = thousands if thousands is not None else (
            result.thousands if result.thousands in marks else _preferred(marks))
        if e.matters and not e.proven and decimal is None and (not votes or result.split):
            result.guessed.append(e.index)
        if e.plain and mark == ".":
            continue  # DuckDB reads 12.5 and 1234 itself, and faster
        result.columns[e.index] = NumberFormat(decimal=mark, thousands=group)  # type: ignore[arg-type]
        if e.has_units:
            result.units.add(e.index)
    return result


def _file_thousands(evidence: list[ColumnEvidence], decimal: str) -> str:
    """The thousands mark the columns read with `decimal` show (none when nothing shows)."""
    shown = Counter(next(iter(e.fits[decimal])) for e in evidence
                    if decimal in e.fits and len(e.fits[decimal]) == 1
                    and "" not in e.fits[decimal])
    if shown:
        return shown.most_common(1)[0][0]
    return ""


def _preferred(marks: frozenset[str]) -> str:
    """A column whose values show no grouping can be read with any mark; say 'none'."""
    return "" if "" in marks else next(t for t in THOUSANDS if t in marks)


# --- reading one column (cleaning steps, quality fixes) ---------------------------------

def decide_column_number(values: list[str], decimal: str | None = None) -> NumberFormat | None:
    """The format for one column from its own values (a sample), as cleaning uses it:
    a proven mark wins; ambiguous values ("1.234") are read with a decimal point. Values
    that are not numbers are left out (they become missing and are counted)."""
    numbers = [parts for parts in map(split_affixes, values) if parts is not None]
    if decimal in DECIMALS:
        return NumberFormat(decimal=decimal)  # type: ignore[arg-type]
    counts: Counter[str] = Counter()
    for body, _, _ in numbers:
        fits = fitting_styles(body)
        if len(fits) == 1 and ("." in body or "," in body):
            counts[next(iter(fits))] += 1
    if not numbers:
        return None
    mark: Decimal = "," if counts[","] > counts["."] else "."
    return NumberFormat(decimal=mark)


def parse_number(text: str, decimal: str, thousands: str | None = None) -> float | None:
    """The number `text` holds when read with these marks, or None (the Python twin of
    `number_sql`; `thousands=None` accepts any thousands mark other than the decimal)."""
    parts = split_affixes(text)
    if parts is None:
        return None
    body, negative, _ = parts
    styles = fitting_styles(body)
    if decimal not in styles or (thousands is not None and thousands not in styles[decimal]):
        return None
    digits = re.sub(rf"[^0-9{re.escape(decimal)}]", "", body).replace(decimal, ".")
    value = float(digits)
    return -value if negative else value


def _body_sql_pattern(decimal: str, thousands: str | None) -> str:
    marks = [t for t in THOUSANDS if t != decimal] if thousands is None else [thousands]
    integers = [r"\d+"] + [_GROUPED[t] for t in marks if t]
    return rf"(?:{'|'.join(integers)})(?:{_FRACTION[decimal]})?"


def number_sql(column_sql: str, fmt: NumberFormat | None = None, *, strict: bool = False,
               units: bool = True, any_thousands: bool = False) -> str:
    """SQL turning a text column into DOUBLE with a decided format.

    Only a value written in that format is read; anything else becomes missing (NULL), or
    with `strict` raises a conversion error (ingest then keeps the column as text).
    `units=False` is the fast path for columns whose sample had no currency or percent:
    the thousands marks are dropped with `replace`, no regular expression.
    """
    fmt = fmt or NumberFormat()
    cast = "CAST" if strict else "TRY_CAST"
    if not units and strict:
        text = column_sql
        for mark in fmt.thousands.replace(" ", SPACES):
            text = f"replace({text}, {sql_literal(mark)}, '')"
        if fmt.decimal == ",":
            text = f"replace({text}, ',', '.')"
        return f"CAST(trim({text}) AS DOUBLE)"
    body = _body_sql_pattern(fmt.decimal, None if any_thousands else fmt.thousands)
    pattern = (rf"^(\()?\s*([-+])?\s*{CURRENCY}?\s*([-+])?\s*({body})\s*"
               rf"(?:%|‰|{CURRENCY})?\s*(\))?$")
    text = f"trim(CAST({column_sql} AS VARCHAR))"
    number = f"regexp_extract({text}, {sql_literal(pattern)}, 4)"
    digits = f"regexp_replace({number}, {sql_literal(f'[^0-9{re.escape(fmt.decimal)}]')}, '', 'g')"
    if fmt.decimal == ",":
        digits = f"replace({digits}, ',', '.')"
    value = f"{cast}(nullif({digits}, '') AS DOUBLE)" if not strict else \
        f"CAST({digits} AS DOUBLE)"
    negative = (f"(regexp_extract({text}, {sql_literal(pattern)}, 1) = '(' AND "
                f"regexp_extract({text}, {sql_literal(pattern)}, 5) = ')') OR "
                f"'-' IN (regexp_extract({text}, {sql_literal(pattern)}, 2), "
                f"regexp_extract({text}, {sql_literal(pattern)}, 3))")
    return (f"(CASE WHEN {text} = '' THEN NULL WHEN {negative} THEN -{value} "
            f"ELSE {value} END)")


def describe_format(fmt: NumberFormat) -> str:
    """“decimal comma, point as thousands separator”."""
    words = f"decimal {DECIMAL_NAMES[fmt.decimal]}"
    if fmt.thousands:
        words += f", {THOUSANDS_NAMES[fmt.thousands]} as thousands separator"
    return words


# --- dates ------------------------------------------------------------------------------

_ISO = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?P<time>[ T]\d{1,2}:\d{2}(?P<sec>:\d{2})?)?")


# --- the same shapes as DuckDB patterns (RE2), to count candidates in a sample ---------
#
# The quality report counts, in SQL, how many of a text column's values are written like a
# number or a date before `decide_column_number` / `decide_date_format` decide how to read
# them. These patterns are built from the ones above, so both sides agree on the shapes.

NUMBER_SQL_RE = (rf"^\(?\s*[-+]?\s*{CURRENCY}?\s*[-+]?\s*\d[\d.,'{SPACES}]*\s*"
                 rf"(?:%|‰|{CURRENCY})?\s*\)?$")
ISO_DATE_SQL_RE = f"^{_ISO.pattern}$"
DAY_MONTH_DATE_SQL_RE = "^" + date_text.DATE_RE.pattern.replace("(?P=sep)", "[./-]") + "$"
_NUMBER_OR_DATE_START = re.compile(rf"^\(?\s*[-+]?\s*{CURRENCY}?\s*[-+]?\s*\d")


def starts_like_number_or_date(text: str) -> bool:
    """True when `text` begins the way every number or date written as text begins."""
    return _NUMBER_OR_DATE_START.match(text.strip()) is not None


@dataclass(frozen=True)
class DateDecision:
    """One strptime format for a whole column, and whether its order was proven."""

    format: str
    order: DateOrder | None  # None for ISO dates (they have one reading)
    proven: bool


def decide_date_format(values: list[str], requested: DateOrder | None = None,
                       ) -> DateDecision | None:
    """One format for a column's values (a sample); None when they are not dates.
    Values that do not fit the format become missing (and are counted), never read in
    another order."""
    cleaned = [v.strip() for v in values if v and v.strip()]
    if not cleaned:
        return None
    iso = [m for m in (_ISO.fullmatch(v) for v in cleaned) if m]
    day_month = [m for m in (date_text.DATE_RE.fullmatch(v) for v in cleaned) if m]
    if not iso and not day_month:
        return None
    if len(iso) >= len(day_month):
        shapes = Counter((bool(m["time"]), m["time"][0] if m["time"] else "", bool(m["sec"]))
                         for m in iso)
        (has_time, sep, seconds), _ = shapes.most_common(1)[0]
        fmt = "%Y-%m-%d" + (f"{sep}%H:%M" + (":%S" if seconds else "") if has_time else "")
        return DateDecision(format=fmt, order=None, proven=True)
    shape_counts = Counter((m["sep"], len(m["year"]), m["tsep"] or "", m["second"] is not None)
                           for m in day_month)
    (sep, year_digits, time_sep, seconds), _ = shape_counts.most_common(1)[0]
    same = [m for m in day_month
            if (m["sep"], len(m["year"]), m["tsep"] or "", m["second"] is not None)
            == (sep, year_digits, time_sep, seconds)]
    day_proof = sum(1 for m in same if int(m["a"]) > 12)
    month_proof = sum(1 for m in same if int(m["b"]) > 12)
    proven: DateOrder | None = None
    if day_proof or month_proof:
        proven = DAY_FIRST if day_proof >= month_proof else MONTH_FIRST
    order = proven or requested or DEFAULT_ORDER
    column = DateColumn(index=0, separator=sep, long_year=year_digits == 4,
                        time_format=(f"{time_sep}%H:%M" + (":%S" if seconds else ""))
                        if time_sep else "", order=proven, example=same[0].string)
    return DateDecision(format=date_text.strptime_format(column, order), order=order,
                        proven=proven is not None)


def date_sql(column_sql: str, fmt: str) -> str:
    """SQL reading a text column with one strptime format; other values become missing."""
    text = f"trim(CAST({column_sql} AS VARCHAR))"
    has_time = any(code in fmt for code in ("%H", "%I", "%M", "%S"))
    target = "TIMESTAMP" if has_time else "DATE"
    return f"CAST(try_strptime({text}, {sql_literal(fmt)}) AS {target})"


# --- one value a person typed (a filter's "12", "1,5", "03/01/2024") --------------------

_TRUE, _FALSE = frozenset({"true", "yes", "y", "1"}), frozenset({"false", "no", "n", "0"})


def typed_value(text: str, dtype: str) -> str | float | bool | None:
    """`text` read the way a column of type `dtype` holds values: a number for a number
    column ("1.234,5" and "1,5" too: a point first, then a comma), ISO text for a date
    ("03/01/2024" → "2024-01-03", day first unless the value proves otherwise), True/False
    for yes/no; a text column keeps it exactly as typed ("12" stays "12", never 12.0).
    None when the text cannot be read as that type."""
    if column_kinds.is_number(dtype):
        for decimal in DECIMALS:
            number = parse_number(text, decimal)
            if number is not None:
                return number
        return None
    if column_kinds.is_moment(dtype):
        decision = decide_date_format([text])
        if decision is None:
            return None
        try:
            moment = datetime.strptime(text.strip(), decision.format)
        except ValueError:
            return None
        return moment.isoformat(sep=" ") if dtype == "date and time" else moment.date().isoformat()
    if dtype == "true/false":
        word = text.strip().casefold()
        return True if word in _TRUE else False if word in _FALSE else None
    return text


# --- missing markers --------------------------------------------------------------------
#
# Files write a missing value as an empty cell, or as a marker: R's NA, Excel's #N/A,
# N/A, NULL, None, NaN, a dash. A marker is read as missing in a column whose other
# values are all numbers, dates or true/false (the marker cannot be a real value there),
# and then, as the file's own convention, in its text columns too ("NA" for an unknown
# sex). The exception is a marker that is also an ordinary word, "None": a text column
# keeps it as a value (a category "None"), and only typed columns read it as missing.
# Ingest decides from its sample; quality fixes and cleaning steps read every marker as
# missing when they turn a column into numbers or dates (it was missing already, so it
# is never counted as a value that "could not be read").

MISSING_MARKERS: tuple[str, ...] = (
    "NA", "N/A", "n/a", "NULL", "null", "None", "NaN", "-", "—", "–", "#N/A")
_MISSING = frozenset(m.casefold() for m in MISSING_MARKERS) | {""}
_WORD_MARKERS = frozenset({"none"})  # ordinary words: a text column may mean them
_ISO_MOMENT = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_BOOLEAN = frozenset({"true", "false"})


def is_missing_marker(text: str | None) -> bool:
    """True for an empty cell or a missing-value marker (“NA”, “N/A”, “NULL”, “—”, …)."""
    return text is None or text.strip().casefold() in _MISSING


def missing_marker_sql(text_sql: str) -> str:
    """SQL that is true where `text_sql` is missing or a missing-value marker."""
    listed = ", ".join(sql_literal(m) for m in sorted(_MISSING))
    return f"coalesce(lower(trim(CAST({text_sql} AS VARCHAR))) IN ({listed}), true)"


def reads_as_typed(values: list[str]) -> bool:
    """True when every value is a number, a date (or date and time) or true/false."""
    if not values:
        return False
    if column_evidence(0, values) is not None:
        return True
    if all(_ISO_MOMENT.fullmatch(v) or date_text.DATE_RE.fullmatch(v) for v in values):
        return True
    return all(v.casefold() in _BOOLEAN for v in values)


@dataclass
class MissingDecision:
    """Which marker spellings a file's sample reads as missing, and where.

    `markers` are read as missing in every column (DuckDB's null strings); `by_column`
    maps a column to the spellings it holds that are read as missing (for the warning);
    `only_in` maps a typed column to spellings read as missing there only, because a text
    column of the same file keeps them as values (a category “None”)."""

    markers: list[str] = field(default_factory=list)
    by_column: dict[int, list[str]] = field(default_factory=dict)
    only_in: dict[int, list[str]] = field(default_factory=dict)

    def columns_for(self, spelling: str) -> list[int]:
        return [i for i, found in self.by_column.items() if spelling in found]

    def spellings(self) -> list[str]:
        seen: dict[str, None] = {}
        for found in self.by_column.values():
            seen.update(dict.fromkeys(found))
        return list(seen)

    def blank(self, rows: list[list[str]]) -> list[list[str]]:
        """The sample rows with every value read as missing made empty."""
        if not self.by_column:
            return rows
        return [[("" if i in self.by_column and cell.strip() in self.by_column[i] else cell)
                 for i, cell in enumerate(row)] for row in rows]


def decide_missing_markers(columns: list[list[str]]) -> MissingDecision:
    """Decide from each column's sample values (stripped, non-empty) which marker
    spellings are missing values (see the section comment above)."""
    proven: dict[str, None] = {}
    typed: dict[int, list[str]] = {}
    text: dict[int, list[str]] = {}
    for index, values in enumerate(columns):
        found = list(dict.fromkeys(v for v in values if v.casefold() in _MISSING))
        if not found:
            continue
        rest = [v for v in values if v.casefold() not in _MISSING]
        if reads_as_typed(rest):
            typed[index] = found
            proven.update(dict.fromkeys(found))
        else:
            text[index] = found
    decision = MissingDecision(by_column=dict(typed))
    kept: set[str] = set()
    for index, found in text.items():
        missing = [s for s in found if s in proven and s.casefold() not in _WORD_MARKERS]
        kept.update(s for s in found if s in proven and s.casefold() in _WORD_MARKERS)
        if missing:
            decision.by_column[index] = missing
    decision.by_column = dict(sorted(decision.by_column.items()))
    decision.markers = [s for s in proven if s not in kept]
    decision.only_in = {i: [s for s in found if s in kept]
                        for i, found in typed.items() if any(s in kept for s in found)}
    return decision
