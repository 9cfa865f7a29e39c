"""Snapshots: a copy of a data source's rows kept as a normal dataset (one Parquet version),
so everything works offline and stays as it was when the copy was taken.

Rows are streamed from a server-side cursor in batches into a Parquet file (never the whole
table in memory), through the source's read-only door, at most `source_snapshot_max_rows`
rows and never a file larger than the upload limit; what is cut is said in the version's
note. The file then goes through the same ingest as an upload, so profile, quality and
versions work as for any dataset. A query is checked by the live-SQL guard first.
"""

import json
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg.postgres import types as pg_types
from sqlalchemy import Select, literal_column, select, table
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

from services.access.permissions import require
from services.access.users import UserView
from services.data import datasets, display_text, live_datasets, uploads
from services.data.datasets import DatasetView
from services.errors import InvalidInput
from services.labels import clean_label
from services.settings import get_settings
from services.sources import browse, catalog, door, problems
from services.sources.catalog import SourceView
from services.store.models import utcnow
from services.untrusted_sql import live_sql

BATCH_ROWS = 5_000
FILE_NAME = "snapshot.parquet"
MAX_QUERY_SHOWN = 2_000  # characters of a query kept in its snapshot's description
MSG_EMPTY_QUERY = "Write the query to copy: one SELECT over the source's tables."

# PostgreSQL types kept as Arrow types; every other type is kept as its text.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "int2": pa.int64(), "int4": pa.int64(), "int8": pa.int64(), "oid": pa.int64(),
    "float4": pa.float64(), "float8": pa.float64(), "numeric": pa.float64(),
    "bool": pa.bool_(), "date": pa.date32(), "time": pa.time64("us"),
    "timestamp": pa.timestamp("us"), "timestamptz": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class _Copied:
    rows: int
    cut: str  # "" when every row was copied, else why the copy stopped: "rows" | "bytes"


def snapshot_table(actor: UserView, source_id: int, schema: str, table_name: str,
                   name: str = "") -> DatasetView:
    """A new private dataset holding a copy of `schema.table_name` of the source."""
    _require(actor)
    source = catalog.get_source(actor, source_id)
    if table_name not in {t.name for t in browse.list_tables(source, schema)}:
        raise InvalidInput(f"There is no table or view called “{table_name}” in {schema} that "
                           "this data source may read.")
    return _snapshot(actor, source, _select_all(schema, table_name),
                     name=name or table_name, place=f"{schema}.{table_name} in {source.name}",
                     what="the table")


def snapshot_query(actor: UserView, source_id: int, sql: str, name: str = "") -> DatasetView:
    """A new private dataset holding the answer of a read-only query on the source. The
    query names tables as they are in the source's allowed schemas (the first schema wins
    when two have a table of the same name); it is refused, with nothing made, unless the
    live-SQL guard accepts it."""
    _require(actor)
    if not sql.strip():
        raise InvalidInput(MSG_EMPTY_QUERY)
    source = catalog.get_source(actor, source_id)
    tables: dict[str, tuple[str, str]] = {}
    for schema in source.schemas:
        for info in browse.list_tables(source, schema):
            tables.setdefault(info.name, (schema, info.name))
    checked = live_sql.to_dialect(sql, tables, "postgres")
    return _snapshot(actor, source, checked, name=name or f"Query on {source.name}",
                     place=f"a query on {source.name}", what="the query's answer",
                     query_shown=" ".join(sql.split())[:MAX_QUERY_SHOWN])


def snapshot_live_dataset(actor: UserView, dataset_id: int) -> DatasetView:
    """A new private dataset holding a copy of a live dataset's rows (anyone who may see the
    live dataset and add data may take one, as with an uploaded dataset's download)."""
    require(actor.role, "upload_data")
    live = datasets.get_dataset(actor, dataset_id)
    target = live_datasets.live_target(actor, dataset_id)
    if target is None:
        raise InvalidInput("This dataset is already a copy kept here; only a live dataset can "
                           "be snapshotted.")
    made = _snapshot(actor, target.source, _select_all(target.schema_name, target.table_name),
                     name=f"{live.name} (snapshot)",
                     place=f"{target.schema_name}.{target.table_name} in {target.source.name}",
                     what="the table")
    live_datasets.mark_read(dataset_id)
    return made


def _require(actor: UserView) -> None:
    require(actor.role, "use_sources")
    require(actor.role, "upload_data")


def _select_all(schema: str, table_name: str) -> str:
    """SELECT * of a table the caller checked exists, its names quoted by the dialect."""
    statement: Select = select(literal_column("*")).select_from(table(table_name, schema=schema))
    return str(statement.compile(dialect=postgresql.dialect()))


def _snapshot(actor: UserView, source: SourceView, query: str, *, name: str, place: str,
              what: str, query_shown: str = "") -> DatasetView:
    title = clean_label(name.strip(), what="dataset name", limit=datasets.MAX_NAME)
    settings = get_settings()
    max_rows = settings.source_snapshot_max_rows
    max_bytes = settings.upload_limit_mb * 1024 * 1024
    taken = utcnow()
    folder = uploads.new_upload_folder()
    try:
        path = folder / FILE_NAME
        copied = _stream_to_parquet(source, query, path, max_rows=max_rows, max_bytes=max_bytes)
        # as dates are written everywhere else on screen ("6 Dec 2026 11:28"), not ISO
        stamp = f"{display_text.moment(taken, with_time=True, seconds=False)} UTC"
        return datasets.create_from_copy(
            actor, path, name=title, source=f"snapshot of {place} at {stamp}",
            description=f"A copy of {place}, taken {stamp}."
                        + (f" The query: {query_shown}" if query_shown else ""),
            note=_cut_note(copied, what, max_rows, settings.upload_limit_mb))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cut_note(copied: _Copied, what: str, max_rows: int, limit_mb: int) -> str:
    if copied.cut == "rows":
        return (f"This snapshot keeps the first {copied.rows:,} rows: {what} has more than "
                f"the {max_rows:,} a snapshot may copy.")
    if copied.cut == "bytes":
        return (f"This snapshot keeps the first {copied.rows:,} rows: the rest would make it "
                f"larger than the upload limit of {limit_mb:,} MB.")
    return ""


def _stream_to_parquet(source: SourceView, query: str, path: Path, *, max_rows: int,
                       max_bytes: int) -> _Copied:
    """Copy the rows through one read-only transaction, always rolled back."""
    engine = door.connect(source)
    timeout_s = get_settings().source_statement_timeout_s
    try:
        raw = engine.raw_connection()
    except (DBAPIError, psycopg.Error) as error:  # the raw pool does not wrap the driver's
        raise problems.translate(_wrapped(error), engine.url, timeout_s=timeout_s,
                                 connecting=True) from None
    try:
        connection = raw.driver_connection
        if not isinstance(connection, psycopg.Connection):
            raise InvalidInput(live_sql.MSG_DIALECT)
        connection.rollback()  # whatever the pool left: our settings open the transaction
        autocommit, connection.autocommit = connection.autocommit, False
        try:
            return _copy(connection, query, path, max_rows, max_bytes)
        finally:
            connection.rollback()  # never commit: a snapshot only reads
            connection.autocommit = autocommit
    except psycopg.Error as error:
        raise problems.translate(_wrapped(error), engine.url, timeout_s=timeout_s) from None
    finally:
        _close(raw)


def _wrapped(error: DBAPIError | psycopg.Error) -> DBAPIError:
    """The driver's error as SQLAlchemy's, which `problems.translate` reads."""
    if isinstance(error, DBAPIError):
        return error
    return DBAPIError(None, None, error)  # type: ignore[arg-type]


def _copy(connection: psycopg.Connection, query: str, path: Path, max_rows: int,
          max_bytes: int) -> _Copied:
    with connection.cursor() as setup:
        setup.execute(b"SET TRANSACTION READ ONLY")
        # as live_sql runs a query: functions from pg_catalog only, strings read as checked
        setup.execute(b"SELECT set_config('search_path', '', true), "
                      b"set_config('standard_conforming_strings', 'on', true)")
    with connection.cursor(name="research_desk_snapshot") as cursor:
        cursor.execute(query.encode())  # no parameters: the text is sent exactly as checked
        schema = _arrow_schema(cursor.description or [])
        rows, groups, cut = 0, 0, ""
        with pq.ParquetWriter(path, schema) as writer:
            while rows < max_rows:
                batch = cursor.fetchmany(min(BATCH_ROWS, max_rows - rows))
                if not batch:
                    break
                arrow = _arrow_table(batch, schema)
                groups += 1
                if path.stat().st_size + arrow.nbytes + _footer_bytes(schema, groups) > max_bytes:
                    cut = "bytes"
                    break
                writer.write_table(arrow)
                rows += len(batch)
            if not cut and rows >= max_rows and cursor.fetchmany(1):
                cut = "rows"
    return _Copied(rows=rows, cut=cut)


def _footer_bytes(schema: pa.Schema, groups: int) -> int:
    """More than the Parquet footer written on closing takes: it describes every column of
    every row group (measured: under 100 bytes each)."""
    return 4096 + 128 * len(schema) * groups


def _arrow_schema(description: list[Any]) -> pa.Schema:
    fields = []
    for index, item in enumerate(description):
        info = pg_types.get(item.type_code)
        kind = _ARROW_TYPES.get(info.name if info else "", pa.string())
        fields.append(pa.field(item.name or f"column {index + 1}", kind))
    return pa.schema(fields)


def _arrow_table(batch: list[tuple], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*batch, strict=True))
    arrays = [pa.array(_values(values, field.type), type=field.type)
              for values, field in zip(columns, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _values(values: tuple, kind: pa.DataType) -> list | tuple:
    """A column's values as Arrow takes them: exact numbers (Decimal) as floats, any type
    kept as text as its text; the others as the driver gave them (no per-value work)."""
    if pa.types.is_floating(kind):
        return [float(v) if isinstance(v, Decimal) else v for v in values]
    if pa.types.is_string(kind):
        return [v if v is None or isinstance(v, str) else _text(v) for v in values]
    return values


def _text(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def _close(raw: PoolProxiedConnection) -> None:
    try:
        raw.rollback()
    except Exception:  # noqa: BLE001 - a dead connection is simply discarded
        raw.invalidate()
    raw.close()
