"""Cached reads for the Explore page, keyed by small values (never by a DataFrame).

Dataset versions are immutable files, so (dataset id, version, spec JSON) identifies a result;
the Parquet path travels as a string only so the cached function can open the file.
"""

from pathlib import Path

import pandas as pd
import streamlit as st

from services.charts import aggregate as analytics
from services.charts import stat_views
from services.charts.aggregate import ChartData
from services.charts.spec import ChartSpec, Filter
from services.data.column_roles import ColumnStats


@st.cache_data(max_entries=64, show_spinner=False)
def chart_data(dataset_id: int, version: int, spec_json: str, parquet_path: str) -> ChartData:
    return analytics.aggregate(Path(parquet_path), ChartSpec.model_validate_json(spec_json))


@st.cache_data(max_entries=32, show_spinner=False)
def pivot(dataset_id: int, version: int, spec_json: str, parquet_path: str) -> pd.DataFrame:
    return analytics.pivot_table(Path(parquet_path), ChartSpec.model_validate_json(spec_json))


@st.cache_data(max_entries=64, show_spinner=False)
def row_count(dataset_id: int, version: int, filters_json: str, parquet_path: str) -> int:
    filters = ChartSpec.model_validate_json(filters_json).filters
    return analytics.count_rows(Path(parquet_path), filters)


@st.cache_data(max_entries=32, show_spinner=False)
def kinds(dataset_id: int, version: int, parquet_path: str) -> dict[str, str]:
    return analytics.column_kinds(Path(parquet_path))


@st.cache_data(max_entries=32, show_spinner=False)
def column_stats(dataset_id: int, version: int, parquet_path: str) -> dict[str, ColumnStats]:
    """What the first rows say about each column, so the first chart skips ID columns."""
    return analytics.column_stats(Path(parquet_path))


def get(dataset_id: int, version: int, spec: ChartSpec, parquet_path: Path) -> ChartData:
    return chart_data(dataset_id, version, spec.model_dump_json(), str(parquet_path))


def get_pivot(dataset_id: int, version: int, spec: ChartSpec, parquet_path: Path) -> pd.DataFrame:
    return pivot(dataset_id, version, spec.model_dump_json(), str(parquet_path))


def count(dataset_id: int, version: int, filters: list[Filter], parquet_path: Path) -> int:
    return row_count(dataset_id, version, ChartSpec(filters=filters).model_dump_json(),
                     str(parquet_path))


# --- values offered by the filter controls -------------------------------------------------

def category_values(dataset_id: int, version: int, column: str, parquet_path: Path) -> list:
    """The most common values of a column (at most 200), for the "is one of" filter."""
    spec = ChartSpec(chart_type="bar", x=column, agg="count", top_n=200, sort="desc")
    frame = get(dataset_id, version, spec, parquet_path).frame
    values = frame["x"][~frame["x"].isin([analytics.OTHER, analytics.MISSING])]
    return values.dropna().tolist()


def number_range(dataset_id: int, version: int, column: str, parquet_path: Path,
                 ) -> tuple[float, float] | None:
    spec = ChartSpec(chart_type="box", y=column)
    frame = get(dataset_id, version, spec, parquet_path).frame
    if frame.empty:
        return None
    return float(frame["min"].min()), float(frame["max"].max())


def date_range(dataset_id: int, version: int, column: str, parquet_path: Path,
               ) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    lowest = ChartSpec(chart_type="line", x=column, y=column, agg="min", bucket="year")
    highest = lowest.model_copy(update={"agg": "max"})
    low = get(dataset_id, version, lowest, parquet_path).frame
    high = get(dataset_id, version, highest, parquet_path).frame
    if low.empty or high.empty:
        return None
    return pd.Timestamp(low["value"].min()), pd.Timestamp(high["value"].max())


# --- seaborn statistics (PNG bytes) ------------------------------------------------------------

# The filters travel as JSON (a small, hashable cache key) and are checked again on the way in.

def _filters(filters_json: str) -> list[Filter]:
    return ChartSpec.model_validate_json(filters_json).filters


def filters_key(filters: list[Filter]) -> str:
    return ChartSpec(filters=filters).model_dump_json()


@st.cache_data(max_entries=32, show_spinner="Drawing the figure…")
def distribution(dataset_id: int, version: int, column: str, parquet_path: str,
                 filters_json: str) -> bytes:
    return stat_views.distribution_png(Path(parquet_path), column, filters=_filters(filters_json))


@st.cache_data(max_entries=32, show_spinner="Drawing the figure…")
def correlation(dataset_id: int, version: int, columns: tuple[str, ...], parquet_path: str,
                filters_json: str) -> bytes:
    return stat_views.correlation_png(Path(parquet_path), list(columns),
                                      filters=_filters(filters_json))


@st.cache_data(max_entries=16, show_spinner="Drawing the pair plot…")
def pair_plot(dataset_id: int, version: int, columns: tuple[str, ...], parquet_path: str,
              filters_json: str) -> tuple[bytes, int]:
    return stat_views.pairplot_png(Path(parquet_path), list(columns),
                                   filters=_filters(filters_json))


@st.cache_data(max_entries=32, show_spinner="Drawing the figure…")
def regression(dataset_id: int, version: int, x: str, y: str, parquet_path: str,
               filters_json: str) -> bytes:
    return stat_views.regression_png(Path(parquet_path), x, y, filters=_filters(filters_json))
