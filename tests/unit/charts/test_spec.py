"""Which fields each chart type needs: one table in services.charts.spec, read by the menus."""

import pytest

from services.charts.spec import (
    CHART_TYPES,
    SLOTS,
    ChartSpec,
    allowed_columns,
    required_slots,
    uses_agg,
    uses_slot,
    validate_spec,
    value_slot,
)
from services.errors import InvalidInput
from tests.unit.one_home import files_matching

COLUMNS = {"n": "number", "m": "number", "t": "text", "u": "text", "d": "date",
           "b": "boolean"}
FULL = {"x": "n", "y": "m", "color": "t", "facet": "u"}


@pytest.mark.parametrize(("chart_type", "agg", "needed"), [
    ("bar", "count", ("x",)), ("bar", "mean", ("x", "y")),
    ("grouped_bar", "count", ("x", "color")), ("stacked_bar", "sum", ("x", "y", "color")),
    ("line", "count", ("x",)), ("area", "sum", ("x", "y")),
    ("scatter", "count", ("x", "y")), ("histogram", "count", ("x",)),
    ("box", "count", ("y",)), ("heatmap", "count", ("x", "y")),
    ("heatmap", "mean", ("x", "y", "color")), ("correlation", "count", ()),
])
def test_the_fields_each_chart_type_needs(chart_type: str, agg: str,
                                          needed: tuple[str, ...]) -> None:
    assert required_slots(chart_type, agg) == needed
    assert all(uses_slot(chart_type, slot, agg) for slot in needed)


def test_what_a_chart_type_summarises_and_where() -> None:
    assert [t for t in CHART_TYPES if uses_agg(t)] == [
        "bar", "grouped_bar", "stacked_bar", "line", "area", "heatmap"]
    assert value_slot("heatmap") == "color" and value_slot("bar") == "y"
    assert not uses_slot("box", "color") and not uses_slot("heatmap", "facet")
    assert not any(uses_slot("correlation", slot) for slot in SLOTS)
    assert allowed_columns("histogram", "x", COLUMNS) == ["n", "m"]


@pytest.mark.parametrize("chart_type", [t for t in CHART_TYPES if t != "correlation"])
@pytest.mark.parametrize("agg", ["count", "max"])
def test_validation_refuses_exactly_the_missing_required_fields(chart_type: str,
                                                                agg: str) -> None:
    """Each required field, when left empty, is refused with a sentence; an optional one
    left empty never is — the menus mark fields required from the same table."""
    kinds = {"x": "n", "y": "m", "color": "t", "facet": "u"}
    if chart_type in ("bar", "grouped_bar", "stacked_bar", "box"):
        kinds["x"] = "t"
    if chart_type == "heatmap":
        kinds["color"] = "n" if agg != "count" else "t"
    if chart_type in ("grouped_bar", "stacked_bar"):
        kinds["color"] = "u"
        kinds["facet"] = "b"
    used = {slot: name for slot, name in kinds.items() if uses_slot(chart_type, slot, agg)}
    agg_used = agg if uses_agg(chart_type) else "count"
    validate_spec(ChartSpec(chart_type=chart_type, agg=agg_used, **used), COLUMNS)
    for slot in used:
        emptied = {s: n for s, n in used.items() if s != slot}
        spec = ChartSpec(chart_type=chart_type, agg=agg_used, **emptied)
        if slot in required_slots(chart_type, agg_used):
            with pytest.raises(InvalidInput):
                validate_spec(spec, COLUMNS)
        else:
            validate_spec(spec, COLUMNS)


def test_the_menus_keep_no_copy_of_the_table() -> None:
    assert files_matching(r"_EVERY_KIND") == []
    assert files_matching(r"\(\"scatter\", \"box\", \"heatmap\"\)") == [
        "services/charts/spec.py"]
    assert files_matching(r"def (uses_slot|uses_agg|value_slot|required_slots)\(") == [
        "services/charts/spec.py"]


def test_each_axis_log_switch_travels_in_the_link() -> None:
    from services.charts.spec import (
        can_log_x,
        spec_from_query_params,
        spec_to_query_params,
        y_axis_name,
    )

    spec = ChartSpec(chart_type="scatter", x="gdp", y="life", log_x=True)
    params = spec_to_query_params(spec)
    assert params["logx"] == "1" and "log" not in params
    assert spec_from_query_params(params) == spec
    assert can_log_x("scatter", "number") and not can_log_x("bar", "number")
    assert not can_log_x("line", "date")
    assert y_axis_name(spec) == "life"
    assert y_axis_name(ChartSpec(chart_type="bar", x="continent")) == "Count of rows"
