"""The models and the migrations describe the same schema on the embedded DuckDB store (the
PostgreSQL twin, with Alembic's full comparison, is in test_migrations_postgres.py).
duckdb-engine cannot reflect through SQLAlchemy 2.1's PostgreSQL-style catalogue queries, so
this reads DuckDB's own catalogue: tables, columns, whether they take NULL, and indexes."""

import pytest
from sqlalchemy import text

from services.store.db import get_engine
from services.store.models import Base


@pytest.mark.duckdb_only(reason="reads DuckDB's own catalogue; the PostgreSQL twin is "
                                "test_migrations_postgres.py")
def test_models_match_the_migrations_on_duckdb() -> None:
    with get_engine().connect() as connection:
        columns = {(row.table_name, row.column_name, row.is_nullable == "YES")
                   for row in connection.execute(text(
                       "SELECT table_name, column_name, is_nullable FROM information_schema.columns"
                       " WHERE table_schema = 'main' AND table_name <> 'alembic_version'"))}
        indexes = {(row.table_name, row.index_name) for row in connection.execute(text(
            "SELECT table_name, index_name FROM duckdb_indexes()"))}
    modelled = {(table.name, column.name, bool(column.nullable))
                for table in Base.metadata.tables.values() for column in table.columns}
    modelled_indexes = {(table.name, str(index.name))
                        for table in Base.metadata.tables.values() for index in table.indexes}
    assert columns == modelled
    assert indexes == modelled_indexes
