"""Alembic environment: runs migrations on the connection services.store.db hands over, or,
for the stock `alembic upgrade head` (alembic.ini at the repo root), on the configured store."""

from alembic import context
from alembic.ddl.impl import DefaultImpl
from sqlalchemy import create_engine

from services.settings import get_settings
from services.store import db
from services.store.models import Base


class DuckDBImpl(DefaultImpl):
    """Teaches Alembic the duckdb dialect (it behaves like PostgreSQL for our DDL)."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().metadata_url
    if url.startswith("duckdb:"):
        db.ensure_data_dir(get_settings().data_dir)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            db.lock_for_migrations(connection)
            context.configure(connection=connection, target_metadata=Base.metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
