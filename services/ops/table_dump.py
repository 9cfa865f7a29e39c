"""The metadata as a store-neutral logical dump: every table's rows as JSON lines.

The same lines load into DuckDB or PostgreSQL, so a backup of one restores into the other.
Values are what SQLAlchemy reads (dates as ISO text in the file); tables go in foreign-key
order (`Base.metadata.sorted_tables`), rows in primary-key order. After a load each id
sequence is moved past the highest id, so the next row the app adds gets a free one.
"""

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import JSON, Connection, DateTime, MetaData, Sequence, Table, func, select, text

from services.store.models import Base

BATCH = 1000


def tables() -> list[Table]:
    """Every table of this version's schema, parents before children."""
    return list(Base.metadata.sorted_tables)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot write a {type(value).__name__} to a dump")


def dump_rows(connection: Connection, table: Table, out: IO[bytes]) -> int:
    """Write the table's rows to `out`, one JSON object a line; returns how many."""
    count = 0
    statement = select(table).order_by(*table.primary_key.columns)
    for row in connection.execution_options(yield_per=BATCH).execute(statement):
        line = json.dumps(dict(row._mapping), default=_plain, ensure_ascii=False)
        out.write(line.encode() + b"\n")
        count += 1
    return count


def _loadable(table: Table) -> Table:
    """The table as inserts need it: a JSON column's None is SQL NULL (what the app stored),
    not the JSON text 'null'."""
    copy = table.to_metadata(MetaData())
    for column in copy.columns:
        if isinstance(column.type, JSON):
            column.type = JSON(none_as_null=True)
    return copy


def _typed(table: Table, record: dict[str, Any]) -> dict[str, Any]:
    row = {}
    for name, value in record.items():
        column = table.columns[name]  # KeyError: a column this version does not have
        if value is not None and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        row[name] = value
    return row


def _batches(lines: Iterable[bytes], table: Table) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for line in lines:
        if line.strip():
            batch.append(_typed(table, json.loads(line)))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def load_rows(connection: Connection, table: Table, lines: Iterable[bytes]) -> int:
    """Insert the dumped rows of `table`; returns how many."""
    target = _loadable(table)
    count = 0
    for batch in _batches(lines, table):
        if connection.dialect.name == "duckdb":
            _insert_into_duckdb(connection, table, batch)
        else:
            connection.execute(target.insert(), batch)
        count += len(batch)
    return count


def _insert_into_duckdb(connection: Connection, table: Table,
                        batch: list[dict[str, Any]]) -> None:
    """DuckDB runs an executemany one row at a time (70,000 rows took a minute): the batch
    goes in as one frame instead, JSON values as their text."""
    import pandas as pd  # here: the command line starts without pandas (a second of start-up)

    names = [c.name for c in table.columns]
    frame = pd.DataFrame({
        name: pd.Series([_json_text(row.get(name)) if isinstance(table.columns[name].type, JSON)
                         else row.get(name) for row in batch], dtype=object)
        for name in names})
    raw = connection.connection.driver_connection
    raw.register("rd_restore_batch", frame)  # type: ignore[union-attr]
    try:
        columns = ", ".join(f'"{name}"' for name in names)
        connection.exec_driver_sql(
            f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM rd_restore_batch')
    finally:
        raw.unregister("rd_restore_batch")  # type: ignore[union-attr]


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def count_rows(connection: Connection, table: Table) -> int:
    return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def reset_sequences(connection: Connection) -> None:
    """Move every id sequence past its table's highest id (rows were inserted with ids)."""
    for table in tables():
        for column in table.columns:
            if not isinstance(column.default, Sequence):
                continue
            highest = int(connection.scalar(select(func.max(column))) or 0)
            name = column.default.name  # a constant of models.py, never input
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT setval(:name, :next, false)"),
                                   {"name": name, "next": highest + 1})
            elif highest:  # DuckDB cannot set a sequence: draw it past the highest id
                connection.execute(text(f"SELECT max(nextval('{name}')) FROM range(:n)"),
                                   {"n": highest})
