"""build_figure / summarize: labels, palette, shapes, summary text, marks, size."""

from pathlib import Path

import duckdb
import pandas as pd
import plotly.colors
import pytest

from services.charts.aggregate import ChartData, aggregate
from services.charts.chart_figure import build_figure, for_export, format_number, summarize
from services.charts.palette import NEUTRAL_COLOR, SERIES_COLORS, SINGLE_COLOR
from services.charts.spec import CHART_TYPES, ChartSpec, suggest_fields


def _data(frame: pd.DataFrame, labels: dict[str, str], rows_in: int = 100) -> ChartData:
    return ChartData(frame=frame, mark_count=len(frame), rows_in=rows_in, labels=labels)


REGION_MEANS = _data(
    pd.DataFrame({"x": ["North", "South", "East", "West"], "rows": [10, 20, 30, 40],
                  "value": [1234.5, 800.0, 512.25, 310.2]}),
    {"x": "Region", "value": "Mean of Price", "rows": "Rows"})
BAR_SPEC = ChartSpec(x="Region", y="Price", agg="mean")


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("f") / "sales.parquet"
    duckdb.sql(f"""COPY (SELECT DATE '2023-01-01' + CAST(i % 365 AS INTEGER) AS "Date",
        ['North','South','East','West','Central','Coast','Hills','Isles','Lakes'][1 + i % 9]
        AS "Region", ['web','shop'][1 + i % 2] AS "Channel", (i * 37) % 1000 / 7.0 AS "Price",
        i % 13 AS "Quantity" FROM range(20000) t(i)) TO '{path}' (FORMAT parquet)""")
    return path


def test_bar_labels_title_and_summary() -> None:
    fig = build_figure(REGION_MEANS, BAR_SPEC)
    assert fig.layout.title.text == "Mean of Price by Region"
    assert fig.layout.xaxis.title.text == "Region"
    assert fig.layout.yaxis.title.text == "Mean of Price"
    assert fig.layout.yaxis.tickformat == ","  # thousands separators
    assert fig.data[0].marker.color == SINGLE_COLOR
    assert summarize(REGION_MEANS, BAR_SPEC) == (
        "Bar chart of mean of Price by Region: North is highest (1,234.5) and West lowest "
        "(310.2), 4 Region values.")
    assert fig.layout.meta["summary"] == summarize(REGION_MEANS, BAR_SPEC)


def test_custom_title_and_log_scale() -> None:
    spec = BAR_SPEC.model_copy(update={"log_y": True})
    fig = build_figure(REGION_MEANS, spec, title="Prices")
    assert fig.layout.title.text == "Prices" and fig.layout.yaxis.type == "log"


def test_theme_neutral_background_and_export_copy() -> None:
    fig = build_figure(REGION_MEANS, BAR_SPEC)
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)" and fig.layout.font.color is None
    exported = for_export(fig)
    assert exported.layout.paper_bgcolor == "white" and exported.layout.font.color
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"  # original untouched


def test_stacked_bar_uses_okabe_ito_patterns_and_grey_other(sales: Path) -> None:
    spec = ChartSpec(chart_type="stacked_bar", x="Channel", color="Region")
    data = aggregate(sales, spec)
    fig = build_figure(data, spec)
    colours = {trace.name: trace.marker.color for trace in fig.data}
    assert colours["Other"] == NEUTRAL_COLOR
    assert sorted(c for n, c in colours.items() if n != "Other") == sorted(SERIES_COLORS)
    patterns = [trace.marker.pattern.shape for trace in fig.data]
    assert len(set(patterns)) == len(patterns) == 8
    assert fig.layout.barmode == "stack"
    assert sum(len(trace.x) for trace in fig.data) == data.mark_count


def test_line_series_differ_by_dash_and_marker(sales: Path) -> None:
    spec = ChartSpec(chart_type="line", x="Date", y="Price", agg="mean", color="Channel",
                     bucket="month")
    fig = build_figure(aggregate(sales, spec), spec)
    assert [t.line.dash for t in fig.data] == ["solid", "dash"]
    assert len({t.marker.symbol for t in fig.data}) == 2
    assert fig.layout.xaxis.title.text == "Date (month)"


def test_scatter_symbols_and_sample_summary(sales: Path) -> None:
    spec = ChartSpec(chart_type="scatter", x="Price", y="Quantity", color="Channel")
    data = aggregate(sales, spec)
    fig = build_figure(data, spec)
    assert len({t.marker.symbol for t in fig.data}) == 2
    assert sum(len(t.x) for t in fig.data) == data.mark_count == 10_000
    assert summarize(data, spec).startswith(
        "Scatter plot of Quantity against Price for a sample of 10,000 of 20,000 rows")


def test_correlation_heatmap_is_annotated_and_diverging(sales: Path) -> None:
    spec = ChartSpec(chart_type="correlation")
    data = aggregate(sales, spec)
    fig = build_figure(data, spec)
    heatmap = fig.data[0]
    assert heatmap.zmin == -1 and heatmap.zmax == 1 and heatmap.texttemplate
    cividis = plotly.colors.get_colorscale("Cividis")
    assert [step[1] for step in heatmap.colorscale] == [step[1] for step in cividis]
    assert summarize(data, spec).startswith("Correlation matrix of 2 number columns")


@pytest.mark.parametrize("chart_type", CHART_TYPES)
def test_every_chart_type_builds_a_small_figure(sales: Path, chart_type: str) -> None:
    columns = {"Date": "date", "Region": "text", "Channel": "text", "Price": "number",
               "Quantity": "number"}
    spec = ChartSpec(chart_type=chart_type, **suggest_fields(chart_type, columns))  # type: ignore[arg-type]
    data = aggregate(sales, spec)
    fig = build_figure(data, spec)
    assert len(fig.to_json()) <= 1_000_000
    assert fig.layout.title.text
    sentence = summarize(data, spec)
    assert sentence.endswith(".") and sentence.count(". ") == 0


def test_histogram_and_box_summaries(sales: Path) -> None:
    hist = ChartSpec(chart_type="histogram", x="Price")
    sentence = summarize(aggregate(sales, hist), hist)  # no range holds most of the values
    assert "most values" not in sentence
    prices = duckdb.sql(f"SELECT \"Price\" FROM '{sales}'").df()["Price"]
    q1, q3 = prices.quantile(0.25), prices.quantile(0.75)  # the data's quartiles, not edges
    assert f"the middle half of the values lie between {format_number(q1)} and " \
           f"{format_number(q3)}" in sentence
    assert "the most common range is 0 to 3.57 (500 of 20,000 values)" in sentence
    assert "Histogram of Price, 20,000 values in 20,000 rows:" in sentence
    box = ChartSpec(chart_type="box", x="Channel", y="Price")
    data = aggregate(sales, box)
    assert "the median is highest for" in summarize(data, box)
    assert len(build_figure(data, box).data[0].q1) == 2


def test_empty_data_says_so() -> None:
    empty = _data(pd.DataFrame({"x": [], "value": [], "rows": []}), {"x": "Region"}, 0)
    fig = build_figure(empty, BAR_SPEC)
    assert "No rows match" in fig.layout.annotations[0].text
    assert summarize(empty, BAR_SPEC).endswith("no rows match the filters.")


def test_format_number() -> None:
    assert format_number(1234567) == "1,234,567"
    assert format_number(1234.56) == "1,234.6"
    assert format_number(0.47791) == "0.478"
    assert format_number(float("nan")) == "no value"


def test_small_counts_tick_in_whole_steps() -> None:
    counts = _data(pd.DataFrame({"x": ["a", "b", "c"], "rows": [3, 1, 2], "value": [3, 1, 2]}),
                   {"x": "Letter", "value": "Count of rows", "rows": "Rows"})
    assert build_figure(counts, ChartSpec(x="Letter")).layout.yaxis.dtick == 1
    # large counts and fractional values keep plotly's own ticks
    many = _data(pd.DataFrame({"x": ["a", "b"], "rows": [3, 40], "value": [3, 40]}),
                 {"x": "Letter", "value": "Count of rows", "rows": "Rows"})
    assert build_figure(many, ChartSpec(x="Letter")).layout.yaxis.dtick is None
    assert build_figure(REGION_MEANS, BAR_SPEC).layout.yaxis.dtick is None
    halves = _data(pd.DataFrame({"x": ["a", "b"], "rows": [2, 2], "value": [0.5, 1.5]}),
                   {"x": "Letter", "value": "Mean of v", "rows": "Rows"})
    assert build_figure(halves, ChartSpec(x="Letter", y="v", agg="mean")).layout.yaxis.dtick is None
