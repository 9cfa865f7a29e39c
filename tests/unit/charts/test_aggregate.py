"""A column's smallest and largest value, and its most common values: one service call each
(aggregate.column_range, aggregate.common_values), never a pretend chart."""

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from services.charts.aggregate import column_range, common_values
from services.errors import InvalidInput
from tests.unit.one_home import files_matching


def _write(path: Path, frame: pd.DataFrame) -> Path:
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    return path


@pytest.fixture(scope="module")
def measures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = pd.DataFrame({
        "price": [3.5, np.nan, -2.25, np.inf, 99.95, None],
        "count": pd.array([4, 1, None, 7, 2, 3], dtype="Int64"),
        "day": pd.to_datetime(["2024-03-01", "2023-12-31", None, "2024-07-04", "2024-01-01",
                               "2024-02-29"]),
        "region": ["N", "S", "E", "W", "N", "S"],
        "empty": [np.nan] * 6,
    })
    return _write(tmp_path_factory.mktemp("range") / "measures.parquet", frame)


def test_numbers_and_dates_give_their_smallest_and_largest_value(measures: Path) -> None:
    assert column_range(measures, "price") == (-2.25, 99.95)  # infinity and NaN left out
    assert column_range(measures, "count") == (1.0, 7.0)
    assert column_range(measures, "day") == (pd.Timestamp("2023-12-31"),
                                             pd.Timestamp("2024-07-04"))
    assert column_range(measures, "empty") is None


def test_text_and_unknown_columns_are_refused_with_a_sentence(measures: Path) -> None:
    with pytest.raises(InvalidInput, match="filter it by its values instead"):
        column_range(measures, "region")
    with pytest.raises(InvalidInput, match="not in this dataset"):
        column_range(measures, "gone")


def test_the_most_common_values_of_a_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"group": ["Other", "b", "a", "b", None, "Other", "b"],
                          "flag": [True, False, True, True, None, True, False]})
    path = _write(tmp_path / "groups.parquet", frame)
    assert common_values(path, "group") == ["b", "Other", "a"]  # a real "Other" is a value
    assert common_values(path, "group", limit=1) == ["b"]
    assert common_values(path, "flag") == [True, False]
    with pytest.raises(InvalidInput, match="not in this dataset"):
        common_values(path, "gone")


def test_no_range_is_read_by_drawing_a_pretend_chart() -> None:
    assert files_matching(r"ChartSpec\(chart_type=\"(box|bar)\", (x|y)=column") == []
    assert files_matching(r"agg=\"min\", bucket=") == []
    assert files_matching(r"def column_range\(") == ["services/charts/aggregate.py"]
