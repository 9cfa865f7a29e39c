"""Quality findings a person would not question: honest outlier bounds, no fill that invents
most of a column, no "ID" for measures, the same missing share as the Columns tab."""

from pathlib import Path

import numpy as np
import pandas as pd

from components.column_profiles import missing_text
from services.data.dataset_models import FlagMissing, Impute
from services.data.profile import outlier_fences, profile_dataset
from services.data.quality import find_issues
from tests.unit.datasets_fixtures import frame_parquet


def _parquet(tmp_path: Path, frame: pd.DataFrame, name: str = "q.parquet") -> Path:
    return frame_parquet(tmp_path, frame, name)


def _by_kind(findings: list, kind: str) -> list:
    return [f for f in findings if f.kind == kind]


def test_outlier_bounds_never_go_below_a_column_that_is_never_negative(tmp_path: Path) -> None:
    rain = [0.0] * 100 + [1.0, 2.0, 3.0, 4.0, 5.0] * 30 + [40.0, 55.0, 80.0]
    path = _parquet(tmp_path, pd.DataFrame({"rain": rain}))
    profile = profile_dataset(path)
    (column,) = profile.columns
    low, high = outlier_fences(column)
    series = pd.Series(rain)
    q1, q3 = series.quantile(0.25), series.quantile(0.75)
    assert q1 - 1.5 * (q3 - q1) < 0  # the open fence would say "below -1.5"
    assert low == 0.0 and high == q3 + 1.5 * (q3 - q1) == 7.5
    outside = int(((series < low) | (series > high)).sum())
    assert outside == 3 == column.outliers  # clipping changes no count
    (finding,) = _by_kind(find_issues(path, profile), "outliers")
    assert finding.affected_rows == 3
    assert "below" not in finding.message and "-" not in finding.message
    assert "are far above the rest (above 7.5, up to 80)" in finding.message


def test_outliers_on_both_sides_name_both_sides(tmp_path: Path) -> None:
    values = [-500.0] + [float(v) for v in range(100, 140)] + [900.0]
    q1, q3 = pd.Series(values).quantile([0.25, 0.75])
    assert (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)) == (78.5, 160.5)
    (finding,) = _by_kind(find_issues(_parquet(tmp_path, pd.DataFrame({"t": values}))),
                          "outliers")
    assert "far from the rest (below 78.5, down to -500; or above 160.5, up to 900)" \
        in finding.message


def test_large_outlier_values_are_never_in_scientific_notation(tmp_path: Path) -> None:
    values = [float(v) for v in range(-300, -200)] + [-10_980.4]
    (finding,) = _by_kind(find_issues(_parquet(tmp_path, pd.DataFrame({"gdp": values}))),
                          "outliers")
    assert "e+" not in finding.message and "-10,980.4" in finding.message


def test_no_median_fill_for_a_column_that_is_mostly_missing(tmp_path: Path) -> None:
    n = 271
    frame = pd.DataFrame({
        "mostly_gone": [float(i) if i % 5 == 0 else None for i in range(n)],  # 80 % missing
        "some_gone": [float(i) if i % 5 else None for i in range(n)],  # 20 % missing
        "half_gone": [None if i % 2 else float(i) for i in range(n)],  # 135 of 271: 49.8 %
    })
    findings = {f.column: f for f in _by_kind(find_issues(_parquet(tmp_path, frame)),
                                              "missing_values")}
    gone = findings["mostly_gone"]
    assert gone.fix == FlagMissing(column="mostly_gone")
    assert not isinstance(gone.fix, Impute)
    assert "would invent most of the column" in gone.message
    assert gone.message.startswith("216 rows (80%) have no value in “mostly_gone”.")
    assert isinstance(findings["some_gone"].fix, Impute)
    assert isinstance(findings["half_gone"].fix, Impute)  # under half: a fill is fair


def test_unique_measures_and_formatted_numbers_are_not_called_ids(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 60
    population = rng.choice(np.arange(1_000, 50_000_000), n, replace=False)
    frame = pd.DataFrame({
        "row_id": np.arange(1, n + 1),  # a counter: ID
        "population": population,  # unique, but a measure
        "year": np.arange(1960, 1960 + n),  # unique, consecutive, but years
        "Población": [f"{int(p):,}".replace(",", ".") for p in population],  # 8.425.333
        "code": [f"k{i:04d}" for i in range(n)],  # text labels: ID
        "station": np.arange(5001, 5001 + n),  # consecutive whole numbers: ID
        "CustomerID": rng.choice(np.arange(10**6), n, replace=False),  # named like an ID
        "paid": population // 7,  # ends in "id", but a measure
        "number_of_visits": population // 3,  # says "number", but a measure
    })
    findings = find_issues(_parquet(tmp_path, frame))
    ids = {f.column for f in _by_kind(findings, "id_like_column")}
    assert ids == {"row_id", "code", "station", "CustomerID"}
    assert "Población" in {f.column for f in _by_kind(findings, "numbers_stored_as_text")}


def test_missing_share_is_the_same_on_the_columns_and_quality_tabs(tmp_path: Path) -> None:
    n = 1000
    frame = pd.DataFrame({
        "few": [None if i < 4 else float(i) for i in range(n)],  # 0.4 %: "<1%", not "0%"
        "most": [None if i < 996 else float(i) for i in range(n)],  # 99.6 %: ">99%", not 100
        "third": [None if i % 3 == 0 else float(i) for i in range(n)],
    })
    path = _parquet(tmp_path, frame)
    profile = profile_dataset(path)
    findings = {f.column: f for f in _by_kind(find_issues(path, profile), "missing_values")}
    expected = {"few": "<1%", "most": ">99%", "third": "33%"}
    for column in profile.columns:
        shown = missing_text(column)
        assert shown == expected[column.name]
        assert f"({shown})" in findings[column.name].message
