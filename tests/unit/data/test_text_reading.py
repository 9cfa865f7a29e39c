"""services.data.text_reading: how text becomes numbers and dates, the same everywhere."""

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.data import text_reading as tr
from services.data.sql_names import sql_literal
from tests.unit.number_styles import (
    DECIMAL,
    STYLES,
    THOUSANDS,
    expected,
    write_date,
    write_number,
)

# --- evidence, value by value -----------------------------------------------------------

@pytest.mark.parametrize(("value", "decimals"), [
    ("8.425.333", {","}),  # two dots: only thousands
    ("1,234,567", {"."}),
    ("779,45", {","}),  # a comma then 2 digits: only a decimal
    ("28,8012", {","}),  # ... or 4+ digits
    ("1,234", {".", ","}),  # ambiguous alone
    ("1.234", {".", ","}),
    ("1.234,5", {","}),
    ("1,234.5", {"."}),
    ("12,34,567.89", {"."}),  # India
    ("1'234'567.89", {"."}),  # Switzerland
    ("1\u202f234\u202f567,89", {","}),  # France, narrow no-break space
    ("1 234,5", {","}),
])
def test_which_decimal_marks_a_value_allows(value: str, decimals: set[str]) -> None:
    body = tr.split_affixes(value)
    assert body is not None
    assert set(tr.fitting_styles(body[0])) == decimals


@pytest.mark.parametrize("value", ["abc", "1.2.3", "03.01.2024", "030 123 456", "12-34",
                                   "1,2,3", "(5", "5)", "--5", ""])
def test_text_that_is_not_a_number(value: str) -> None:
    body = tr.split_affixes(value)
    assert body is None or not tr.fitting_styles(body[0])


@pytest.mark.parametrize(("text", "decimal", "value"), [
    ("1.234,50 €", ",", 1234.5), ("(2,5)", ",", -2.5), ("$1,234.50", ".", 1234.5),
    ("12 %", ".", 12.0), ("-€5", ".", -5.0), ("CHF 1'250.00", ".", 1250.0),
    ("₹12,34,567", ".", 1234567.0), ("8.425.333", ",", 8425333.0), ("1,5", ".", None),
])
def test_parse_number_with_currency_percent_and_brackets(text: str, decimal: str,
                                                          value: float | None) -> None:
    assert tr.parse_number(text, decimal) == value


def _evidence(*columns: list[str]) -> list[tr.ColumnEvidence]:
    found = [tr.column_evidence(i, values) for i, values in enumerate(columns)]
    return [e for e in found if e is not None]


def test_spanish_export_is_decided_from_every_column() -> None:
    decision = tr.decide_numbers(_evidence(["28,801", "30,332"], ["8.425.333", "9.414.000"],
                                           ["779,45", "820,85"], ["Afganistán", "Albania"]),
                                 delimiter=";")
    assert (decision.decimal, decision.thousands) == (",", ".")
    assert set(decision.columns) == {0, 1, 2}
    assert not decision.split and not decision.guessed


def test_the_same_ambiguous_column_follows_the_rest_of_the_file() -> None:
    with_points = tr.decide_numbers(_evidence(["1,234"], ["2.5"]), delimiter=";")
    assert with_points.columns[0] == tr.NumberFormat(".", ",")
    with_commas = tr.decide_numbers(_evidence(["1,234"], ["2,5"]), delimiter=",")
    assert with_commas.columns[0].decimal == ","


def test_no_evidence_uses_the_documented_default_and_says_it_guessed() -> None:
    semicolon = tr.decide_numbers(_evidence(["1,234", "5,678"]), delimiter=";")
    assert semicolon.decimal == "," and semicolon.guessed == [0]
    comma = tr.decide_numbers(_evidence(["1,234", "5,678"]), delimiter=",")
    assert comma.columns[0] == tr.NumberFormat(".", ",") and comma.guessed == [0]


def test_split_evidence_is_reported_and_each_proven_column_kept() -> None:
    decision = tr.decide_numbers(_evidence(["779,45"], ["12.5"], ["1.234"]), delimiter=";")
    assert decision.split == {",": [0], ".": [1]}
    assert decision.decimal == "."  # a tie: the documented default is the point
    assert decision.columns[0].decimal == ","  # proven: read as its values show
    assert 1 not in decision.columns  # 12.5: DuckDB reads plain numbers itself
    assert decision.guessed == [2]


def test_read_options_win_over_evidence() -> None:
    decision = tr.decide_numbers(_evidence(["1.234"], ["8.425.333"]), delimiter=";",
                                 decimal=".", thousands=",")
    assert decision.decimal == "." and decision.thousands == ","
    assert 1 not in decision.columns  # 8.425.333 cannot be read with a decimal point


# --- the SQL reader agrees with the Python one ------------------------------------------

# One in-memory database for the SQL readers: each query is a SELECT over its own VALUES, and
# opening a new database per Hypothesis example was most of these tests' time.
_DUCK = duckdb.connect()


def _sql_read(values: list[str], fmt: tr.NumberFormat, **kwargs: bool) -> list[float | None]:
    con = _DUCK.cursor()
    rows = ", ".join(f"({sql_literal(v)})" for v in values)
    expr = tr.number_sql("v", fmt, **kwargs)
    return [r[0] for r in con.execute(f"SELECT {expr} FROM (VALUES {rows}) t(v)").fetchall()]


def test_sql_reader_counts_unreadable_as_missing_not_as_a_wrong_number() -> None:
    values = ["1.234,5", "8.425.333", "abc", "12abc34", "1,2,3", "(7,5 €)", ""]
    assert _sql_read(values, tr.NumberFormat(",", "."), any_thousands=True) == [
        1234.5, 8425333.0, None, None, None, -7.5, None]


def test_strict_sql_reader_refuses_text() -> None:
    with pytest.raises(duckdb.ConversionException):
        _sql_read(["1,5", "abc"], tr.NumberFormat(","), strict=True, units=True)


numbers = st.tuples(st.integers(0, 10**12), st.text("0123456789", max_size=3),
                    st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(style=st.sampled_from(STYLES), values=st.lists(numbers, min_size=1, max_size=8))
def test_round_trip_every_style_through_python_and_sql(
        style: str, values: list[tuple[int, str, bool]]) -> None:
    texts = [write_number(w, f, n, style) for w, f, n in values]
    wanted = [expected(w, f, n) for w, f, n in values]
    fmt = tr.NumberFormat(DECIMAL[style], THOUSANDS[style].replace("\u202f", " "))  # type: ignore[arg-type]
    assert [tr.parse_number(t, fmt.decimal) for t in texts] == wanted
    assert _sql_read(texts, fmt, any_thousands=True) == wanted
    assert _sql_read(texts, fmt, strict=True, units=False) == wanted  # ingest's fast path
    assert _sql_read(texts, fmt, strict=True, units=True) == wanted
    evidence = tr.column_evidence(0, texts)
    assert evidence is not None and fmt.decimal in evidence.fits


# --- dates ------------------------------------------------------------------------------

def test_one_order_per_column_never_row_by_row() -> None:
    decision = tr.decide_date_format(["03/01/2024", "12/31/2024", "garbage"])
    assert decision is not None and decision.format == "%m/%d/%Y" and decision.proven
    ambiguous = tr.decide_date_format(["03/01/2024", "04/02/2024"])
    assert ambiguous is not None and ambiguous.format == "%d/%m/%Y"  # as ingest: day first
    assert not ambiguous.proven
    chosen = tr.decide_date_format(["03/01/2024"], requested="month_first")
    assert chosen is not None and chosen.format == "%m/%d/%Y"
    iso = tr.decide_date_format(["2024-03-01", "2024-03-02 10:00"])
    assert iso is not None and iso.format == "%Y-%m-%d"
    assert tr.decide_date_format(["hello", "world"]) is None


def _sql_dates(values: list[str], fmt: str) -> list[dt.date | None]:
    con = _DUCK.cursor()
    rows = ", ".join(f"({sql_literal(v)})" for v in values)
    return [r[0] for r in con.execute(
        f"SELECT {tr.date_sql('v', fmt)} FROM (VALUES {rows}) t(v)").fetchall()]


dates = st.dates(dt.date(1950, 1, 1), dt.date(2049, 12, 31))


@settings(max_examples=60, deadline=None)
@given(order=st.sampled_from(["day_first", "month_first"]),
       days=st.lists(dates, min_size=1, max_size=10), proof=st.booleans(),
       sep=st.sampled_from(["/", ".", "-"]))
def test_date_round_trip_with_and_without_a_proving_value(
        order: str, days: list[dt.date], proof: bool, sep: str) -> None:
    if proof:
        days = [*days, dt.date(2024, 12, 25)]  # 25 can only be a day
    texts = [write_date(d, order, sep) for d in days]
    proven = any(d.day > 12 and d.day != d.month for d in days)
    decision = tr.decide_date_format(texts, requested=None if proven else order)  # type: ignore[arg-type]
    assert decision is not None and decision.order == order
    assert decision.proven == proven
    assert _sql_dates(texts, decision.format) == days


# --- the shapes the quality report counts in SQL are text_reading's shapes ------------------

@pytest.mark.parametrize(("value", "number", "iso", "day_month"), [
    ("1.234,5 €", True, False, False), ("(5)", True, False, False),
    ("$ 12", True, False, False), ("12 %", True, False, False),
    ("Rs. 100", True, False, False), ("CHF 1'234.50", True, False, False),
    ("-3", True, False, False), ("1\u00a0234", True, False, False),
    ("abc", False, False, False), ("12a", False, False, False),
    ("2024-01-03", False, True, False), ("2024-01-03 14:05", False, True, False),
    ("03/01/2024", False, False, True), ("25.12.24 08:30", False, False, True),
    ("3-1-2024", False, False, True), ("March 3", False, False, False),
])
def test_sql_shapes_match_what_text_reading_reads(value: str, number: bool, iso: bool,
                                                  day_month: bool) -> None:
    with duckdb.connect() as con:
        row = con.execute(
            "SELECT regexp_full_match($v, $n), regexp_full_match($v, $i), "
            "regexp_full_match($v, $d)",
            {"v": value, "n": tr.NUMBER_SQL_RE, "i": tr.ISO_DATE_SQL_RE,
             "d": tr.DAY_MONTH_DATE_SQL_RE}).fetchone()
    assert row == (number, iso, day_month)
    assert (tr.split_affixes(value) is not None) is number
    assert (tr.decide_date_format([value]) is not None) is (iso or day_month)
    if number or iso or day_month:  # the quick screen never skips a number or a date
        assert tr.starts_like_number_or_date(value)
    assert not tr.starts_like_number_or_date("abc") and not tr.starts_like_number_or_date("Mar 3")


# --- one value a person typed, read as the column holds values ------------------------------

@pytest.mark.parametrize(("text", "dtype", "value"), [
    ("12", "text", "12"), ("12", "category", "12"), (" a b ", "text", " a b "),
    ("12", "whole number", 12.0), ("1.234,5", "number", 1234.5), ("1,5", "number", 1.5),
    ("$ 12", "number", 12.0), ("(5)", "number", -5.0), ("twelve", "number", None),
    ("03/01/2024", "date", "2024-01-03"), ("12/25/2024", "date", "2024-12-25"),
    ("2024-03-01", "date", "2024-03-01"), ("2024-03-01 14:05", "date and time",
                                             "2024-03-01 14:05:00"),
    ("soon", "date", None), ("31/02/2024", "date", None),
    ("yes", "true/false", True), ("False", "true/false", False), ("maybe", "true/false", None),
])
def test_a_typed_value_is_read_the_way_its_column_holds_values(
        text: str, dtype: str, value: object) -> None:
    assert tr.typed_value(text, dtype) == value


def test_no_other_module_reads_numbers_or_dates_from_text() -> None:
    from tests.unit.one_home import files_matching

    home = ["services/data/text_reading.py"]
    assert files_matching(r"CHF|\bEUR\b") == home  # the currencies a number may carry
    assert files_matching(r"\\d\{4\}-\\d\{1,2\}-\\d\{1,2\}") == home  # ISO dates in text
    assert files_matching(r"return float\(value\)\s+except ValueError") == []
