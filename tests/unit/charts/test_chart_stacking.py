"""Averages are never stacked or summed: one rule (`is_additive` / `as_drawn`) for Explore
and Ask, and Ask's own chart of an already summarised result."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.charts.aggregate import aggregate
from services.charts.ask_chart import build_chart
from services.charts.chart_figure import build_figure, summarize
from services.charts.spec import ChartSpec, as_drawn, is_additive
from services.claude import ask

SIDE_BY_SIDE = "Averages are shown side by side, not stacked, because they do not add up."


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A penguins-like file: body mass around 3,500–5,500 g by island and sex."""
    path = tmp_path_factory.mktemp("p") / "penguins.parquet"
    duckdb.sql(f"""COPY (SELECT CAST(i + 1 AS BIGINT) AS rownames,
        ['Adelie','Gentoo','Chinstrap'][1 + i % 3] AS species,
        ['Biscoe','Dream','Torgersen'][1 + (i // 3) % 3] AS island,
        ['male','female'][1 + i % 2] AS sex,
        3500.0 + (i % 3) * 800 + (i % 2) * 400 AS body_mass_g,
        CAST(2007 + i % 3 AS BIGINT) AS year FROM range(300) t(i))
        TO '{path}' (FORMAT parquet)""")
    return path


@pytest.mark.parametrize(("agg", "column", "expected"), [
    ("count", None, True), ("sum", "body_mass_g", True), ("sum", None, True),
    ("mean", "body_mass_g", False), ("median", "x", False), ("min", "x", False),
    ("max", "x", False), ("distinct", "x", False),
    ("sum", "avg_body_mass_g", False), ("sum", "Mean price", False),
    ("sum", "growth_rate", False), ("sum", "pct_female", False), ("sum", "minutes", True),
    ("count", "avg_x", True),
])
def test_only_counts_and_sums_of_amounts_add_up(agg: str, column: str | None,
                                                expected: bool) -> None:
    assert is_additive(agg, column) is expected


@pytest.mark.parametrize(("chart_type", "drawn"), [
    ("stacked_bar", "grouped_bar"), ("bar", "grouped_bar"), ("area", "line")])
def test_averages_with_colours_are_not_stacked(chart_type: str, drawn: str) -> None:
    spec = ChartSpec(chart_type=chart_type, x="island", y="body_mass_g", color="sex",  # type: ignore[arg-type]
                     agg="mean")
    out, note = as_drawn(spec)
    assert out.chart_type == drawn
    assert note.startswith("Averages are shown") and "do not add up" in note


@pytest.mark.parametrize("spec", [
    ChartSpec(chart_type="stacked_bar", x="island", y="body_mass_g", color="sex", agg="sum"),
    ChartSpec(chart_type="stacked_bar", x="island", color="sex", agg="count"),
    ChartSpec(chart_type="bar", x="island", y="body_mass_g", agg="mean"),  # nothing to stack
    ChartSpec(chart_type="area", x="year", y="body_mass_g", agg="mean"),
    ChartSpec(chart_type="line", x="year", y="body_mass_g", color="sex", agg="mean"),
])
def test_sums_counts_and_single_series_are_left_alone(spec: ChartSpec) -> None:
    assert as_drawn(spec) == (spec, "")


def test_explore_draws_a_stacked_mean_side_by_side_with_a_note(penguins: Path) -> None:
    spec = ChartSpec(chart_type="stacked_bar", x="island", y="body_mass_g", color="sex",
                     agg="mean")
    data = aggregate(penguins, spec)
    fig = build_figure(data, spec)
    assert fig.layout.barmode == "group"
    assert SIDE_BY_SIDE in data.note
    tallest = max(max(t.y) for t in fig.data)
    assert tallest < 6000  # a mean, never two means piled up (the bug reached 14,000 g)
    assert summarize(data, spec).startswith("Grouped bar chart of mean of body_mass_g")


def test_a_plain_bar_with_colours_of_means_is_not_stacked(penguins: Path) -> None:
    spec = ChartSpec(chart_type="bar", x="island", y="body_mass_g", color="sex", agg="mean")
    assert build_figure(aggregate(penguins, spec), spec).layout.barmode == "group"


def test_stacked_sums_still_stack(penguins: Path) -> None:
    spec = ChartSpec(chart_type="stacked_bar", x="island", y="body_mass_g", color="sex",
                     agg="sum")
    data = aggregate(penguins, spec)
    assert build_figure(data, spec).layout.barmode == "stack"
    assert "side by side" not in data.note


def test_an_area_of_medians_by_group_becomes_lines(penguins: Path) -> None:
    spec = ChartSpec(chart_type="area", x="year", y="body_mass_g", color="sex", agg="median")
    data = aggregate(penguins, spec)
    fig = build_figure(data, spec)
    assert all(t.type == "scatter" and not t.stackgroup and not t.fill for t in fig.data)
    assert "Medians are shown as separate lines, not stacked" in data.note


# --- Ask: a result that is already summarised -------------------------------------------

AVERAGED = pd.DataFrame({
    "island": ["Biscoe", "Biscoe", "Dream", "Dream", "Torgersen"],
    "sex": ["male", "female", "male", "female", "male"],
    "avg_body_mass_g": [5104.5, 4319.4, 3987.1, 3446.3, 4034.8],
})


def test_ask_charts_averages_per_group_as_they_are_side_by_side() -> None:
    spec = ask.chart_for_result(AVERAGED)
    assert spec is not None
    assert spec.chart_type == "grouped_bar" and spec.x == "island" and spec.color == "sex"
    chart = build_chart(AVERAGED, spec)
    assert chart.title == "avg_body_mass_g by island and sex"
    assert "Sum of" not in chart.title and "Sum of" not in chart.summary
    heights = sorted(v for trace in chart.figure.data for v in trace.y)
    assert heights == sorted(AVERAGED["avg_body_mass_g"])  # the values, not re-added
    assert chart.figure.layout.barmode == "group"


def test_ask_one_average_per_category_is_charted_as_it_is() -> None:
    frame = pd.DataFrame({"island": ["Biscoe", "Dream", "Torgersen"],
                          "avg_body_mass_g": [4716.0, 3712.9, 3706.4]})
    spec = ask.chart_for_result(frame)
    assert spec is not None and spec.chart_type == "bar"
    chart = build_chart(frame, spec)
    assert chart.title == "avg_body_mass_g by island"
    assert list(chart.figure.data[0].y) == [4716.0, 3712.9, 3706.4]


def test_ask_never_sums_rows_of_averages() -> None:
    frame = pd.DataFrame({"island": ["Biscoe", "Biscoe", "Dream"],
                          "avg_body_mass_g": [5000.0, 4000.0, 3700.0]})
    spec = ask.chart_for_result(frame)
    assert spec is not None and spec.agg == "mean"
    chart = build_chart(frame, spec)
    assert chart.title == "Mean of avg_body_mass_g by island"
    assert dict(zip(chart.figure.data[0].x, chart.figure.data[0].y, strict=True)) == {
        "Biscoe": 4500.0, "Dream": 3700.0}


def test_claudes_stacked_sum_of_averages_is_drawn_side_by_side_with_a_note() -> None:
    spec = ChartSpec(chart_type="stacked_bar", x="island", y="avg_body_mass_g", color="sex",
                     agg="sum")
    chart = build_chart(AVERAGED, spec)
    assert chart.figure.layout.barmode == "group"
    assert "not stacked" in chart.note
