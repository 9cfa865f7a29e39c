"""Saved insights drawn again from their stored spec and snapshot, for every chart type,
even after their dataset is deleted."""

import math
from pathlib import Path

import pytest

from services.charts.aggregate import aggregate
from services.charts.chart_figure import build_figure
from services.charts.spec import ChartSpec
from services.data import datasets
from services.reports.insight_figure import draw
from services.research import insights, items
from services.research.items import ItemInput
from tests.factories import make_admin, make_user
from tests.unit.reports.conftest import PENGUINS, save_chart

SPECS = [
    ChartSpec(chart_type="bar", x="species", y="body_mass_g", agg="mean"),
    ChartSpec(chart_type="stacked_bar", x="island", color="species"),
    ChartSpec(chart_type="line", x="year", y="flipper_length_mm", agg="median"),
    ChartSpec(chart_type="histogram", x="bill_length_mm"),
    ChartSpec(chart_type="scatter", x="bill_length_mm", y="bill_depth_mm", color="species"),
    ChartSpec(chart_type="box", x="species", y="body_mass_g"),
    ChartSpec(chart_type="heatmap", x="island", y="species"),
    ChartSpec(chart_type="correlation"),
]


def _rounded(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(_rounded(v) for v in value)
    if isinstance(value, float):
        return "nan" if value != value else value
    return str(value)


def _same(a: object, b: object) -> bool:
    """Snapshots keep 10 decimals (JSON), so numbers agree to about 1e-9."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-8, abs_tol=1e-9)
    return a == b


def _traces(figure) -> list[tuple]:  # noqa: ANN001
    out = []
    for trace in figure.data:
        values = [getattr(trace, name, None) for name in ("x", "y", "z", "median")]
        out.append(tuple(None if v is None else _rounded(
            v.tolist() if hasattr(v, "tolist") else list(v)) for v in values))
    return out


@pytest.mark.parametrize("spec", SPECS, ids=[s.chart_type for s in SPECS])
def test_a_saved_chart_is_drawn_again_the_same_even_without_its_dataset(spec: ChartSpec) -> None:
    ana = make_user(make_admin(), "ana")
    dataset, _ = datasets.create_from_upload(ana, PENGUINS, original_name="penguins.csv")
    item = items.create_item(ana, ItemInput(title="Charts"))
    save_chart(ana, item.id, dataset.id, spec, "A chart")
    version = datasets.get_version(ana, dataset.id)
    original = build_figure(aggregate(Path(version.parquet_path), spec), spec, title="A chart")
    datasets.delete_dataset(ana, dataset.id)
    card = insights.list_insights(ana, item.id)[0]
    drawn = draw(card)
    assert card.is_data_gone and "deleted" in drawn.note
    assert drawn.figure is not None, drawn.note
    mine, theirs = _traces(drawn.figure), _traces(original)
    assert _same(tuple(mine), tuple(theirs)), (mine, theirs)
    assert not drawn.table.empty
