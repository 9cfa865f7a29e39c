"""Cached reads for the Explore page, keyed by small values (never by a DataFrame).

Dataset versions are immutable files, so (dataset id, version, spec JSON) identifies a result
for good; the Parquet path travels as a string only so the cached function can open the file.
A live table changes under us: its reads (through services.charts.where) are kept a minute,
keyed by dataset id, what was asked and a per-dataset generation that "Read again" bumps,
and each remembers when it was read so the page can say how fresh its numbers are.
"""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from services.charts import aggregate as analytics
from services.charts import stat_sample, stat_views, where
from services.charts.aggregate import ChartData
from services.charts.spec import ChartSpec, Filter
from services.charts.stat_sample import SampleFile
from services.charts.where import Place
from services.data.column_roles import ColumnStats
from services.data.live_datasets import LiveTarget
from services.store.models import utcnow

LIVE_TTL_S = 60  # a live table's numbers are at most this old unless "Read again" is pressed
READ_AT = "explore_live_read_at"  # session key: the oldest live read shown on this run


# --- live tables: kept a minute, per dataset generation --------------------------------------

def _spec(arg: str) -> ChartSpec:
    return ChartSpec.model_validate_json(arg)


_LIVE: dict[str, Callable[[LiveTarget, str], Any]] = {
    "chart": lambda t, a: where.chart_at(t, _spec(a)),
    "count": lambda t, a: where.count_at(t, _spec(a).filters),
    "kinds": lambda t, a: where.kinds_at(t),
    "stats": lambda t, a: where.stats_at(t),
    "range": lambda t, a: where.range_at(t, a),
    "common": lambda t, a: where.common_values_at(t, a),
    "sample": lambda t, a: stat_sample.sample_file(t, int(a)),
}


@st.cache_resource(show_spinner=False)
def _generations() -> dict[int, int]:
    """Dataset id → how many times someone pressed "Read again" (shared by all sessions:
    the table is the same for everyone who may see it)."""
    return {}


def read_again(dataset_id: int) -> None:
    """Forget this dataset's kept reads: the next ones go to the database."""
    generations = _generations()
    generations[dataset_id] = generations.get(dataset_id, 0) + 1


@st.cache_data(ttl=LIVE_TTL_S, max_entries=256, show_spinner=False)
def _live_read(dataset_id: int, generation: int, table: str, what: str, arg: str,
               _target: LiveTarget) -> tuple[Any, datetime]:
    # `_target` is not part of the key (underscore): the caller checked access already
    return _LIVE[what](_target, arg), utcnow()


def _table_key(target: LiveTarget) -> str:
    """Which table, exactly: a dataset moved to another source or table is read afresh."""
    source = target.source
    return (f"{source.id}|{source.updated_at.isoformat()}|{source.url}|"
            f"{target.schema_name}.{target.table_name}")


def _live(target: LiveTarget, what: str, arg: str = "") -> Any:  # noqa: ANN401 - per `what`
    value, read_at = _live_read(target.dataset_id, _generations().get(target.dataset_id, 0),
                                _table_key(target), what, arg, target)
    shown = st.session_state.get(READ_AT)
    if shown is None or read_at < shown:
        st.session_state[READ_AT] = read_at
    return value


def start_run() -> None:
    """Call at the top of the page: the read time shown is that of this run's reads."""
    st.session_state.pop(READ_AT, None)


def read_at() -> datetime | None:
    """When the oldest live number on the page was read (None: nothing live was read)."""
    return st.session_state.get(READ_AT)


def statistics_sample(target: LiveTarget) -> SampleFile:
    """One random sample of the live table, drawn once a minute for all the figures."""
    return _live(target, "sample", str(stat_sample.SAMPLE_ROWS))


# --- dataset versions: files that never change ----------------------------------------------


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


def get(dataset_id: int, version: int, spec: ChartSpec, place: Place) -> ChartData:
    if isinstance(place, LiveTarget):
        return _live(place, "chart", spec.model_dump_json())
    return chart_data(dataset_id, version, spec.model_dump_json(), str(place))


def get_pivot(dataset_id: int, version: int, spec: ChartSpec, place: Place) -> pd.DataFrame:
    if isinstance(place, LiveTarget):  # from the kept chart: no second read of the table
        return analytics.pivot_of(get(dataset_id, version, spec, place), spec)
    return pivot(dataset_id, version, spec.model_dump_json(), str(place))


def count(dataset_id: int, version: int, filters: list[Filter], place: Place) -> int:
    filters_json = ChartSpec(filters=filters).model_dump_json()
    if isinstance(place, LiveTarget):
        return _live(place, "count", filters_json)
    return row_count(dataset_id, version, filters_json, str(place))


def column_kinds(dataset_id: int, version: int, place: Place) -> dict[str, str]:
    if isinstance(place, LiveTarget):
        return _live(place, "kinds")
    return kinds(dataset_id, version, str(place))


def first_rows_stats(dataset_id: int, version: int, place: Place) -> dict[str, ColumnStats]:
    if isinstance(place, LiveTarget):
        return _live(place, "stats")
    return column_stats(dataset_id, version, str(place))


# --- values offered by the filter controls -------------------------------------------------

@st.cache_data(max_entries=64, show_spinner=False)
def _common_values(dataset_id: int, version: int, column: str, parquet_path: str) -> list:
    return analytics.common_values(Path(parquet_path), column)


def category_values(dataset_id: int, version: int, column: str, place: Place) -> list:
    """The most common values of a column (at most 200), for the "is one of" filter."""
    if isinstance(place, LiveTarget):
        return _live(place, "common", column)
    return _common_values(dataset_id, version, column, str(place))


@st.cache_data(max_entries=64, show_spinner=False)
def _column_range(dataset_id: int, version: int, column: str, parquet_path: str,
                  ) -> tuple | None:
    return analytics.column_range(Path(parquet_path), column)


def _bounds(dataset_id: int, version: int, column: str, place: Place) -> tuple | None:
    if isinstance(place, LiveTarget):
        return _live(place, "range", column)
    return _column_range(dataset_id, version, column, str(place))


def number_range(dataset_id: int, version: int, column: str, place: Place,
                 ) -> tuple[float, float] | None:
    bounds = _bounds(dataset_id, version, column, place)
    return (float(bounds[0]), float(bounds[1])) if bounds is not None else None


def date_range(dataset_id: int, version: int, column: str, place: Place,
               ) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    bounds = _bounds(dataset_id, version, column, place)
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
