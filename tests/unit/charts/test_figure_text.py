"""Text from data in a chart shows as typed: never a link, image or other markup."""

from pathlib import Path

import pandas as pd

from services.charts.aggregate import aggregate
from services.charts.ask_chart import build_chart
from services.charts.chart_figure import build_figure
from services.charts.spec import ChartSpec
from tests.unit.datasets_fixtures import frame_parquet

LINK = '<a href="http://attacker.example/?d=1">click</a>'


def _drawn_strings(fig) -> str:  # noqa: ANN001 - a plotly Figure
    """Everything Plotly would draw as text, minus our own hover templates and the layout's
    meta (our alt text, which Plotly never draws; pages show it escaped as Markdown)."""
    data = fig.to_plotly_json()
    for trace in data["data"]:
        trace.pop("hovertemplate", None)
    data["layout"].pop("meta", None)
    return str(data)


def test_explore_chart_escapes_a_category_and_a_column_name(tmp_path: Path) -> None:
    frame = pd.DataFrame({LINK: [LINK, "plain", LINK, "plain"], "v": [1.0, 2.0, 3.0, 4.0]})
    path = frame_parquet(tmp_path, frame)
    spec = ChartSpec(chart_type="bar", x=LINK, y="v", agg="sum")
    drawn = _drawn_strings(build_figure(aggregate(path, spec), spec))
    assert "<a" not in drawn and "&lt;a href" in drawn


def test_heatmap_hover_labels_are_escaped(tmp_path: Path) -> None:
    frame = pd.DataFrame({"<b>x</b>": [1, 2, 3, 4], "y": [4, 3, 2, 1]})
    path = frame_parquet(tmp_path, frame)
    spec = ChartSpec(chart_type="heatmap", x="<b>x</b>", y="y")
    fig = build_figure(aggregate(path, spec), spec)
    assert "<b>x</b>" not in fig.to_json()


def test_ask_chart_escapes_result_values() -> None:
    frame = pd.DataFrame({"region": [LINK, "South"], "total": [3.0, 4.0]})
    chart = build_chart(frame, ChartSpec(chart_type="bar", x="region", y="total", agg="sum"))
    drawn = _drawn_strings(chart.figure)
    assert "<a" not in drawn and "&lt;a href" in drawn
