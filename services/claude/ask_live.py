"""Ask on live datasets: tables read where they live, in their own database.

A question reads either uploaded files (the sandbox) or the tables of ONE data source (one
database engine runs the whole query). Claude writes the same DuckDB-style SQL as for
files; `live_sql.run_live` checks it with the same guard, translates it and runs it
read-only with the sandbox's time, row and size limits. The result comes back with the
column types a sandbox result has, so it is charted by exactly the same rules.
Callers check the person's access first (`ask.require_tables`).
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import pandas as pd
from sqlalchemy.exc import DBAPIError

from services.access.users import UserView
from services.charts import live
from services.data import dataset_checks, live_datasets
from services.data.column_kinds import friendly_type
from services.data.dataset_models import ColumnInfo
from services.data.live_datasets import LiveTarget
from services.data.sql_names import quote_ident
from services.errors import InvalidInput, NotFound, PermissionDenied, QueryFailed, SourceUnavailable
from services.settings import get_settings
from services.sources import problems
from services.untrusted_sql import live_sql
from services.untrusted_sql.sandbox import MAX_RESULT_MB, SandboxResult

MSG_MIXED = ("A question reads either uploaded files or the tables of one database, not both: "
             "to combine them, take a snapshot of the live dataset (it becomes a file) and "
             "ask about the snapshot.")
MSG_TWO_SOURCES = ("A question reads the tables of one database at a time: to combine live "
                   "datasets from two data sources, take a snapshot of each (it becomes a "
                   "file) and ask about the snapshots.")


def one_place(targets: Sequence[LiveTarget | None]) -> LiveTarget | None:
    """Where a question's tables are read: None when all are files, else the (one) live
    source they all come from; a mix is refused in one sentence."""
    lives = [t for t in targets if t is not None]
    if not lives:
        return None
    if len(lives) < len(targets):
        raise InvalidInput(MSG_MIXED)
    if len({t.source.id for t in lives}) > 1:
        raise InvalidInput(MSG_TWO_SOURCES)
    return lives[0]


def require_visible(actor: UserView, targets: Sequence[LiveTarget]) -> None:
    """Each live table is still where a dataset this person may see reads from."""
    for target in targets:
        try:
            current = live_datasets.live_target(actor, target.dataset_id)
        except NotFound as error:
            raise PermissionDenied(dataset_checks.MSG_NOT_VISIBLE) from error
        if current is None or (current.source.id, current.schema_name, current.table_name) \
                != (target.source.id, target.schema_name, target.table_name):
            raise PermissionDenied(dataset_checks.MSG_NOT_VISIBLE)


def read_columns(target: LiveTarget) -> list[ColumnInfo]:
    """A live table's columns with the same friendly types a file's columns have."""
    try:
        columns = live.table_columns(target.engine, target.schema_name, target.table_name)
    except DBAPIError as error:  # refused by the database: one sentence saying why
        raise problems.translate(error, target.engine.url,
                                 timeout_s=get_settings().source_statement_timeout_s) from None
    return [ColumnInfo(name=name, sql_name=name, dtype=friendly_type(column.duck_type),
                       duckdb_type=column.duck_type)
            for name, column in columns.items()]


def sample_rows(target: LiveTarget, sql_name: str, limit: int) -> pd.DataFrame:
    """A few example rows, read as any question is: guarded, read-only and capped."""
    settings = get_settings()
    ran = _run_live(f"SELECT * FROM {quote_ident(sql_name)} LIMIT {int(limit)}",
                    {sql_name: target}, timeout_s=settings.query_timeout_s, max_rows=limit)
    return ran.frame


def run(sql: str, places: Mapping[str, LiveTarget], *, timeout_s: float,
        max_rows: int) -> SandboxResult:
    """Claude's (or the person's) SQL on the live source, as a sandbox-shaped result; the
    datasets are marked read."""
    ran = _run_live(sql, places, timeout_s=timeout_s, max_rows=max_rows)
    for target in places.values():
        live_datasets.mark_read(target.dataset_id)
    return ran


def _run_live(sql: str, places: Mapping[str, LiveTarget], *, timeout_s: float,
              max_rows: int) -> SandboxResult:
    target = one_place(list(places.values()))
    if target is None:
        raise InvalidInput("Choose at least one dataset to ask about.")
    tables = {name: (t.schema_name, t.table_name) for name, t in places.items()}
    try:
        ran = live_sql.run_live(target.engine, sql, tables, timeout_s=timeout_s,
                                max_rows=max_rows, max_bytes=MAX_RESULT_MB << 20)
    except QueryFailed as error:
        if str(error) == live_sql.MSG_UNREACHABLE:  # no other query would fare better
            raise SourceUnavailable(str(error)) from error
        raise
    return SandboxResult(frame=sandbox_types(ran.frame), columns=ran.columns, total_rows=None,
                         truncated=ran.truncated, elapsed_ms=ran.elapsed_ms, sql=ran.sql)


def sandbox_types(frame: pd.DataFrame) -> pd.DataFrame:
    """The column types DuckDB gives for the same values: PostgreSQL's exact numbers (an
    AVG, a SUM of whole numbers) as floats, dates as dates, time stamps in UTC without a
    zone. Without this a number column would read as text and chart as counts."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        present = column.dropna()
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            out[name] = column.dt.tz_convert("UTC").dt.tz_localize(None)
        elif column.dtype != object or present.empty:
            continue
        elif present.map(lambda v: isinstance(v, Decimal | int | float)).all() \
                and present.map(lambda v: isinstance(v, Decimal)).any():
            out[name] = pd.to_numeric(column.map(
                lambda v: float(v) if isinstance(v, Decimal) else v), errors="coerce")
        elif present.map(lambda v: isinstance(v, dt.date)).all():
            out[name] = pd.to_datetime(column, utc=True).dt.tz_localize(None)
    return out
