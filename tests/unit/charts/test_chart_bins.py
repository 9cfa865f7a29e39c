"""Heatmaps of whole-number columns get whole-number bins; box plots' "Small panels by"
draws panels."""

import re
from pathlib import Path

import duckdb
import pytest

from services.charts.aggregate import aggregate, whole_bin_width
from services.charts.chart_figure import build_figure, summarize
from services.charts.spec import ChartSpec


@pytest.fixture(scope="module")
def trips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bins") / "trips.parquet"
    duckdb.sql(f"""COPY (SELECT CAST(1 + i % 12 AS BIGINT) AS month,
        CAST(i % 24 AS INTEGER) AS hour, CAST(i % 97 AS INTEGER) AS gate,
        CAST(i * 0.37 AS DOUBLE) AS delay, ['EWR','JFK','LGA'][1 + i % 3] AS origin,
        ['a','b','c','d'][1 + (i // 3) % 4] AS carrier
        FROM range(6000) t(i)) TO '{path}' (FORMAT parquet)""")
    return path


@pytest.mark.parametrize(("lo", "hi", "bins", "width"), [
    (1, 12, 40, 1), (0, 23, 40, 1), (0, 39, 40, 1), (0, 40, 40, 2), (0, 96, 40, 3),
    (1990, 2024, 40, 1), (5, 5, 40, 1), (-50, 1000, 40, 27)])
def test_whole_bin_width(lo: int, hi: int, bins: int, width: int) -> None:
    assert whole_bin_width(lo, hi, bins) == width
    assert (hi - lo + 1) / width <= bins


def test_months_and_hours_get_one_cell_per_value(trips: Path) -> None:
    spec = ChartSpec(chart_type="heatmap", x="month", y="hour")
    data = aggregate(trips, spec)
    assert sorted(data.frame["x"].unique()) == list(range(1, 13))
    assert sorted(data.frame["y"].unique()) == list(range(24))
    assert "equal ranges" not in data.note
    heatmap = build_figure(data, spec).data[0]
    assert list(heatmap.x) == [str(m) for m in range(1, 13)]
    assert list(heatmap.y) == [str(h) for h in range(24)]
    assert int(data.frame["value"].sum()) == 6000  # every row counted once


def test_many_whole_numbers_get_whole_number_ranges(trips: Path) -> None:
    spec = ChartSpec(chart_type="heatmap", x="month", y="gate")
    data = aggregate(trips, spec)
    starts = sorted(data.frame["y"].unique())
    assert starts[:3] == [0, 3, 6] and all(float(s).is_integer() for s in starts)
    assert (data.frame["y_to"] - data.frame["y"] == 2).all()
    assert "gate is grouped in steps of 3." in data.note
    heatmap = build_figure(data, spec).data[0]
    assert list(heatmap.y)[:2] == ["0–2", "3–5"]
    assert re.search(r"gate \d+–\d+", summarize(data, spec))  # cells named by their range
    assert "gate (up to)" in data.display_frame().columns


def test_decimal_columns_keep_equal_ranges(trips: Path) -> None:
    data = aggregate(trips, ChartSpec(chart_type="heatmap", x="delay", y="month"))
    assert "equal ranges" in data.note
    assert not data.frame["x"].map(float.is_integer).all()


def test_box_small_panels_are_panels_not_colours(trips: Path) -> None:
    spec = ChartSpec(chart_type="box", x="carrier", y="delay", facet="origin")
    fig = build_figure(aggregate(trips, spec), spec)
    assert len(fig.data) == 3
    assert len({trace.xaxis for trace in fig.data}) == 3  # one panel (x axis) each
    assert {trace.marker.color for trace in fig.data} == {fig.data[0].marker.color}
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["origin: EWR", "origin: JFK", "origin: LGA"]
    assert not any(trace.showlegend for trace in fig.data)


def test_box_without_panels_is_one_figure(trips: Path) -> None:
    spec = ChartSpec(chart_type="box", x="carrier", y="delay")
    fig = build_figure(aggregate(trips, spec), spec)
    assert len(fig.data) == 1 and len(fig.data[0].q1) == 4
