"""One read-only query on a live dataset's table, written in DuckDB's SQL.

The queries of the live profile and sample are written once in DuckDB's SQL (as the file
profile's) and rendered in the database's dialect by `services.charts.live.compile_sql`;
values stay bound parameters (`$pN`). Each runs through the source's door (read-only
sessions, statement and connect timeouts) and at most `max_rows` rows come back.
"""

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy.exc import DBAPIError

from services.charts import live
from services.data.live_datasets import LiveTarget
from services.data.sql_names import quote_ident
from services.errors import InvalidInput
from services.settings import get_settings
from services.sources import problems

_LONE_PERCENT = re.compile(r"%(?!\(p\d+\)s)")  # a % of the SQL itself is not a placeholder


def relation(target: LiveTarget) -> str:
    return f"{quote_ident(target.schema_name)}.{quote_ident(target.table_name)}"


def native(target: LiveTarget, sql: str, values: dict[str, Any] | None = None, *,
           max_rows: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and at most `max_rows` rows of SQL already in the database's dialect
    (placeholders `%(name)s`). A refusal or a source that is down is one sentence
    (SourceUnavailable, QueryFailed, QueryTimeout)."""
    engine = target.engine
    try:
        with engine.connect() as connection, connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # dates as in a file
            result = connection.execution_options(
                stream_results=True, max_row_buffer=min(max_rows + 1, 1000)
            ).exec_driver_sql(sql, values or {})
            names = list(result.keys())
            rows = [tuple(r) for r in result.fetchmany(max_rows)]
            result.close()
    except DBAPIError as error:
        raise problems.translate(error, engine.url,
                                 timeout_s=get_settings().source_statement_timeout_s) from None
    return names, rows


def run(target: LiveTarget, duck_sql: str, values: dict[str, Any] | None = None, *,
        max_rows: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """`native` for a query written in DuckDB's SQL with `$pN` values."""
    dialect = live.DIALECTS.get(target.engine.dialect.name)
    if dialect is None:
        raise InvalidInput("Live datasets work with PostgreSQL databases for now.")
    sql = _LONE_PERCENT.sub("%%", live.compile_sql(duck_sql, dialect))
    used = {k: v for k, v in (values or {}).items() if f"%({k})s" in sql}
    return native(target, sql, used, max_rows=max_rows)


def one_row(target: LiveTarget, duck_sql: str, values: dict[str, Any] | None = None,
            ) -> tuple[Any, ...]:
    """The single row of an aggregate query."""
    _, rows = run(target, duck_sql, values, max_rows=1)
    return rows[0]


_PLAIN = (str, int, float, bool, date, datetime, time, timedelta)


def plain_frame(names: list[str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows as a frame with a file's column types: exact numbers (NUMERIC) as floats, and
    values a file has no type for (JSON, arrays, UUIDs, ranges) as their text."""
    frame = pd.DataFrame.from_records(rows, columns=names)
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype != object:
            continue
        if column.map(lambda v: isinstance(v, Decimal)).any():
            frame.isetitem(position, pd.to_numeric(column.map(
                lambda v: float(v) if isinstance(v, Decimal) else v), errors="coerce").to_numpy())
        elif column.map(lambda v: v is not None and not isinstance(v, _PLAIN)).any():
            frame.isetitem(position, column.map(lambda v: v if v is None else str(v)).to_numpy())
    return frame
