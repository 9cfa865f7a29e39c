"""A chart's one-sentence summary never says something false or empty: one group, ties,
all equal, no values, negative numbers, a histogram whose busiest range is no majority."""

import math

import pandas as pd
import pytest

from services.charts.aggregate import ChartData
from services.charts.ask_chart import build_chart
from services.charts.chart_figure import rank_phrase, summarize
from services.charts.spec import ChartSpec


def _data(frame: pd.DataFrame, labels: dict[str, str], rows_in: int = 100) -> ChartData:
    return ChartData(frame=frame, mark_count=len(frame), rows_in=rows_in, labels=labels)


@pytest.mark.parametrize(("labels", "values", "expected"), [
    ([], [], "no group has a number to show"),
    (["A", "B"], [math.nan, None], "no group has a number to show"),
    (["Biscoe"], [6024.0], "there is only one group, Biscoe (6,024)"),
    (["A", "B", "C"], [5.0, 5.0, 5.0], "all 3 groups are equal (5)"),
    (["A", "B", "C"], [7.0, 7.0, 1.0], "A and B are highest (7); C is lowest (1)"),
    (["A", "B", "C"], [9.0, 1.0, 1.0], "A is highest (9); B and C are lowest (1)"),
    (["A", "B", "C"], [-3.5, -10.0, 2.0], "C is highest (2) and B lowest (-10)"),
    (["A", "B", "C"], [4.0, math.nan, 2.0], "A is highest (4) and C lowest (2)"),
    (list("ABCDEF"), [1.0] * 5 + [0.0], "A, B, C and 2 others are highest (1); F is lowest (0)"),
])
def test_rank_phrase_is_true_for_every_shape(labels: list[str], values: list[float],
                                             expected: str) -> None:
    assert rank_phrase(labels, values) == expected


def test_one_category_is_said_plainly() -> None:
    data = _data(pd.DataFrame({"x": ["Biscoe"], "rows": [44], "value": [6024.0]}),
                 {"x": "island", "value": "Mean of body_mass_g", "rows": "Rows"})
    spec = ChartSpec(x="island", y="body_mass_g", agg="mean")
    sentence = summarize(data, spec)
    assert sentence == ("Bar chart of mean of body_mass_g by island: there is only one group, "
                        "Biscoe (6,024).")
    assert "lowest" not in sentence


def test_ties_and_equal_values_in_explore() -> None:
    spec = ChartSpec(x="day", agg="count")
    equal = _data(pd.DataFrame({"x": ["Sat", "Sun"], "rows": [5, 5], "value": [5, 5]}),
                  {"x": "day", "value": "Count of rows", "rows": "Rows"})
    assert "all 2 groups are equal (5)" in summarize(equal, spec)
    tied = _data(pd.DataFrame({"x": ["Sat", "Sun", "Fri"], "rows": [5, 5, 2],
                               "value": [5, 5, 2]}),
                 {"x": "day", "value": "Count of rows", "rows": "Rows"})
    assert "Sat and Sun are highest (5); Fri is lowest (2)" in summarize(tied, spec)


def test_missing_values_only_say_there_is_no_data() -> None:
    data = _data(pd.DataFrame({"x": ["A", "B"], "rows": [3, 4], "value": [None, None]}),
                 {"x": "g", "value": "Mean of v", "rows": "Rows"})
    sentence = summarize(data, ChartSpec(x="g", y="v", agg="mean"))
    assert "no group has a number to show" in sentence and "highest" not in sentence


def test_histogram_does_not_call_a_small_peak_most_values() -> None:
    frame = pd.DataFrame({"bin_start": [0.0, 1.0, 2.0], "bin_end": [1.0, 2.0, 3.0],
                          "x": [0.5, 1.5, 2.5], "value": [21, 20, 20]})
    data = _data(frame, {"value": "Count of rows"}, rows_in=61)
    sentence = summarize(data, ChartSpec(chart_type="histogram", x="v"))
    assert "most values" not in sentence
    assert "the most common range is 0 to 1 (21 of 61 values)" in sentence
    frame["value"] = [50, 5, 6]
    assert "most values (82%) fall between 0 and 1" in summarize(
        _data(frame, {"value": "Count of rows"}, rows_in=61),
        ChartSpec(chart_type="histogram", x="v"))


def test_box_medians_tied_or_equal() -> None:
    frame = pd.DataFrame({"x": ["a", "b"], "min": [0, 0], "q1": [1, 1], "median": [2.0, 2.0],
                          "q3": [3, 3], "max": [4, 4], "mean": [2, 2], "lower_fence": [0, 0],
                          "upper_fence": [4, 4], "outliers": [0, 0], "rows": [5, 5]})
    sentence = summarize(_data(frame, {"x": "g"}), ChartSpec(chart_type="box", x="g", y="v"))
    assert "the median is the same for all 2 groups (2)" in sentence


def test_heatmap_with_equal_cells_says_so() -> None:
    frame = pd.DataFrame({"x": ["a", "a", "b", "b"], "y": ["c", "d", "c", "d"],
                          "value": [3, 3, 3, 3], "rows": [3, 3, 3, 3]})
    sentence = summarize(_data(frame, {"x": "g", "y": "h", "value": "Count of rows"}),
                         ChartSpec(chart_type="heatmap", x="g", y="h"))
    assert "all 4 cells are equal (3)" in sentence and "highest" not in sentence


def test_ask_summary_of_one_category_and_of_negative_values() -> None:
    one = pd.DataFrame({"island": ["Biscoe"], "avg_body_mass_g": [6024.0]})
    chart = build_chart(one, ChartSpec(x="island", y="avg_body_mass_g", agg="sum"))
    assert "Biscoe is highest" not in chart.summary
    assert "there is only one group, Biscoe (6,024)" in chart.summary
    frame = pd.DataFrame({"city": ["Oslo", "Rome", "Cairo"], "temp": [-4.5, 3.0, 18.25]})
    chart = build_chart(frame, ChartSpec(x="city", y="temp", agg="sum"))
    assert "Cairo is highest (18.2" in chart.summary and "Oslo lowest (-4.5)" in chart.summary


def test_scatter_with_too_few_points_does_not_print_an_empty_correlation() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 3.0]})
    sentence = summarize(_data(frame, {"x": "a", "y": "b"}, rows_in=2),
                         ChartSpec(chart_type="scatter", x="a", y="b"))
    assert "too few different values to measure a relationship" in sentence
    assert "no value" not in sentence
