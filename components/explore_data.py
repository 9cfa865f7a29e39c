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

@st.cache_data(max_entries=64, show_spinner=False)
def _common_values(dataset_id: int, version: int, column: str, parquet_path: str) -> list:
    return analytics.common_values(Path(parquet_path), column)


def category_values(dataset_id: int, version: int, column: str, parquet_path: Path) -> list:
    """The most common values of a column (at most 200), for the "is one of" filter."""
    return _common_values(dataset_id, version, column, str(parquet_path))


@st.cache_data(max_entries=64, show_spinner=False)
def _column_range(dataset_id: int, version: int, column: str, parquet_path: str,
                  ) -> tuple | None:
    return analytics.column_range(Path(parquet_path), column)


def number_range(dataset_id: int, version: int, column: str, parquet_path: Path,
                 ) -> tuple[float, float] | None:
    bounds = _column_range(dataset_id, version, column, str(parquet_path))
    return (float(bounds[0]), float(bounds[1])) if bounds is not None else None


def date_range(dataset_id: int, version: int, column: str, parquet_path: Path,
               ) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    bounds = _column_range(dataset_id, version, column, str(parquet_path))
    return (pd.Timestamp(bounds[0]), pd.Timestamp(bounds[1])) if bounds is not None else None


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
