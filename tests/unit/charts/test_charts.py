"""ChartSpec: strict model, validation messages, menus, defaults and URL round trips."""

import pytest
from pydantic import ValidationError

from services.charts.spec import (
    CHART_TYPES,
    ChartSpec,
    Filter,
    allowed_columns,
    spec_from_query_params,
    spec_to_query_params,
    suggest_fields,
    validate_spec,
)
from services.errors import InvalidInput

COLUMNS = {"Date": "date", "Region": "text", "Product": "text", "Price": "number",
           "Quantity": "number", "Is member": "boolean", "Amount (text)": "text"}


def _invalid(spec: ChartSpec, columns: dict[str, str] = COLUMNS) -> str:
    with pytest.raises(InvalidInput) as caught:
        validate_spec(spec, columns)
    return str(caught.value)


def test_a_sensible_spec_is_returned_unchanged() -> None:
    spec = ChartSpec(chart_type="bar", x="Region", y="Price", agg="mean",
                     filters=[Filter(column="Date", op="between",
                                     value=["2024-01-01", "2024-12-31"])])
    assert validate_spec(spec, COLUMNS) is spec


def test_unknown_column_says_it_may_have_been_renamed() -> None:
    message = _invalid(ChartSpec(chart_type="bar", x="Cost"))
    assert "“Cost” is not in this dataset" in message and "renamed or removed" in message


def test_unknown_filter_column_is_caught_too() -> None:
    spec = ChartSpec(chart_type="bar", x="Region", filters=[Filter(column="Gone", op="eq",
                                                                   value="x")])
    assert "“Gone”" in _invalid(spec)


def test_line_needs_date_or_number_on_x() -> None:
    message = _invalid(ChartSpec(chart_type="line", x="Region", y="Price", agg="mean"))
    assert "date or a number on the x axis" in message or "date or number" in message


def test_mean_of_text_suggests_the_numbers_stored_as_text_fix() -> None:
    message = _invalid(ChartSpec(chart_type="bar", x="Region", y="Amount (text)", agg="mean"))
    assert "not a number" in message and "numbers stored as text" in message


def test_mean_without_a_column_asks_for_one() -> None:
    assert "take the mean of" in _invalid(ChartSpec(chart_type="bar", x="Region", agg="mean"))


def test_grouped_bar_needs_a_colour_column() -> None:
    assert "Colour" in _invalid(ChartSpec(chart_type="grouped_bar", x="Region"))


def test_time_grouping_needs_a_date() -> None:
    assert "Time grouping" in _invalid(ChartSpec(chart_type="bar", x="Region", bucket="month"))


def test_range_filter_on_text_is_refused() -> None:
    spec = ChartSpec(chart_type="bar", x="Region",
                     filters=[Filter(column="Product", op="between", value=["a", "b"])])
    assert "range filter" in _invalid(spec)


def test_scatter_needs_both_axes_and_numbers() -> None:
    assert "both the x and the y axis" in _invalid(ChartSpec(chart_type="scatter", x="Price"))
    assert "not a number" in _invalid(ChartSpec(chart_type="scatter", x="Price", y="Region"))


def test_box_plot_does_not_use_colour() -> None:
    assert "does not use" in _invalid(ChartSpec(chart_type="box", y="Price", color="Region"))


def test_correlation_needs_two_number_columns() -> None:
    assert "two number columns" in _invalid(ChartSpec(chart_type="correlation"),
                                            {"Region": "text", "Price": "number"})


def test_dataset_without_columns() -> None:
    assert "no columns" in _invalid(ChartSpec(chart_type="bar", x="Region"), {})


def test_spec_is_strict() -> None:
    with pytest.raises(ValidationError):
        ChartSpec.model_validate({"chart_type": "bar", "colour": "Region"})
    with pytest.raises(ValidationError):
        ChartSpec(chart_type="pie")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ChartSpec(top_n=0)


def test_spec_round_trips_through_json() -> None:
    spec = ChartSpec(chart_type="stacked_bar", x="Date", color="Region", bucket="quarter",
                     filters=[Filter(column="Region", op="in", value=["North", None])],
                     top_n=5, sort="desc", log_y=True)
    assert ChartSpec.model_validate_json(spec.model_dump_json()) == spec


def test_query_params_round_trip_with_awkward_values() -> None:
    spec = ChartSpec(chart_type="line", x="Date", y="Price", agg="median", color="Region",
                     facet="Is member", bucket="week", top_n=12, sort="x", log_y=True,
                     filters=[Filter(column="Product", op="contains", value='50% "off" & é'),
                              Filter(column="Price", op="between", value=[1.5, None])])
    params = spec_to_query_params(spec)
    assert all(isinstance(v, str) for v in params.values())
    assert spec_from_query_params({**params, "dataset": "7", "version": "2"}) == spec


def test_default_spec_makes_short_params() -> None:
    assert spec_to_query_params(ChartSpec(x="Region")) == {"chart": "bar", "agg": "count",
                                                           "x": "Region"}


@pytest.mark.parametrize("params", [{"chart": "pie"}, {"top": "many"}, {"filters": "{"},
                                    {"filters": '[{"column": "A", "op": "like"}]'}])
def test_broken_links_say_so(params: dict[str, str]) -> None:
    with pytest.raises(InvalidInput, match="reset the chart"):
        spec_from_query_params(params)


@pytest.mark.parametrize("chart_type", CHART_TYPES)
def test_suggested_fields_always_validate(chart_type: str) -> None:
    fields = suggest_fields(chart_type, COLUMNS)
    spec = ChartSpec(chart_type=chart_type, **fields)  # type: ignore[arg-type]
    assert validate_spec(spec, COLUMNS) == spec
    if chart_type not in ("correlation",):
        assert spec.x is not None or spec.y is not None


def test_suggestions_for_a_text_only_dataset_count_rows() -> None:
    fields = suggest_fields("bar", {"Name": "text"})
    assert fields["x"] == "Name" and fields["agg"] == "count"


def test_menus_offer_only_sensible_columns() -> None:
    assert allowed_columns("line", "x", COLUMNS) == ["Date", "Price", "Quantity"]
    assert allowed_columns("box", "y", COLUMNS) == ["Price", "Quantity"]
    assert allowed_columns("bar", "y", COLUMNS, agg="mean") == ["Price", "Quantity"]
    assert "Region" in allowed_columns("bar", "y", COLUMNS, agg="distinct")
    assert allowed_columns("histogram", "y", COLUMNS) == []
    assert allowed_columns("correlation", "x", COLUMNS) == []
    assert allowed_columns("stacked_bar", "color", COLUMNS) == ["Region", "Product",
                                                                "Is member", "Amount (text)"]
