"""aggregate / pivot_table / count_rows / column_kinds against pandas on small files."""

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from services.charts.aggregate import (
    MAX_MARKS,
    ChartData,
    aggregate,
    column_kinds,
    count_rows,
    pivot_table,
)
from services.charts.spec import ChartSpec, Filter
from services.errors import InvalidInput, NotFound

REGIONS = ["North", "South", "East", "West"]


def _write(path: Path, frame: pd.DataFrame) -> Path:
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    return path


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame({
        "Date": pd.to_datetime("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
        "Region": rng.choice(REGIONS, n),
        "Product": [f"P{i}" for i in rng.integers(0, 40, n)],
        'Chan"nel': rng.choice(["web", "shop", "50%_off"], n),
        "Price": rng.gamma(2.0, 50.0, n).round(2),
        "Quantity": rng.integers(1, 10, n),
    })
    return _write(tmp_path_factory.mktemp("a") / "sales.parquet", frame), frame


def test_column_kinds(sales: tuple[Path, pd.DataFrame]) -> None:
    assert column_kinds(sales[0]) == {"Date": "date", "Region": "text", "Product": "text",
                                      'Chan"nel': "text", "Price": "number",
                                      "Quantity": "number"}


def test_bar_mean_matches_pandas(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(x="Region", y="Price", agg="mean"))
    expected = frame.groupby("Region")["Price"].mean()
    got = data.frame.set_index("x")["value"]
    assert got.to_dict() == pytest.approx(expected.to_dict())
    assert list(got) == sorted(got, reverse=True)  # bars largest first by default
    assert data.rows_in == len(frame) and data.mark_count == 4
    assert data.labels["value"] == "Mean of Price"


@pytest.mark.parametrize("agg,fn", [("sum", "sum"), ("median", "median"), ("min", "min"),
                                    ("max", "max"), ("distinct", "nunique")])
def test_every_aggregation_matches_pandas(sales: tuple[Path, pd.DataFrame], agg: str,
                                          fn: str) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(x="Region", y="Price", agg=agg))  # type: ignore[arg-type]
    expected = frame.groupby("Region")["Price"].agg(fn)
    assert data.frame.set_index("x")["value"].to_dict() == pytest.approx(expected.to_dict())


def test_filters_match_pandas(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    filters = [Filter(column="Price", op="between", value=[20, 150]),
               Filter(column="Region", op="in", value=["North", "East"]),
               Filter(column="Date", op="between", value=["2023-03-01", "2023-09-30"]),
               Filter(column='Chan"nel', op="contains", value="%_O")]
    keep = (frame["Price"].between(20, 150) & frame["Region"].isin(["North", "East"])
            & frame["Date"].between("2023-03-01", "2023-09-30")
            & (frame['Chan"nel'] == "50%_off"))
    assert count_rows(path, filters) == int(keep.sum()) > 0
    data = aggregate(path, ChartSpec(x="Region", filters=filters))
    assert data.rows_in == int(keep.sum())
    assert set(data.frame["x"]) == {"North", "East"}


def test_contains_treats_wildcards_literally(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    assert count_rows(path, [Filter(column='Chan"nel', op="contains", value="_")]) == int(
        (frame['Chan"nel'] == "50%_off").sum())
    assert count_rows(path, [Filter(column="Region", op="contains", value="' OR 1=1 --")]) == 0


def test_eq_filter_and_bad_filter_value(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    assert count_rows(path, [Filter(column="Quantity", op="eq", value=3)]) == int(
        (frame["Quantity"] == 3).sum())
    with pytest.raises(InvalidInput, match="filter value"):
        count_rows(path, [Filter(column="Price", op="between", value=["cheap", None])])


def test_top_n_groups_the_rest_as_other_exactly(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(x="Product", y="Price", agg="mean", top_n=5))
    assert data.mark_count == 6 and data.frame["x"].iloc[-1] == "Other"
    means = frame.groupby("Product")["Price"].mean().sort_values(ascending=False)
    top = list(means.index[:5])
    assert list(data.frame["x"][:5]) == top
    other_mean = frame.loc[~frame["Product"].isin(top), "Price"].mean()
    assert data.frame["value"].iloc[-1] == pytest.approx(other_mean)
    assert data.frame["rows"].sum() == len(frame)
    assert "top 5 of 40" in data.note and "“Other”" in data.note


def test_median_with_top_n_and_colours(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(chart_type="stacked_bar", x="Product", color="Region",
                                     y="Price", agg="median", top_n=3))
    other = data.frame[data.frame["x"] == "Other"].set_index("color")["value"]
    medians = frame.groupby("Product")["Price"].median().sort_values(ascending=False)
    top = set(medians.index[:3])  # top N by the chart's own value
    assert set(data.frame["x"]) - {"Other"} == top
    expected = frame[~frame["Product"].isin(top)].groupby("Region")["Price"].median()
    assert other.to_dict() == pytest.approx(expected.to_dict())


def test_line_by_month(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(chart_type="line", x="Date", y="Quantity", agg="sum",
                                     bucket="month"))
    assert data.mark_count == 12
    assert all(pd.Timestamp(v).day == 1 for v in data.frame["x"])
    assert list(data.frame["x"]) == sorted(data.frame["x"])
    assert data.frame["value"].sum() == frame["Quantity"].sum()


def test_scatter_small_is_complete(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(chart_type="scatter", x="Price", y="Quantity",
                                     color="Region"))
    assert data.mark_count == len(frame) and not data.is_sampled and data.note == ""


def test_histogram_counts_every_row(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(chart_type="histogram", x="Price"))
    assert data.is_binned and data.frame["value"].sum() == len(frame)
    assert data.frame["bin_start"].min() == pytest.approx(frame["Price"].min())
    assert data.frame["bin_end"].max() == pytest.approx(frame["Price"].max())


def test_box_plot_five_numbers_match_numpy(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(chart_type="box", x="Region", y="Price"))
    north = data.frame.set_index("x").loc["North"]
    values = frame.loc[frame["Region"] == "North", "Price"].to_numpy()
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    assert (north["q1"], north["median"], north["q3"]) == pytest.approx((q1, med, q3))
    inside = values[values <= q3 + 1.5 * (q3 - q1)]
    assert north["upper_fence"] == pytest.approx(inside.max())
    assert north["outliers"] == int((values > q3 + 1.5 * (q3 - q1)).sum()
                                    + (values < q1 - 1.5 * (q3 - q1)).sum())


def test_heatmaps_numeric_and_categorical(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    dense = aggregate(path, ChartSpec(chart_type="heatmap", x="Price", y="Quantity"))
    assert dense.is_binned and dense.frame["value"].sum() == len(frame)
    pivot = aggregate(path, ChartSpec(chart_type="heatmap", x="Region", y='Chan"nel',
                                      color="Price", agg="mean"))
    expected = frame.groupby(["Region", 'Chan"nel'])["Price"].mean()
    got = pivot.frame.set_index(["x", "y"])["value"]
    assert got.to_dict() == pytest.approx(expected.to_dict())


def test_correlation_matches_pandas(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    data = aggregate(path, ChartSpec(chart_type="correlation"))
    r = data.frame.set_index(["x", "y"])["value"]
    assert r[("Price", "Quantity")] == pytest.approx(frame["Price"].corr(frame["Quantity"]))
    assert r[("Price", "Price")] == 1.0 and data.mark_count == 4


def test_pivot_table_is_wide_with_display_names(sales: tuple[Path, pd.DataFrame]) -> None:
    path, frame = sales
    table = pivot_table(path, ChartSpec(chart_type="grouped_bar", x="Product",
                                        color="Region", top_n=3))
    assert list(table.columns)[0] == "Product" and set(REGIONS) <= set(table.columns)
    assert table[REGIONS].sum().sum() == len(frame)
    simple = pivot_table(path, ChartSpec(x="Region", y="Price", agg="mean"))
    assert list(simple.columns) == ["Region", "Rows", "Mean of Price"]


def test_no_rows_after_filters(sales: tuple[Path, pd.DataFrame]) -> None:
    data = aggregate(sales[0], ChartSpec(x="Region", filters=[
        Filter(column="Price", op="between", value=[1e9, None])]))
    assert data.mark_count == 0 and data.rows_in == 0 and "No rows match" in data.note


# --- large and awkward inputs ------------------------------------------------------------

@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("b") / "big.parquet"
    duckdb.sql(f"""COPY (SELECT 'id-' || i AS "Customer", (i * 7919) % 1000 / 10.0 AS "X",
                   hash(i) % 1000 AS "Y", DATE '1990-01-01' + CAST(i % 15000 AS INTEGER)
                   AS "Day", ['a','b','c'][1 + i % 3] AS "Group"
                   FROM range(100000) t(i)) TO '{path}' (FORMAT parquet)""")
    return path


def test_100k_categories_are_capped_with_other(big: Path) -> None:
    data = aggregate(big, ChartSpec(x="Customer"))
    assert data.mark_count == 31 and data.frame["x"].iloc[-1] == "Other"
    assert "100,000" in data.note and data.rows_in == 100_000


def test_large_scatter_is_a_repeatable_sample(big: Path) -> None:
    spec = ChartSpec(chart_type="scatter", x="X", y="Y", color="Group")
    first, second = aggregate(big, spec), aggregate(big, spec)
    assert first.mark_count == MAX_MARKS and first.is_sampled
    assert "10,000-row random sample of 100,000" in first.note
    pd.testing.assert_frame_equal(first.frame, second.frame)


def test_dense_dates_fall_back_to_coarser_groups(big: Path) -> None:
    data = aggregate(big, ChartSpec(chart_type="line", x="Day", y="Y", agg="mean"))
    assert data.mark_count <= MAX_MARKS and "grouped by week" in data.note


def test_dense_numbers_are_binned_on_a_line(big: Path) -> None:
    data = aggregate(big, ChartSpec(chart_type="line", x="Y", y="X", agg="mean",
                                    color="Group"))
    assert data.mark_count <= MAX_MARKS


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("c") / "awkward.parquet"
    duckdb.sql(f"""COPY (SELECT * FROM (VALUES
        (NULL::DOUBLE, 'inf'::DOUBLE, DATE '0001-01-01', '1,234', 'a'),
        (NULL, 'nan'::DOUBLE, DATE '9999-12-31', '2,000', 'a'),
        (NULL, 5.0, DATE '2024-05-01', '17', NULL),
        (NULL, 7.0, NULL, NULL, 'b'))
        t("Empty", "Value", "When", "Amount", "Kind")) TO '{path}' (FORMAT parquet)""")
    return path


def test_all_missing_column_gives_an_empty_but_sane_chart(awkward: Path) -> None:
    data = aggregate(awkward, ChartSpec(x="Kind", y="Empty", agg="mean"))
    assert data.rows_in == 4 and data.frame["value"].isna().all()
    hist = aggregate(awkward, ChartSpec(chart_type="histogram", x="Empty"))
    assert hist.mark_count == 0 and "No rows" in hist.note


def test_infinity_and_nan_are_left_out_with_a_note(awkward: Path) -> None:
    data = aggregate(awkward, ChartSpec(x="Kind", y="Value", agg="mean"))
    values = data.frame.set_index("x")["value"]
    assert values["b"] == 7.0 and values["(missing)"] == 5.0 and np.isnan(values["a"])
    assert "Left out 2 infinite or not-a-number values of Value" in data.note
    box = aggregate(awkward, ChartSpec(chart_type="box", y="Value"))
    assert box.frame["median"].iloc[0] == 6.0


def test_dates_far_out_of_range(awkward: Path) -> None:
    data = aggregate(awkward, ChartSpec(chart_type="line", x="When", bucket="year"))
    assert data.mark_count == 3 and data.frame["value"].sum() == 3
    assert pd.Timestamp(data.frame["x"].iloc[0]).year == 1


def test_numbers_stored_as_text_get_a_hint(awkward: Path) -> None:
    with pytest.raises(InvalidInput, match="numbers stored as text"):
        aggregate(awkward, ChartSpec(x="Kind", y="Amount", agg="sum"))


def test_single_row_and_single_column(tmp_path: Path) -> None:
    one = _write(tmp_path / "one.parquet", pd.DataFrame({"Only": [3.5]}))
    assert aggregate(one, ChartSpec(chart_type="histogram", x="Only")).frame["value"].sum() == 1
    assert aggregate(one, ChartSpec(x="Only")).mark_count == 1
    assert aggregate(one, ChartSpec(chart_type="box", y="Only")).frame["median"].iloc[0] == 3.5
    with pytest.raises(InvalidInput, match="two number columns"):
        aggregate(one, ChartSpec(chart_type="correlation"))


def test_display_names_from_parquet_metadata(tmp_path: Path) -> None:
    path = tmp_path / "named.parquet"
    meta = json.dumps([{"name": "Price (€)", "sql_name": "price", "dtype": "number"},
                       {"name": "Region name", "sql_name": "region", "dtype": "text"}])
    duckdb.sql(f"""COPY (SELECT * FROM (VALUES (1.0, 'N'), (3.0, 'N'), (5.0, 'S'))
                   t(price, region)) TO '{path}' (FORMAT parquet,
                   KV_METADATA {{research_desk_columns: '{meta}'}})""")
    assert column_kinds(path) == {"Price (€)": "number", "Region name": "text"}
    data = aggregate(path, ChartSpec(x="Region name", y="Price (€)", agg="mean"))
    assert data.frame.set_index("x")["value"].to_dict() == {"N": 2.0, "S": 5.0}
    assert list(data.display_frame().columns) == ["Region name", "Rows", "Mean of Price (€)"]


def test_missing_file_and_missing_column(tmp_path: Path, sales: tuple[Path, pd.DataFrame]
                                         ) -> None:
    with pytest.raises(NotFound):
        aggregate(tmp_path / "gone.parquet", ChartSpec(x="A"))
    with pytest.raises(InvalidInput, match="renamed or removed"):
        aggregate(sales[0], ChartSpec(x="Gone"))


def test_chart_data_is_a_model(sales: tuple[Path, pd.DataFrame]) -> None:
    data = aggregate(sales[0], ChartSpec(x="Region"))
    assert isinstance(data, ChartData) and not any(str(c).startswith("_") for c in data.frame)
