"""One rule for how numbers, shares, years, dates and missing cells are written for people."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from components.text import number as page_number
from components.text import when
from services.charts.chart_figure import format_number
from services.data.display_text import (
    cell,
    exact_number,
    frame_for_people,
    in_words,
    is_year_column,
    missing_share,
    moment,
    number,
    number_texts,
    numbers_apart,
    share,
    year,
)


@pytest.mark.parametrize(("value", "shown"), [
    (1234567, "1,234,567"), (2500.0, "2,500"), (1234.56, "1,234.6"), (123456.7, "123,457"),
    (99.95, "99.95"), (0.47791, "0.478"), (0.0000123, "0.0000123"), (-10980.0, "-10,980"),
    (-10983.4, "-10,983.4"), (1.5e20, "150,000,000,000,000,000,000"), (-0.0, "0"),
    (np.int64(7), "7"), (np.float64(3.25), "3.25"), (None, "—"), (float("nan"), "—"),
    (float("inf"), "—"), (pd.NA, "—"),
])
def test_numbers_have_separators_sensible_rounding_and_never_an_exponent(
        value: object, shown: str) -> None:
    assert number(value) == shown  # type: ignore[arg-type]
    assert "e+" not in number(value) and "e-" not in number(value)  # type: ignore[arg-type]


def test_every_screen_shows_a_number_the_same_way() -> None:
    for value in (99.95, 1234.56, 0.47791, 2500.0, -10980.0):
        assert page_number(value) == format_number(value) == number(value)


def test_shares_are_never_falsely_zero_or_complete() -> None:
    assert share(0, 10) == "0%" and share(1, 1000) == "<1%" and share(998, 1000) == ">99%"
    assert share(10, 10) == "100%" and share(1, 3) == "33%" and share(3, 0) == "0%"
    assert missing_share(217, 54) == "80%"  # 217 of 271 rows


def test_years_have_no_thousands_separator() -> None:
    assert year(2007) == "2007" and year(2007.0) == "2007" and year(2007.5) == "2007.5"
    for name in ("year", "Year", "birth_year", "yr", "Fiscal Year", "Jahr", "año"):
        assert is_year_column(name, [1990, 2007, 2024]), name
    assert not is_year_column("population", [1990, 2007])
    assert is_year_column("birthyear", [1950]) and is_year_column("Year", None)
    assert not is_year_column("yearly_income", [1500, 2400])  # income, not a year
    assert not is_year_column("year", [1990, 45_000])  # not years: outside 1000–2999
    assert not is_year_column("year", [2007.5])
    assert not is_year_column("payer", [2007])


def test_dates_and_times_read_as_people_write_them() -> None:
    assert moment("2024-03-01T00:00:00") == "1 Mar 2024"
    assert moment("2024-03-01T14:05:00") == "1 Mar 2024 14:05"
    assert moment("2024-03-01T14:05:09") == "1 Mar 2024 14:05:09"
    assert moment("2024-03-01") == "1 Mar 2024"
    assert moment(date(2024, 12, 25)) == "25 Dec 2024"
    assert moment(time(9, 30)) == "09:30"
    assert moment("not a date") == "not a date"
    plus_two = datetime(2024, 3, 2, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert moment(plus_two) == "1 Mar 2024 23:30"  # shown in UTC
    assert moment("2024-03-01T12:05:00+00:00") == "1 Mar 2024 12:05"
    assert moment("2024-03-01T12:05:00Z") == "1 Mar 2024 12:05"
    assert moment(datetime(2024, 3, 1), with_time=True) == "1 Mar 2024 00:00"
    assert when(datetime(2024, 3, 1, 14, 5, 34)) == "1 Mar 2024 14:05"  # app times: no seconds
    assert when(date(2024, 3, 1)) == "1 Mar 2024"


def test_cells_never_say_none_or_nan() -> None:
    for missing in (None, float("nan"), pd.NA, pd.NaT, np.nan):
        assert cell(missing) == "—"
    assert cell(True) == "yes" and cell(Decimal("1234.50")) == "1,234.5"
    assert cell("text") == "text"


def test_a_preview_reads_as_people_write_it() -> None:
    frame = pd.DataFrame({
        "year": pd.array([2007, None, 2024], dtype="Int64"),
        "population": [8425333.0, None, 1234.5],
        "change": [-10980.4, 0.000012, 3.0],
        "name": ["Oslo", None, "Rome"],
        "day": pd.to_datetime(["2024-03-01", None, "2024-03-02"]),
        "at": pd.to_datetime(["2024-03-01T12:05:00Z", "2024-03-02T01:30:00+02:00", None],
                             utc=True),
    })
    shown = frame_for_people(frame)
    assert list(shown.columns) == list(frame.columns)
    assert shown["year"].tolist() == ["2007", "", "2024"]
    assert shown["population"].tolist() == ["8,425,333", "", "1,234.5"]
    assert shown["change"].tolist() == ["-10,980.4", "0.000012", "3"]
    assert shown["name"].tolist() == ["Oslo", "", "Rome"]
    assert shown["day"].tolist() == ["1 Mar 2024", "", "2 Mar 2024"]
    assert shown["at"].tolist() == ["1 Mar 2024 12:05", "1 Mar 2024 23:30", ""]
    text = " ".join(shown.to_numpy().ravel().tolist())
    assert "None" not in text and "nan" not in text and "e+" not in text and "T00" not in text


def test_a_date_time_column_at_midnight_shows_dates_only() -> None:
    frame = pd.DataFrame({"d": pd.to_datetime(["2024-03-01", "2024-03-05"]).tz_localize(UTC)})
    assert frame_for_people(frame)["d"].tolist() == ["1 Mar 2024", "5 Mar 2024"]


def test_columns_tab_writes_years_dates_and_keeps_text_as_typed() -> None:
    from components.column_profiles import _stat, _top
    from services.data.dataset_models import ColumnProfile, ValueCount

    years = ColumnProfile(name="Year", sql_name="year", dtype="whole number", count=3,
                          missing=0, distinct=3, min=1999, max=2007,
                          top_values=[ValueCount(value=2007, count=2)])
    assert _top(years) == "2007 (2)"
    days = ColumnProfile(name="day", sql_name="day", dtype="date", count=2, missing=0,
                         distinct=1, top_values=[ValueCount(value="2024-03-01", count=2)])
    assert _top(days) == "1 Mar 2024 (2)"
    assert _stat("2024-03-01T14:05:00") == "1 Mar 2024 14:05"
    codes = ColumnProfile(name="code", sql_name="code", dtype="text", count=2, missing=0,
                          distinct=1, top_values=[ValueCount(value="2024-03-01", count=2)])
    assert _top(codes) == "2024-03-01 (2)"  # text is shown as typed


def test_chart_summaries_write_years_without_separators() -> None:
    from services.charts.chart_figure import _label_text
    from services.charts.spec import ChartSpec

    assert _label_text(2007.0, ChartSpec(chart_type="bar", x="year")) == "2007"
    assert _label_text(2007.0, ChartSpec(chart_type="bar", x="price")) == "2,007"


# --- numbers shown together never round a difference away -----------------------------------

@pytest.mark.parametrize(("values", "shown"), [
    ([99.95, 100.0], ["99.95", "100"]),
    ([99.951, 99.95], ["99.951", "99.95"]),  # alone both would read 99.95
    ([1234.56, 1234.61], ["1,234.56", "1,234.61"]),  # alone both would read 1,234.6
    ([123456.7, 123457.0], ["123,456.7", "123,457"]),
    ([0.3, 0.1 + 0.2], ["0.3", "0.3"]),  # a float's last bits are not a difference
    ([2500.0, 3.25, None], ["2,500", "3.25", "—"]),  # apart already: the usual rule
    ([7, 7], ["7", "7"]),  # equal values may look equal
])
def test_numbers_shown_together_stay_apart(values: list, shown: list[str]) -> None:
    assert numbers_apart(values) == shown


def test_alone_a_number_keeps_the_one_rule_and_an_exact_reading_is_exact() -> None:
    assert number(99.95) == "99.95" and number(99.951) == "99.95"
    assert exact_number(1.234) == "1.234" and exact_number(1234.0) == "1234"
    assert exact_number(0.1 + 0.2) == "0.3" and exact_number(-2.5) == "-2.5"


def test_charts_and_filters_write_ranges_with_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.charts.chart_figure import histogram_sentence, rank_phrase

    assert rank_phrase(["a", "b"], [100.0, 99.95]) == "a is highest (100) and b lowest (99.95)"
    frame = pd.DataFrame({"bin_start": [99.90, 99.95], "bin_end": [99.95, 100.0],
                          "value": [10, 1]})
    assert histogram_sentence(frame) == ("most values (91%) fall between 99.9 and 99.95, "
                                         "from 99.9 to 100.")


def test_a_chart_hover_writes_values_with_the_rule() -> None:
    from services.charts.aggregate import ChartData
    from services.charts.chart_figure import build_figure
    from services.charts.spec import ChartSpec

    frame = pd.DataFrame({"x": ["a", "b"], "value": [99.95, 1234.56], "rows": [3, 4000]})
    data = ChartData(frame=frame, mark_count=2, rows_in=4003,
                     labels={"x": "Region", "value": "Mean of price", "rows": "Rows"})
    trace = build_figure(data, ChartSpec(chart_type="bar", x="Region", y="price",
                                         agg="mean")).data[0]
    assert [row[1] for row in trace.customdata] == ["99.95", "1,234.6"]
    assert "Mean of price=%{customdata[1]}" in trace.hovertemplate


def test_numbers_are_formatted_only_here() -> None:
    from tests.unit.one_home import files_matching

    # plotly's own number formats (d3) and Python's would be a second rule
    assert files_matching(r"%\{[a-z]+:[,.0-9~]*[fgse]\}|hoverformat=") == []
    assert files_matching(r"\{[a-z_.\[\]'\"]+:\.\d+[gf]\}") == ["services/data/display_text.py"]
    assert files_matching(r"def (number|numbers_apart|exact_number)\(") == [
        "services/data/display_text.py", "components/text.py"]  # text.py only calls it


def test_many_numbers_at_once_read_exactly_as_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.normal(100, 30, 500), rng.lognormal(0, 6, 500), -rng.lognormal(0, 4, 200),
        [0.0, -0.0, np.nan, np.inf, -np.inf, 2500.0, -10983.4, 1.5e20, 99.95, 0.0000123,
         123456.7, 1234.56, 0.47791, -0.0004, 999.995, 99_999.96]])
    assert number_texts(values) == [number(float(v)) for v in values]


def test_large_counts_read_as_words_in_a_sentence() -> None:
    assert [in_words(n) for n in (950, 12_400, 999_999, 1_234_567, 1_950_000,
                                  3_000_000_000)] == [
        "950", "12,400", "999,999", "1.2 million", "2 million", "3 billion"]
