"""Explore's sentences and hovers count rows and values apart (issue 19.3), on real data:
palmerpenguins, 344 penguins of which 2 have no body mass (tests/data/README.md)."""

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.charts.aggregate import aggregate
from services.charts.chart_figure import build_figure, format_number, summarize
from services.charts.spec import ChartSpec

PENGUINS = Path(__file__).parents[2] / "data" / "penguins.csv"


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    frame = pd.read_csv(PENGUINS, na_values=["NA"], keep_default_na=False)
    path = tmp_path_factory.mktemp("penguins") / "penguins.parquet"
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    return path, frame


def test_histogram_sentence_says_values_rows_and_empty_apart(
        penguins: tuple[Path, pd.DataFrame]) -> None:
    path, frame = penguins
    spec = ChartSpec(chart_type="histogram", x="body_mass_g")
    data = aggregate(path, spec)
    sentence = summarize(data, spec)
    mass = frame["body_mass_g"]
    values, empty = int(mass.notna().sum()), int(mass.isna().sum())
    assert (values, empty) == (342, 2)
    assert f"{values:,} values in {len(frame):,} rows; {empty:,} empty:" in sentence
    assert "over 344 rows" not in sentence
    assert f"of {values:,} values)" in sentence  # the busiest range counts values


def test_histogram_quartiles_are_the_datas_not_the_bars_edges(
        penguins: tuple[Path, pd.DataFrame]) -> None:
    path, frame = penguins
    spec = ChartSpec(chart_type="histogram", x="flipper_length_mm")
    data = aggregate(path, spec)
    flippers = frame["flipper_length_mm"]
    q1, q3 = flippers.quantile(0.25), flippers.quantile(0.75)
    assert data.spread is not None
    assert data.spread.q1 == pytest.approx(q1) and data.spread.q3 == pytest.approx(q3)
    sentence = summarize(data, spec)
    assert (f"the middle half of the values lie between {format_number(q1)} and "
            f"{format_number(q3)}, from") in sentence


def test_a_mean_bars_hover_counts_only_the_values_it_used(
        penguins: tuple[Path, pd.DataFrame]) -> None:
    path, frame = penguins
    spec = ChartSpec(chart_type="bar", x="species", y="body_mass_g", agg="mean")
    data = aggregate(path, spec)
    used = frame.groupby("species")["body_mass_g"].count().to_dict()
    rows = frame.groupby("species").size().to_dict()
    assert used != rows  # an Adelie and a Gentoo have no mass
    got = dict(zip(data.frame["x"], data.frame["vals"], strict=True))
    assert got == used
    assert dict(zip(data.frame["x"], data.frame["rows"], strict=True)) == rows
    figure = json.loads(build_figure(data, spec).to_json())
    hover = figure["data"][0]["hovertemplate"]
    assert "body_mass_g values=%{customdata[1]:,}" in hover
    assert list(data.display_frame().columns) == ["species", "Rows", "Mean of body_mass_g"]


def test_a_count_chart_says_its_count_once_in_its_table_and_hover(
        penguins: tuple[Path, pd.DataFrame]) -> None:
    path, frame = penguins
    spec = ChartSpec(chart_type="bar", x="species", agg="count")
    data = aggregate(path, spec)
    table = data.display_frame()
    assert list(table.columns) == ["species", "Count of rows"]  # not "Rows" beside it
    assert dict(zip(table["species"], table["Count of rows"], strict=True)) == \
        frame["species"].value_counts().to_dict()
    hover = json.loads(build_figure(data, spec).to_json())["data"][0]["hovertemplate"]
    assert "Count of rows=" in hover and "Rows=" not in hover
