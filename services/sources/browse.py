"""Browse a source: its schemas (those the admin allowed), their tables and views with the
database's own row estimates (no counting: a 100-million-row table answers at once), and a
table's columns with their types. Everything goes through the read-only door."""

import math
import numbers

from pydantic import BaseModel, ConfigDict

from services.errors import InvalidInput
from services.sources.catalog import SourceView
from services.sources.door import run_readonly

_TABLES = """
    SELECT c.relname AS name,
           CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind,
           CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS row_estimate
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND has_table_privilege(c.oid, 'SELECT')
    ORDER BY c.relname
"""
_COLUMNS = """
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relname = :table AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum
"""
MAX_TABLES = 5_000


class TableInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_name: str
    name: str
    kind: str  # table | view
    row_estimate: int | None  # None: the database has not counted it yet

    @property
    def rows_label(self) -> str:
        if self.row_estimate is None:
            return "not counted yet"
        return f"about {self.row_estimate:,}"


class ColumnInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    type: str


def _allowed(source: SourceView, schema: str) -> str:
    if schema not in source.schemas:
        raise InvalidInput(f"The schema “{schema}” is not one this data source may read "
                           f"({', '.join(source.schemas)}).")
    return schema


def list_schemas(source: SourceView) -> list[str]:
    return list(source.schemas)


def list_tables(source: SourceView, schema: str) -> list[TableInfo]:
    frame = run_readonly(source, _TABLES, {"schema": _allowed(source, schema)},
                         row_cap=MAX_TABLES)
    return [TableInfo(schema_name=schema, name=str(r.name), kind=str(r.kind),
                      row_estimate=_count(r.row_estimate))
            for r in frame.itertuples(index=False)]


def _count(value: object) -> int | None:
    """The estimate as a whole number; None (a missing value in the frame) when not known."""
    if not isinstance(value, numbers.Real) or math.isnan(float(value)):
        return None
    return int(float(value))


def describe_table(source: SourceView, schema: str, table: str) -> list[ColumnInfo]:
    frame = run_readonly(source, _COLUMNS, {"schema": _allowed(source, schema), "table": table})
    if frame.empty:
        raise InvalidInput(f"There is no table or view called “{table}” in {schema} that this "
                           "data source may read.")
    return [ColumnInfo(name=str(r.name), type=str(r.type)) for r in frame.itertuples(index=False)]
