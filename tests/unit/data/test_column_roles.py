"""ID-like columns never become a default measure: one rule (`services.data.column_roles`) for
Explore's first chart and Ask's starter questions, on penguins- and flights-like data."""

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from services.charts import aggregate as analytics
from services.charts.spec import CHART_TYPES, ChartSpec, suggest_fields, validate_spec
from services.claude import ask
from services.claude.ask import AskTable
from services.data.column_roles import (
    ColumnStats,
    categories,
    has_id_name,
    is_id_like,
    is_row_number,
    is_time_part,
    is_unique_id,
    measures,
)
from services.data.profile import profile_dataset
from tests.unit.one_home import files_matching


def _write(frame: pd.DataFrame, path: Path) -> Path:
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    return path


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    n = 344
    frame = pd.DataFrame({
        "rownames": np.arange(1, n + 1),
        "species": rng.choice(["Adelie", "Gentoo", "Chinstrap"], n),
        "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
        "bill_length_mm": rng.normal(44, 5, n).round(1),
        "bill_depth_mm": rng.normal(17, 2, n).round(1),
        "flipper_length_mm": rng.integers(172, 231, n),
        "body_mass_g": rng.integers(2700, 6300, n),
        "sex": rng.choice(["male", "female"], n),
        "year": rng.choice([2007, 2008, 2009], n),
    })
    return _write(frame, tmp_path_factory.mktemp("roles") / "penguins.parquet")


@pytest.fixture(scope="module")
def flights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(2)
    n = 3000
    frame = pd.DataFrame({
        "rownames": np.arange(1, n + 1),
        "year": np.full(n, 2013),
        "month": rng.integers(1, 13, n),
        "day": rng.integers(1, 32, n),
        "dep_time": rng.integers(500, 2400, n),
        "dep_delay": rng.integers(-20, 300, n),
        "carrier": rng.choice([f"C{i}" for i in range(16)], n),
        "flight": rng.integers(1, 6000, n),
        "tailnum": [f"N{i:05d}" for i in rng.integers(0, 2500, n)],
        "origin": rng.choice(["EWR", "JFK", "LGA"], n),
        "dest": [f"D{i:03d}" for i in rng.integers(0, 105, n)],
        "distance": rng.integers(80, 5000, n),
    })
    return _write(frame, tmp_path_factory.mktemp("roles") / "flights.parquet")


@pytest.mark.parametrize("name", ["id", "ID", "rownames", "Unnamed: 0", "", "index",
                                  "customer_id", "CustomerID", "order id", "row number",
                                  "id_order", "row_no"])
def test_id_names(name: str) -> None:
    assert has_id_name(name)


@pytest.mark.parametrize("name", ["paid", "valid", "width", "body_mass_g", "Idaho", "n",
                                  "identity score", "dep_delay", "carrier"])
def test_names_that_are_not_ids(name: str) -> None:
    assert not has_id_name(name)


def test_whole_numbers_running_one_per_row_are_row_numbers() -> None:
    row_no = ColumnStats(kind="number", count=300, distinct=300, is_whole=True, low=1,
                         high=300)
    assert is_row_number(row_no) and is_id_like("position", row_no)
    population = row_no.model_copy(update={"low": 1_000.0, "high": 8_425_333.0})
    assert not is_row_number(population)  # unique, but far from a 1, 2, 3 … run
    decimals = row_no.model_copy(update={"is_whole": False})
    assert not is_row_number(decimals)
    repeated = row_no.model_copy(update={"distinct": 120})
    assert not is_row_number(repeated)
    few = row_no.model_copy(update={"count": 5, "distinct": 5, "high": 5})
    assert not is_row_number(few)  # too few rows to tell
    assert not is_row_number(None)


def test_years_months_and_hours_are_time_parts() -> None:
    assert is_time_part("year") and is_time_part("Month") and is_time_part("dep_time")
    assert is_time_part("Jahr") and is_time_part("hour")
    assert not is_time_part("hours") and not is_time_part("days_to_ship")  # durations
    assert is_time_part("season", ColumnStats(kind="number", is_whole=True, low=1990,
                                              high=2020, distinct=31))
    assert not is_time_part("dep_delay")


def test_measures_and_categories_without_any_values() -> None:
    columns = {"rownames": "number", "year": "number", "price": "number", "id": "text",
               "region": "text"}
    assert measures(columns) == ["price", "year"]
    assert categories(columns) == ["region"]


def test_penguins_first_chart_is_a_real_measure_by_a_small_category(penguins: Path) -> None:
    columns = analytics.column_kinds(penguins)
    stats = analytics.column_stats(penguins)
    assert stats["rownames"].distinct == 344 and stats["rownames"].is_whole
    fields = suggest_fields("bar", columns, stats)
    assert (fields["x"], fields["y"], fields["agg"]) == ("species", "bill_length_mm", "mean")
    assert fields["y"] != "rownames"
    line = suggest_fields("line", columns, stats)
    assert line["x"] == "year" and line["y"] == "bill_length_mm"  # a year is an axis


def test_flights_first_chart_skips_rownames_year_and_clock_times(flights: Path) -> None:
    columns = analytics.column_kinds(flights)
    stats = analytics.column_stats(flights)
    fields = suggest_fields("bar", columns, stats)
    assert fields["y"] == "dep_delay" and fields["agg"] == "mean"
    assert fields["x"] == "carrier"  # 16 values: few enough
    grouped = suggest_fields("grouped_bar", columns, stats)
    assert grouped["color"] == "origin"  # tailnum (2,500 values) and dest (105) come last
    for chart_type in CHART_TYPES:
        suggested = suggest_fields(chart_type, columns, stats)
        assert "rownames" not in (suggested["x"], suggested["y"], suggested["color"])
        spec = ChartSpec(chart_type=chart_type, **suggested)  # type: ignore[arg-type]
        validate_spec(spec, columns)


def test_a_number_named_plainly_that_counts_rows_is_skipped_by_its_values(
        tmp_path: Path) -> None:
    frame = pd.DataFrame({"Nummer": np.arange(1, 101), "price": np.linspace(1, 50, 100),
                          "shop": ["a", "b"] * 50})
    path = _write(frame, tmp_path / "shops.parquet")
    fields = suggest_fields("bar", analytics.column_kinds(path), analytics.column_stats(path))
    assert fields["y"] == "price"


def test_only_ids_means_counting_rows() -> None:
    fields = suggest_fields("bar", {"id": "number", "name": "text"})
    assert fields["x"] == "name" and fields["y"] is None and fields["agg"] == "count"


def _table(path: Path, name: str) -> AskTable:
    return AskTable(sql_name=name, display_name=name, parquet_path=path,
                    profile=profile_dataset(path))


def test_ask_starters_for_penguins_use_a_measure(penguins: Path) -> None:
    questions = ask.starter_questions([_table(penguins, "penguins")])
    assert "What is the average “bill_length_mm” by “species”?" in questions
    assert not any("rownames" in q or "average year" in q for q in questions)


def test_ask_starters_for_flights_use_a_measure(flights: Path) -> None:
    questions = ask.starter_questions([_table(flights, "flights")])
    assert "What is the average “dep_delay” by “carrier”?" in questions
    assert not any("rownames" in q for q in questions)
    assert not any(w in q for q in questions for w in ("average year", "average month"))


def test_one_id_rule_for_the_quality_report_and_the_charts() -> None:
    """`is_unique_id` (the quality report's "looks like an ID") is `is_id_like` (what charts
    never average) on columns with a different value in every row."""
    counter = ColumnStats(kind="number", dtype="whole number", count=60, missing=0,
                          distinct=60, is_whole=True, low=5001, high=5060)
    assert is_unique_id("station", counter) and is_id_like("station", counter)
    years = counter.model_copy(update={"low": 1960.0, "high": 2019.0})
    assert not is_unique_id("year", years) and not is_id_like("year", years)
    assert not is_id_like("season", years)  # a run of years is a time axis, not an ID
    population = counter.model_copy(update={"low": 1_000.0, "high": 48_000_000.0})
    assert not is_unique_id("population", population)
    assert is_unique_id("CustomerID", population)  # named like one
    labels = ColumnStats(kind="text", dtype="text", count=60, missing=0, distinct=60)
    assert is_unique_id("code", labels)
    times = labels.model_copy(update={"dtype": "time"})
    assert not is_unique_id("start", times)  # times of day are values, not labels
    with_gaps = counter.model_copy(update={"missing": 3})
    assert not is_unique_id("station", with_gaps)
    repeated = counter.model_copy(update={"distinct": 40})
    assert not is_unique_id("customer_id", repeated) and is_id_like("customer_id", repeated)
    few = counter.model_copy(update={"count": 10, "distinct": 10})
    assert not is_unique_id("id", few)  # too few rows to tell


def test_the_id_rule_is_written_once() -> None:
    assert files_matching(r"def (looks_like_id|is_id_like|is_unique_id)\(") == [
        "services/data/column_roles.py"]
    assert files_matching(r"[\"']rownames?[\"']|rownames\?") == ["services/data/column_roles.py"]
