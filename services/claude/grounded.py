"""Grounded answers: every number in Claude's written answer checked against the result table
it was given.

    check = check_answer(answer_text, result_rows, question=question, total_rows=total)

A number is *found* when a cell (or a number inside a text cell, or the row count) has it;
*rounded* when a cell rounded the way a person would (to the digits written, or to 2–3
significant figures; a percentage of a 0–1 share) gives it; *derived* when a simple figure
made from the shown values gives it (a column's sum, mean, median or count, a share of two
values or of a column's total, a difference, ratio or change between two values); otherwise
*not_found*: the answer marks it and says so (it is never removed).

Numbers are read the ways the product reads them (1,234.5 · 1.234,5 · 1 234,5 · 1'234.5 ·
12,34,567), with "1.2 million"/"3.4bn"/"12k", percentages, signs and currency signs. An
ambiguous "1,234" or "1.234" is read both ways and matches if either reading does. Numbers
that are not claims are left out: list markers ("1."), ordinals ("3rd"), dates and times,
years of dates the result holds, and numbers also written in the question or a column name.

The work is bounded: at most `MAX_NUMBERS` numbers, `MAX_CELLS` cells and `MAX_PAIR_VALUES`
values combined in pairs, compared with numpy arrays.
"""

import re
from datetime import date, datetime, time, timedelta
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.access.permissions import Role
from services.access.users import UserView
from services.data import text_reading
from services.store.db import session_scope
from services.store.models import Conversation, Message

MAX_NUMBERS = 200
MAX_CELLS = 10_000
MAX_PAIR_VALUES = 200
ONE_FLAGGED = "This number does not appear in the result; check it against the table."
SEVERAL_FLAGGED = "These numbers do not appear in the result; check them against the table."
_EPS = 1e-9

Verdict = Literal["found", "rounded", "derived", "not_found"]
FLAGGED: Verdict = "not_found"


class CheckedNumber(BaseModel):
    text: str  # as written in the answer, e.g. "$1.2 million"
    start: int  # its span in the answer text
    end: int
    value: float  # the first way it reads (an ambiguous "1,234" also reads as 1.234)
    verdict: Verdict


class GroundedCheck(BaseModel):
    numbers: list[CheckedNumber] = Field(default_factory=list)
    flagged: list[CheckedNumber] = Field(default_factory=list)
    sentence: str = ""  # said under the answer when a number is flagged, else ""

    @property
    def spans(self) -> list[tuple[int, int]]:
        return [(n.start, n.end) for n in self.flagged]


# --- reading numbers in text --------------------------------------------------------------

_GROUP = rf"[,.'’{text_reading.SPACES}]"
# Where a number stands in the text; how its body reads is services.data.text_reading's
# decision (the one home for reading numbers), so an answer reads the way files are read.
_NUMBER = re.compile(
    rf"(?P<sign>[-−])?(?P<cur>{text_reading.CURRENCY}\s?)?(?P<sign2>[-−])?"
    r"(?P<body>\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?(?!\d)"  # Indian 12,34,567
    rf"|\d{{1,3}}(?P<g>{_GROUP})\d{{3}}(?:(?P=g)\d{{3}})*(?:[.,]\d+)?(?!\d)"
    r"|\d+(?:[.,]\d+)?)"
    r"(?P<scale>\s?(?:thousand|million|billion|trillion)\b|(?:k|K|mn|M|m|bn|B|tn)\b)?"
    r"(?P<pct>\s?%|\s?(?:percent|per\s?cent|percentage\s+points?|pp)\b)?"
    r"(?P<ordinal>st|nd|rd|th)?")
_SCALES = {"thousand": 1e3, "k": 1e3, "K": 1e3, "million": 1e6, "mn": 1e6, "M": 1e6,
           "m": 1e6, "billion": 1e9, "bn": 1e9, "B": 1e9, "trillion": 1e12, "tn": 1e12}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?:" + "|".join(_MONTHS) + r")[a-z]*\.?"
_DATES = re.compile(
    rf"{text_reading.ISO_DATE_SQL_RE.strip('^$')}|{text_reading.DAY_MONTH_DATE_SQL_RE.strip('^$')}"
    r"|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}:\d{2}(?::\d{2})?"
    rf"|\b\d{{1,2}}\s+{_MONTH}\b|\b{_MONTH}\s+\d{{1,2}}\b(?!,\d)",
    re.IGNORECASE)
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]\s+)?\d{1,3}[.)](?=\s)", re.MULTILINE)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d|2100)(?!\d)")


class _Token(BaseModel):
    text: str
    start: int
    end: int
    readings: list[tuple[float, float]]  # (value, tolerance of the digits written)
    percent: bool
    is_year: bool


def _body_readings(body: str) -> list[tuple[float, int]]:
    """(value, digits after the decimal mark) for each way the body reads: "1,234" as 1234
    (thousands comma) first, then as 1.234 (decimal comma)."""
    body = body.replace("’", "'")
    readings: list[tuple[float, int]] = []
    for decimal in text_reading.fitting_styles(body):
        value = text_reading.parse_number(body, decimal)
        if value is not None:
            digits = len(body) - body.rindex(decimal) - 1 if decimal in body else 0
            readings.append((value, digits))
    return readings


def _skipped_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _DATES.finditer(text)] + \
        [m.span() for m in _LIST_MARKER.finditer(text)]


def _tokens(text: str) -> list[_Token]:
    skipped = _skipped_spans(text)
    found: list[_Token] = []
    for match in _NUMBER.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start else " "
        if before.isalnum() or before in "_." or match.group("ordinal"):
            continue  # part of a word or a name (Q3, A1), or an ordinal (3rd)
        if end < len(text) and (text[end].isalpha() or text[end] == "_") \
                and not match.group("scale") and not match.group("pct"):
            if re.match(r"[a-zA-Z]{1,3}\b", text[end:]) is None:
                continue  # glued to a longer word: a code, not a figure
        sign = match.group("sign") or match.group("sign2")
        if sign and start >= 1 and (text[start - 1].isalnum()):
            continue
        if sign and start == match.start("sign") and start >= 1 and text[start - 1] == "-":
            continue
        if start >= 2 and before == "-" and text[start - 2].isalpha():
            continue  # COVID-19, B-52
        if any(a <= match.start("body") < b for a, b in skipped):
            continue
        negative = -1.0 if sign and not (start >= 1 and text[start - 1].isdigit()) else 1.0
        scale_word = (match.group("scale") or "").strip()
        scales = [1.0]
        if scale_word:
            scales = [_SCALES[scale_word], 1.0] if scale_word == "m" else [_SCALES[scale_word]]
        readings = [(negative * value * scale, 0.5 * 10.0 ** -digits * scale)
                    for value, digits in _body_readings(match.group("body"))
                    for scale in scales]
        if not readings:
            continue
        plain = not (sign or match.group("cur") or scale_word or match.group("pct")
                     or match.group("g") or re.search(r"[.,]", match.group("body")))
        found.append(_Token(text=match.group(0).rstrip(), start=start,
                            end=start + len(match.group(0).rstrip()), readings=readings,
                            percent=bool(match.group("pct")),
                            is_year=plain and bool(_YEAR.fullmatch(match.group("body")))))
        if len(found) >= MAX_NUMBERS:
            break
    return found


def numbers_in(text: str) -> list[float]:
    """Every value a text's numbers can be read as (dates, markers and ordinals left out)."""
    return [value for token in _tokens(text) for value, _ in token.readings]


# --- what the result shows ----------------------------------------------------------------

class _Pool:
    """Values to compare with, with their 2- and 3-significant-figure roundings."""

    def __init__(self, values: list[float] | np.ndarray) -> None:
        array = np.asarray(values, dtype=float)
        self.values = array[np.isfinite(array)]
        self.sig = [_round_sig(self.values, k) for k in (2, 3)]

    def exact(self, x: float) -> bool:
        return _near(self.values, x, _EPS * max(1.0, abs(x)))

    def rounded(self, x: float, tolerance: float, *, whole: bool) -> bool:
        """Within the digits written; a whole number ("5,100", "1.2 million") also as a
        value rounded to 2 or 3 significant figures (a written "2.100" claims its digits)."""
        if _near(self.values, x, tolerance * (1 + 1e-6) + 1e-12):
            return True
        return whole and any(_near(s, x, _EPS * max(1.0, abs(x))) for s in self.sig)


def _round_sig(values: np.ndarray, k: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(values)))
        factor = np.where(np.isfinite(magnitude), 10.0 ** (k - 1 - magnitude), 1.0)
        return np.round(values * factor) / factor


def _near(values: np.ndarray, x: float, tolerance: float) -> bool:
    if values.size == 0:
        return False
    distance = np.abs(values - x) if x < 0 else np.abs(np.abs(values) - x)
    return bool((distance <= tolerance).any())


class _Shown(BaseModel):
    """The result's values sorted by how an answer may use them."""

    model_config = {"arbitrary_types_allowed": True}

    cells: _Pool  # numeric cells, numbers inside text cells, row counts
    percent_cells: _Pool  # cells a "45%" may quote as 45 (columns not holding 0–1 shares)
    share_cells: _Pool  # cells a "45%" may quote as 0.45 (columns holding 0–1 shares)
    derived: _Pool  # sums, means, counts, differences, ratios
    derived_percent: _Pool  # the same, quoted as a percentage ("12 points")
    derived_shares: _Pool  # shares, ratios and changes, quoted as x / 100
    years: set[int]


def _numeric_columns(frame: pd.DataFrame) -> list[np.ndarray]:
    columns = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            continue
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        columns.append(values[np.isfinite(values)])
    return columns


def _text_facts(frame: pd.DataFrame) -> tuple[list[float], set[int]]:
    """Numbers written inside text cells, and the years of every date the result holds."""
    numbers: list[float] = []
    years: set[int] = set()
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            years.update(int(y) for y in column.dt.year.dropna().unique())
            continue
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        for cell in column.dropna().unique()[:MAX_CELLS]:
            if isinstance(cell, datetime | date):
                years.add(cell.year)
                continue
            text = str(cell)
            years.update(int(y) for y in _YEAR.findall(text))
            numbers += numbers_in(text)
    return numbers, years


def _pairs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Differences and ratios (and relative changes) of every pair of at most
    `MAX_PAIR_VALUES` values: (plain figures, figures that read as shares)."""
    values = values[:MAX_PAIR_VALUES]
    a, b = values[:, None], values[None, :]
    differences = np.abs(a - b).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (a / b).ravel()
        changes = (np.abs(a - b) / np.abs(b)).ravel()
    return differences, np.concatenate([ratios, changes])


def _shown(frame: pd.DataFrame, total_rows: int | None) -> _Shown:
    frame = frame.head(max(1, MAX_CELLS // max(1, len(frame.columns))))
    columns = _numeric_columns(frame)
    text_numbers, years = _text_facts(frame)
    counts = [float(len(frame))] + ([float(total_rows)] if total_rows is not None else [])
    shares = [c for c in columns if c.size and bool((np.abs(c) <= 1).all())]
    others = [c for c in columns if not (c.size and bool((np.abs(c) <= 1).all()))]
    aggregates: list[float] = []
    share_aggregates: list[float] = []
    of_totals: list[np.ndarray] = []
    for column in columns:
        if not column.size:
            continue
        figures = [column.sum(), column.mean(), float(np.median(column)), float(column.size)]
        (share_aggregates if any(column is s for s in shares) else aggregates).extend(figures)
        total = column.sum()
        if total:
            of_totals.append(column / total)
    aggregates += [float(frame[c].nunique()) for c in frame.columns]
    every = np.concatenate(columns) if columns else np.zeros(0)
    differences, ratios = _pairs(every)
    other_values = np.concatenate(others) if others else np.zeros(0)
    other_differences, _ = _pairs(other_values)
    return _Shown(
        cells=_Pool(np.concatenate([every, np.asarray(text_numbers + counts)])),
        percent_cells=_Pool(np.concatenate([other_values, np.asarray(text_numbers)])),
        share_cells=_Pool(np.concatenate(shares) if shares else np.zeros(0)),
        derived=_Pool(np.concatenate([np.asarray(aggregates + share_aggregates),
                                      differences, ratios])),
        derived_percent=_Pool(np.concatenate([np.asarray(aggregates), other_differences])),
        derived_shares=_Pool(np.concatenate([np.asarray(share_aggregates), ratios,
                                             *of_totals, differences])),
        years=years)


# --- the check ----------------------------------------------------------------------------

def _verdict(token: _Token, shown: _Shown) -> Verdict:
    tiers: list[tuple[_Pool, float, Verdict]]
    if token.percent:
        tiers = [(shown.percent_cells, 1.0, "found"), (shown.share_cells, 0.01, "found"),
                 (shown.derived_percent, 1.0, "derived"),
                 (shown.derived_shares, 0.01, "derived")]
    else:
        tiers = [(shown.cells, 1.0, "found"), (shown.derived, 1.0, "derived")]
    for value, tolerance in token.readings:  # the usual reading first ("3,000" as 3000)
        for pool, factor, kind in tiers:
            if pool.exact(value * factor):
                return kind
            if pool.rounded(value * factor, tolerance * factor, whole=tolerance >= 0.5):
                return "rounded" if kind == "found" else kind
    return FLAGGED


def flagged_sentence(count: int) -> str:
    if count <= 0:
        return ""
    return ONE_FLAGGED if count == 1 else SEVERAL_FLAGGED


def check_answer(text: str, result: pd.DataFrame, *, question: str = "",
                 total_rows: int | None = None) -> GroundedCheck:
    """Each number in `text` with its span and verdict against the rows `result` (the rows
    Claude was given; `total_rows`: the row count it was told), the flagged ones and the
    sentence to show under the answer."""
    tokens = _tokens(text)
    if not tokens:
        return GroundedCheck()
    names = " ".join(str(c).replace("_", " ") for c in result.columns)  # top_10 → top 10
    not_claims = set(numbers_in(question)) | set(numbers_in(names))
    shown = _shown(result, total_rows)
    checked: list[CheckedNumber] = []
    for token in tokens:
        if token.is_year and int(token.readings[0][0]) in shown.years:
            continue  # the year of a date the result holds
        if any(value in not_claims for value, _ in token.readings):
            continue  # the question's own number ("top 5"), or a column's name
        checked.append(CheckedNumber(text=token.text, start=token.start, end=token.end,
                                     value=token.readings[0][0],
                                     verdict=_verdict(token, shown)))
    flagged = [n for n in checked if n.verdict == FLAGGED]
    return GroundedCheck(numbers=checked, flagged=flagged,
                         sentence=flagged_sentence(len(flagged)))


def stored_check(value: object) -> GroundedCheck | None:
    """A check as stored in JSON (an answer's details, an insight's spec), or None."""
    if not isinstance(value, dict):
        return None
    try:
        return GroundedCheck.model_validate(value)
    except ValueError:
        return None


# --- for the usage report -----------------------------------------------------------------

class GroundedCounts(BaseModel):
    answers_checked: int = 0
    answers_flagged: int = 0  # answers with at least one number not in their result
    numbers_flagged: int = 0


def flagged_answers(actor: UserView, since: date, until: date, *,
                    person: str | None = None) -> GroundedCounts:
    """How many Ask answers between two days (both included) were checked and how many had
    a number flagged. Like the usage report, non-admins always get their own."""
    if actor.role != Role.ADMIN:
        person = actor.username
    start = datetime.combine(since, time.min)
    end = datetime.combine(until + timedelta(days=1), time.min)
    query = (select(Message.chart).join(Conversation, Conversation.id == Message.conversation_id)
             .where(Message.role == "assistant", Message.status == "answered",
                    Message.created_at >= start, Message.created_at < end))
    if person:
        query = query.where(Conversation.owner == person)
    counts = GroundedCounts()
    with session_scope() as session:
        for details in session.scalars(query):
            check = stored_check((details or {}).get("grounded"))
            if check is None:
                continue
            counts.answers_checked += 1
            counts.numbers_flagged += len(check.flagged)
            counts.answers_flagged += bool(check.flagged)
    return counts

