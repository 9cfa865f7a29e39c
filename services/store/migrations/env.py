"""Alembic environment: runs migrations on the connection that services.store.db hands over."""

from alembic import context
from alembic.ddl.impl import DefaultImpl

from services.store.models import Base


class DuckDBImpl(DefaultImpl):
    """Teaches Alembic the duckdb dialect (it behaves like PostgreSQL for our DDL)."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
