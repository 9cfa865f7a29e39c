"""One set of chart reads for wherever a dataset's rows are: a version's Parquet file
(DuckDB in this process) or a live table (its own database, services.charts.live).

Explore, the REST API's chart data and the exports call these, so a live dataset charts,
filters and exports through the same rules as a file, and no caller branches on the kind.
"""

from pathlib import Path

import pandas as pd

from services.charts import aggregate, live
from services.charts.aggregate import ChartData
from services.charts.spec import ChartSpec, Filter
from services.data import live_datasets
from services.data.column_roles import ColumnStats
from services.data.live_datasets import LiveTarget

Place = Path | LiveTarget  # a version's Parquet file, or a live table


def chart_at(place: Place, spec: ChartSpec) -> ChartData:
    """The rows one chart needs (≤ MAX_MARKS), computed where the rows are."""
    if isinstance(place, Path):
        return aggregate.aggregate(place, spec)
    data = live.aggregate_table(place.engine, place.schema_name, place.table_name, spec)
    live_datasets.mark_read(place.dataset_id)
    return data


def pivot_at(place: Place, spec: ChartSpec) -> pd.DataFrame:
    """The chart's selection as a table people can download (see `aggregate.pivot_of`)."""
    return aggregate.pivot_of(chart_at(place, spec), spec)


def kinds_at(place: Place) -> dict[str, str]:
    if isinstance(place, Path):
        return aggregate.column_kinds(place)
    return live.table_column_kinds(place.engine, place.schema_name, place.table_name)


def stats_at(place: Place) -> dict[str, ColumnStats]:
    if isinstance(place, Path):
        return aggregate.column_stats(place)
    return live.table_column_stats(place.engine, place.schema_name, place.table_name)


def count_at(place: Place, filters: list[Filter]) -> int:
    if isinstance(place, Path):
        return aggregate.count_rows(place, filters)
    return live.table_count_rows(place.engine, place.schema_name, place.table_name, filters)


def range_at(place: Place, column: str,
             ) -> tuple[float, float] | tuple[pd.Timestamp, pd.Timestamp] | None:
    if isinstance(place, Path):
        return aggregate.column_range(place, column)
    return live.table_column_range(place.engine, place.schema_name, place.table_name, column)


def common_values_at(place: Place, column: str, limit: int = 200) -> list:
    if isinstance(place, Path):
        return aggregate.common_values(place, column, limit)
    return live.table_common_values(place.engine, place.schema_name, place.table_name,
                                    column, limit)


def total_at(place: Place, agg: str, column: str | None, filters: list[Filter]) -> object:
    """One aggregate over every row the filters keep (`aggregate.total`)."""
    if isinstance(place, Path):
        return aggregate.total(place, agg, column, filters)
    value = live.table_total(place.engine, place.schema_name, place.table_name, agg, column,
                             filters)
    live_datasets.mark_read(place.dataset_id)
    return value
