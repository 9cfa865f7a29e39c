"""Real public files (tests/data) through ingest → profile → quality → each fix → chart.

Every expected value comes from pandas reading the same file with explicit read options
(separator, decimal mark, thousands mark, missing-value marker), never from our own code.
"""

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.charts.aggregate import aggregate, column_kinds
from services.charts.chart_figure import build_figure, summarize
from services.charts.spec import ChartSpec, Filter, suggest_fields
from services.data import dataset_files
from services.data.cleaning import apply_recipe
from services.data.dataset_models import (
    DatasetProfile,
    DropColumns,
    DropDuplicates,
    DropMissing,
    Finding,
    Impute,
    IngestResult,
    MapCategories,
)
from services.data.ingest import ingest_file
from services.data.profile import profile_dataset
from services.data.quality import find_issues
from services.data.sql_names import path_literal, quote_ident
from services.settings import reset_settings_cache

DATA = Path(__file__).resolve().parents[2] / "data"
NUMERIC = ("number", "whole number")
TEXTUAL = ("text", "category")
# Findings that say a column holds text (or needs converting) — false for a numeric column.
SAYS_TEXT = ("numbers_stored_as_text", "mixed_types", "inconsistent_categories", "whitespace",
             "high_cardinality_text", "dates_stored_as_text")
# Fixes whose purpose is to remove rows or columns; the finding states how many.
REMOVES = (DropColumns, DropMissing, DropDuplicates)


def _csv_na(path: Path) -> pd.DataFrame:
    """R-style CSV: comma, dot decimals, the text NA (and only it) marks a missing value."""
    return pd.read_csv(path, sep=",", decimal=".", na_values=["NA"], keep_default_na=False)


@dataclass(frozen=True)
class RealFile:
    name: str
    read: Callable[[Path], pd.DataFrame]
    numeric: list[str]
    text: list[str]
    charts: list[tuple[ChartSpec, Callable[[pd.DataFrame], pd.Series]]] = field(
        default_factory=list)


def _mean_by(frame: pd.DataFrame, x: str, y: str) -> pd.Series:
    return frame.groupby(x)[y].mean()


FILES = [
    RealFile(
        "penguins.csv", _csv_na,
        numeric=["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"],
        text=["species", "island", "sex"],
        charts=[(ChartSpec(x="species", y="body_mass_g", agg="mean"),
                 lambda f: _mean_by(f, "species", "body_mass_g")),
                (ChartSpec(x="island", y="flipper_length_mm", agg="max"),
                 lambda f: f.groupby("island")["flipper_length_mm"].max())]),
    RealFile(
        "seattle_weather.xlsx",
        lambda p: pd.read_excel(p, sheet_name="Seattle weather", engine="openpyxl"),
        numeric=["precipitation", "temp_max", "temp_min", "wind"],
        text=["weather"],
        charts=[(ChartSpec(x="weather", y="temp_max", agg="mean"),
                 lambda f: _mean_by(f, "weather", "temp_max")),
                (ChartSpec(x="weather", y="precipitation", agg="sum"),
                 lambda f: f.groupby("weather")["precipitation"].sum())]),
    RealFile(
        "flights_3000.csv", _csv_na,
        numeric=["year", "month", "day", "dep_time", "sched_dep_time", "dep_delay", "arr_time",
                 "sched_arr_time", "arr_delay", "flight", "air_time", "distance", "hour",
                 "minute"],
        text=["carrier", "tailnum", "origin", "dest"],
        charts=[(ChartSpec(x="carrier", y="dep_delay", agg="mean"),
                 lambda f: _mean_by(f, "carrier", "dep_delay")),
                (ChartSpec(x="origin", y="arr_delay", agg="median"),
                 lambda f: f.groupby("origin")["arr_delay"].median())]),
    RealFile(
        "gapminder_es.csv",
        lambda p: pd.read_csv(p, sep=";", decimal=",", thousands=".", encoding="utf-8-sig"),
        numeric=["Año", "Esperanza de vida", "Población", "PIB per cápita"],
        text=["País", "Continente"],
        charts=[(ChartSpec(x="Continente", y="Esperanza de vida", agg="mean"),
                 lambda f: _mean_by(f, "Continente", "Esperanza de vida")),
                (ChartSpec(x="Continente", y="Población", agg="sum",
                           filters=[Filter(column="Año", op="eq", value=2007)]),
                 lambda f: f[f["Año"] == 2007].groupby("Continente")["Población"].sum())]),
    RealFile(
        "sf_temps.json", lambda p: pd.read_json(p, orient="records").assign(
            date=lambda f: pd.to_datetime(f["date"])),
        numeric=["temp"], text=[],
        charts=[(ChartSpec(chart_type="line", x="date", y="temp", agg="mean", bucket="month"),
                 lambda f: f.groupby(f["date"].dt.to_period("M"))["temp"].mean())]),
    RealFile(
        "nyc_weather_utc.csv", _csv_na,
        numeric=["year", "month", "day", "hour", "temp", "dewp", "humid", "wind_dir",
                 "wind_speed", "wind_gust", "precip", "pressure", "visib"],
        text=["origin"],
        charts=[(ChartSpec(x="origin", y="temp", agg="mean"),
                 lambda f: _mean_by(f, "origin", "temp")),
                (ChartSpec(x="origin", y="wind_gust", agg="max"),
                 lambda f: f.groupby("origin")["wind_gust"].max())]),
]
BY_NAME = {f.name: f for f in FILES}
IDS = [f.name for f in FILES]


@dataclass
class Ingested:
    spec: RealFile
    expected: pd.DataFrame
    result: IngestResult
    profile: DatasetProfile
    findings: list[Finding]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Ingested | Exception]]:
    """Each file ingested once per module; a failure is kept so only its own tests fail."""
    folder = tmp_path_factory.mktemp("corpus")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESEARCH_DESK_DATA_DIR", str(folder / "data"))
        reset_settings_cache()
        out: dict[str, Ingested | Exception] = {}
        for spec in FILES:
            try:
                result = ingest_file(DATA / spec.name, original_name=spec.name,
                                     dest_dir=folder / "out")
                summary = profile_dataset(result.parquet_path)
                out[spec.name] = Ingested(spec, spec.read(DATA / spec.name), result, summary,
                                          find_issues(result.parquet_path, summary))
            except Exception as error:  # noqa: BLE001 - reported by the test that needs it
                out[spec.name] = error
        yield out
    reset_settings_cache()


def _get(corpus: dict[str, Ingested | Exception], name: str) -> Ingested:
    got = corpus[name]
    if isinstance(got, Exception):
        raise AssertionError(f"{name} could not be read, profiled or checked: {got!r}")
    return got


def _non_missing(path: Path) -> dict[str, int]:
    with duckdb.connect() as con:
        names = [r[0] for r in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({path_literal(path)})").fetchall()]
        counts = con.execute("SELECT " + ", ".join(f"count({quote_ident(n)})" for n in names)
                             + f" FROM read_parquet({path_literal(path)})").fetchone()
    assert counts is not None
    return dict(zip(names, counts, strict=True))


def _as_number(text: object) -> float | None:
    try:
        return float(str(text))
    except ValueError:
        return None


# --- the files are what the README says -------------------------------------------------

def test_every_file_is_small_and_documented() -> None:
    readme = (DATA / "README.md").read_text()
    for spec in FILES:
        assert (DATA / spec.name).stat().st_size < 1_000_000, spec.name
        assert spec.name in readme, f"{spec.name} needs its source and licence in the README"


# --- ingest -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_ingest_reads_every_row_and_the_right_kind_of_column(
        corpus: dict[str, Ingested | Exception], name: str) -> None:
    got = _get(corpus, name)
    assert got.result.rows == len(got.expected)
    kinds = {c.name: c.dtype for c in got.result.columns}
    assert list(kinds) == list(got.expected.columns)
    wrong = {c: kinds[c] for c in got.spec.numeric if kinds[c] not in NUMERIC}
    assert not wrong, f"numeric columns read as something else: {wrong}"
    wrong = {c: kinds[c] for c in got.spec.text if kinds[c] not in TEXTUAL}
    assert not wrong, f"text columns read as something else: {wrong}"


def test_spanish_export_reads_its_first_row_exactly(
        corpus: dict[str, Ingested | Exception]) -> None:
    got = _get(corpus, "gapminder_es.csv")
    assert (got.result.detected.delimiter, got.result.detected.decimal,
            got.result.detected.thousands) == (";", ",", ".")
    first = dataset_files.preview(got.result.parquet_path, limit=1).iloc[0]
    assert first["País"] == "Afghanistan"
    assert first["Esperanza de vida"] == pytest.approx(28.801)
    assert first["Población"] == 8_425_333
    assert first["PIB per cápita"] == pytest.approx(779.45)


def test_utc_timestamps_are_read_as_moments_and_preview_without_error(
        corpus: dict[str, Ingested | Exception]) -> None:
    got = _get(corpus, "nyc_weather_utc.csv")
    kinds = {c.name: c.dtype for c in got.result.columns}
    assert kinds["time_hour"] == "date and time"
    frame = dataset_files.preview(got.result.parquet_path, limit=5)
    expected = pd.to_datetime(got.expected["time_hour"].head(5), utc=True)
    shown = pd.to_datetime(frame["time_hour"], utc=True)
    assert list(shown) == list(expected)  # the same moments, whatever zone they are shown in
    daily = aggregate(got.result.parquet_path,
                      ChartSpec(chart_type="line", x="time_hour", bucket="day", agg="count"))
    assert int(daily.frame["value"].sum()) == len(got.expected)


# --- profile ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_profile_counts_mean_min_max_match_pandas(corpus: dict[str, Ingested | Exception],
                                                  name: str) -> None:
    got = _get(corpus, name)
    assert got.profile.rows == len(got.expected)
    columns = {c.name: c for c in got.profile.columns}
    for name_ in got.spec.numeric:
        column, values = columns[name_], got.expected[name_]
        assert column.is_numeric, f"{name_} is profiled as {column.dtype}"
        assert column.count == int(values.notna().sum()), name_
        assert column.missing == int(values.isna().sum()), name_
        assert column.mean == pytest.approx(float(values.mean()), rel=1e-9), name_
        assert column.min == pytest.approx(float(values.min())), name_
        assert column.max == pytest.approx(float(values.max())), name_
    for name_ in got.spec.text:
        assert columns[name_].missing == int(got.expected[name_].isna().sum()), name_


# --- quality ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_no_finding_calls_a_numeric_column_text(corpus: dict[str, Ingested | Exception],
                                                name: str) -> None:
    got = _get(corpus, name)
    wrong = [(f.kind, f.column) for f in got.findings
             if f.column in got.spec.numeric and f.kind in SAYS_TEXT]
    assert not wrong, f"findings that treat numbers as text: {wrong}"


@pytest.mark.parametrize("name", IDS)
def test_no_fix_rewrites_one_number_as_another(corpus: dict[str, Ingested | Exception],
                                               name: str) -> None:
    got = _get(corpus, name)
    for finding in got.findings:
        if not isinstance(finding.fix, MapCategories):
            continue
        changed = [(old, new) for old, new in finding.fix.mapping.items()
                   if _as_number(old) is not None and _as_number(new) is not None
                   and _as_number(old) != _as_number(new)]
        assert not changed, f"{finding.column}: merging different numbers {changed[:5]}"


@pytest.mark.parametrize("name", IDS)
def test_no_outlier_bound_below_zero_for_a_column_that_is_never_negative(
        corpus: dict[str, Ingested | Exception], name: str) -> None:
    got = _get(corpus, name)
    for finding in got.findings:
        if finding.kind != "outliers" or finding.column not in got.spec.numeric:
            continue
        if got.expected[finding.column].min() >= 0:
            assert "below -" not in finding.message, finding.message


@pytest.mark.parametrize("name", IDS)
def test_each_offered_fix_keeps_every_value_it_does_not_say_it_removes(
        corpus: dict[str, Ingested | Exception], name: str, tmp_path: Path) -> None:
    got = _get(corpus, name)
    before = _non_missing(got.result.parquet_path)
    for index, finding in enumerate(f for f in got.findings if f.fix is not None):
        assert finding.fix is not None
        result = apply_recipe(got.result.parquet_path, [finding.fix],
                              tmp_path / f"fix{index}.parquet")
        after = _non_missing(result.parquet_path)
        if isinstance(finding.fix, DropDuplicates):
            assert result.rows == got.result.rows - finding.affected_rows, finding.message
            continue
        if isinstance(finding.fix, REMOVES):
            continue  # removes what the finding names; the others are checked below
        assert result.rows == got.result.rows, finding.message
        kinds = {c.name: c.dtype for c in result.columns}
        display = {c.sql_name: c.name for c in result.columns}
        for sql_name, count in after.items():
            shown = display.get(sql_name, sql_name)
            original = next((c.sql_name for c in got.result.columns if c.name == shown), None)
            if original is None:
                continue  # a new column, such as a "… is missing" flag
            lost = before[original] - count
            assert lost <= 0 or re.search(rf"(?<![\d.,]){lost:,}(?![\d.,]\d)", finding.message), (
                f"“{finding.message}” blanks {lost:,} values of {shown} without saying so")
            if isinstance(finding.fix, Impute) and finding.fix.column == shown:
                # a fill keeps every value and invents the missing ones: the values that
                # were there are unchanged, row by row, and only the missing ones are filled
                _assert_only_missing_filled(got.result.parquet_path, result.parquet_path,
                                            original, sql_name, finding.affected_rows)
                continue
            if shown in got.spec.numeric and kinds.get(shown) in NUMERIC:
                with duckdb.connect() as con:
                    mean = con.execute(
                        f"SELECT avg({quote_ident(sql_name)}) "
                        f"FROM read_parquet({path_literal(result.parquet_path)})").fetchone()
                assert mean is not None
                expected = float(got.expected[shown].mean())
                assert mean[0] == pytest.approx(expected), f"{shown} after “{finding.message}”"


def _assert_only_missing_filled(before_path: Path, after_path: Path, before_col: str,
                                after_col: str, missing: int) -> None:
    with duckdb.connect() as con:
        before = con.execute(f"SELECT {quote_ident(before_col)} AS v "
                             f"FROM read_parquet({path_literal(before_path)})").df()["v"]
        after = con.execute(f"SELECT {quote_ident(after_col)} AS v "
                            f"FROM read_parquet({path_literal(after_path)})").df()["v"]
    had = before.notna()
    assert int((~had).sum()) == missing
    assert list(after[had]) == list(before[had]), f"{after_col}: a fill changed kept values"
    assert int(after[~had].notna().sum()) == missing, f"{after_col}: not every gap was filled"


# --- charts -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", IDS)
def test_charts_match_pandas(corpus: dict[str, Ingested | Exception], name: str) -> None:
    got = _get(corpus, name)
    for spec, expected_of in got.spec.charts:
        data = aggregate(got.result.parquet_path, spec)
        expected = expected_of(got.expected)
        if spec.bucket:
            shown = list(data.frame.sort_values("x")["value"])
            assert shown == pytest.approx(list(expected)), spec
            continue
        shown_by = data.frame.set_index("x")["value"].to_dict()
        want = {str(k): float(v) for k, v in expected.to_dict().items()
                if not (isinstance(v, float) and math.isnan(v))}
        assert {str(k): float(v) for k, v in shown_by.items()} == pytest.approx(want), spec


def test_mean_body_mass_by_sex_is_side_by_side_never_stacked(
        corpus: dict[str, Ingested | Exception]) -> None:
    got = _get(corpus, "penguins.csv")
    spec = ChartSpec(x="species", y="body_mass_g", color="sex", agg="mean")
    data = aggregate(got.result.parquet_path, spec)
    expected = got.expected.groupby(["species", "sex"])["body_mass_g"].mean()
    shown = data.frame.set_index(["x", "color"])["value"]
    for (species, sex), value in expected.items():
        assert shown[(species, sex)] == pytest.approx(value)
    figure = build_figure(data, spec)
    assert figure.layout.barmode != "stack", "means added on top of each other"
    tallest = float(got.expected["body_mass_g"].max())
    assert "14," not in summarize(data, spec)
    assert max(float(v) for v in data.frame["value"]) <= tallest


def test_first_chart_of_the_flights_never_measures_the_row_numbers(
        corpus: dict[str, Ingested | Exception]) -> None:
    got = _get(corpus, "flights_3000.csv")
    fields = suggest_fields("bar", column_kinds(got.result.parquet_path))
    assert "rownames" not in (fields["x"], fields["y"])
