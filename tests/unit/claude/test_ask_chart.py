"""Charts of Ask results: every chart type builds, with Okabe-Ito colours and a summary."""

import pandas as pd
import pytest

from services.charts.ask_chart import build_chart
from services.charts.palette import SERIES_COLORS, SINGLE_COLOR
from services.charts.spec import CHART_TYPES, ChartSpec

FRAME = pd.DataFrame({
    "region": ["North", "South", "East", "North"], "product": ["a", "b", "a", "b"],
    "revenue": [1.0, 2.0, 3.0, 4.0], "units": [3, 1, 2, 5],
    "day": pd.to_datetime(["2024-01-01", "2024-02-03", "2024-02-05", "2024-03-01"]),
})
SPECS = {
    "bar": ChartSpec(chart_type="bar", x="region", y="revenue", agg="sum"),
    "grouped_bar": ChartSpec(chart_type="grouped_bar", x="region", y="revenue",
                             color="product", agg="sum"),
    "stacked_bar": ChartSpec(chart_type="stacked_bar", x="region", color="product"),
    "line": ChartSpec(chart_type="line", x="day", y="revenue", agg="sum", bucket="month"),
    "area": ChartSpec(chart_type="area", x="day", y="revenue", color="product", agg="mean"),
    "scatter": ChartSpec(chart_type="scatter", x="revenue", y="units", color="region"),
    "histogram": ChartSpec(chart_type="histogram", x="revenue"),
    "box": ChartSpec(chart_type="box", x="region", y="revenue"),
    "heatmap": ChartSpec(chart_type="heatmap", x="region", y="product"),
    "correlation": ChartSpec(chart_type="correlation"),
}


@pytest.mark.parametrize("chart_type", CHART_TYPES)
def test_every_chart_type_builds_with_title_and_summary(chart_type: str) -> None:
    chart = build_chart(FRAME, SPECS[chart_type])
    assert chart.figure.data and chart.title and chart.summary
    assert chart.figure.layout.title.text == chart.title
    assert chart.figure.layout.meta["summary"] == chart.summary


def test_bar_aggregates_and_names_the_extremes() -> None:
    chart = build_chart(FRAME, SPECS["bar"])
    bar = chart.figure.data[0]
    assert dict(zip(bar.x, bar.y, strict=True)) == {"North": 5.0, "South": 2.0, "East": 3.0}
    assert bar.marker.color == SINGLE_COLOR
    assert "North is highest (5)" in chart.summary and "South lowest (2)" in chart.summary
    assert chart.title == "Sum of revenue by region"


def test_groups_differ_by_okabe_ito_colour_and_pattern() -> None:
    chart = build_chart(FRAME, SPECS["stacked_bar"])
    colours = [t.marker.color for t in chart.figure.data]
    patterns = [t.marker.pattern.shape for t in chart.figure.data]
    assert set(colours) <= set(SERIES_COLORS) and len(set(colours)) == 2
    assert len(set(patterns)) == 2


def test_one_value_per_group_is_titled_by_the_column_itself() -> None:
    frame = pd.DataFrame({"Region": ["A", "B"], "Growth (%)": [11.5, 5.8]})
    chart = build_chart(frame, ChartSpec(chart_type="bar", x="Region", y="Growth (%)",
                                         agg="sum"))
    assert chart.title == "Growth (%) by Region"
