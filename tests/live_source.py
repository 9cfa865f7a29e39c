"""A live data source for tests: a database in the test PostgreSQL (tests/postgres_server.py)
with real public samples loaded (penguins, Seattle weather), a read-only role that signs in
with a password (SCRAM), and a role that could write (for the connection test's warning).

The test cluster trusts every local login; a password is asked of members of one group only
(one line added at the top of pg_hba.conf), so wrong passwords can be tested without
changing how any other test connects.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine

from services.access.users import UserView
from services.sources import catalog
from services.sources.catalog import SourceInput, SourceView
from tests.postgres_server import PostgresServer, new_database

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
PASSWORD_GROUP = "rd_password_login"
_HBA_LINE = f"host all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n"


@dataclass(frozen=True)
class LiveSource:
    server: PostgresServer
    database: str
    reader: str
    reader_password: str
    writer: str
    writer_password: str

    def url(self, user: str, password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql+psycopg://{user}{secret}@127.0.0.1:{self.server.port}/{self.database}"


def _ask_passwords_of_group(server: PostgresServer) -> None:
    server.execute(f"DO $$ BEGIN CREATE ROLE {PASSWORD_GROUP} NOLOGIN; "
                   "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    hba = server.folder / "data" / "pg_hba.conf"
    text = hba.read_text()
    if _HBA_LINE not in text:
        hba.write_text(_HBA_LINE + text)
        server.execute("SELECT pg_reload_conf()")


def make_live_source(server: PostgresServer) -> LiveSource:
    _ask_passwords_of_group(server)
    url = new_database(server, migrated=False)
    database = url.rsplit("/", 1)[1]
    reader, writer = f"{database}_reader", f"{database}_writer"
    live = LiveSource(server, database, reader, "reader-secret-Plum58", writer,
                      "writer-secret-Fig21")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            pd.read_csv(SAMPLES / "penguins.csv").to_sql("penguins", connection, index=False)
            pd.read_csv(SAMPLES / "seattle-weather.csv", parse_dates=["date"]).to_sql(
                "seattle_weather", connection, index=False)
            connection.exec_driver_sql("CREATE VIEW adelie AS SELECT * FROM penguins "
                                       "WHERE species = 'Adelie'")
            connection.exec_driver_sql("CREATE SCHEMA private_notes")
            connection.exec_driver_sql("CREATE TABLE private_notes.salaries (amount int)")
            connection.exec_driver_sql("ANALYZE")
            for role, password in ((reader, live.reader_password),
                                   (writer, live.writer_password)):
                connection.exec_driver_sql(
                    f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE {PASSWORD_GROUP}")
                connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
                connection.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
            connection.exec_driver_sql(f"GRANT INSERT, UPDATE ON penguins TO {writer}")
            connection.exec_driver_sql("CREATE SEQUENCE ticket_numbers")
            connection.exec_driver_sql(f"GRANT USAGE ON SEQUENCE ticket_numbers TO {writer}")
    finally:
        engine.dispose()
    assert os.environ.get("PGPASSWORD") is None  # a password must come from the source
    return live


def add_reader_source(admin: UserView, live: LiveSource, name: str = "warehouse",
                      ) -> SourceView:
    """The live database as a stored data source (public schema, read-only role)."""
    return catalog.add_source(admin, SourceInput.parse(
        name=name, url=live.url(live.reader), schemas="public", password=live.reader_password))


@pytest.fixture(scope="module")
def live(postgres_server: PostgresServer) -> LiveSource:
    """A live data source for one test module (tests may change its rows)."""
    return make_live_source(postgres_server)
