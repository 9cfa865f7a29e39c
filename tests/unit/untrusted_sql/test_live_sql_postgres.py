"""Ask's SQL on a live PostgreSQL source: the hostile-SQL corpus against a real server.

A database of its own holds two real public samples (penguins, Seattle weather) chosen as
`sales` and `regions`, plus a table and a sequence that are NOT chosen. Queries run as a
read-only role and as the superuser (a role that could write): every hostile query is refused
or harmless, nothing changes, nothing of the unchosen table comes back.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, text

from services.errors import QueryFailed, QueryTimeout, QueryTooBig, ResearchDeskError, UnsafeQuery
from services.untrusted_sql import live_sql
from tests.postgres_server import PostgresServer, drop_database, new_database
from tests.unit.hostile_sql import BOMBS, LIVE_REFUSED, LIVE_SLOW, REFUSED_BY_GUARD

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "samples"
TABLES = {"sales": ("public", "penguins"), "regions": ("public", "seattle_weather")}
SECRET = "TOP-SECRET-21"
# Files a hostile query would leave behind if the server ran it.
TRACES = [Path(p) for p in ("/tmp/out.csv", "/tmp/out.parquet", "/tmp/rd_live_copy.csv",
                            "/tmp/rd_live_program", "/tmp/rd_live_lo_export")]


class LiveDatabase:
    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.url = new_database(server, migrated=False)
        self.reader = f"rd_reader_{os.getpid()}"
        self.admin = create_engine(self.url)
        self.reader_engine: Engine | None = None

    def load(self) -> None:
        penguins = pd.read_csv(SAMPLES / "penguins.csv")
        weather = pd.read_csv(SAMPLES / "seattle-weather.csv", parse_dates=["date"])
        penguins.to_sql("penguins", self.admin, index=False)
        weather.to_sql("seattle_weather", self.admin, index=False)
        with self.admin.begin() as connection:
            connection.execute(text("CREATE TABLE secrets (value text)"))
            connection.execute(text("INSERT INTO secrets VALUES (:v)"), {"v": SECRET})
            connection.execute(text("CREATE SEQUENCE counter"))
            connection.execute(text(f"DROP ROLE IF EXISTS {self.reader}"))
            connection.execute(text(f"CREATE ROLE {self.reader} LOGIN"))
            connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {self.reader}"))
            connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public "
                                    f"TO {self.reader}"))
        self.reader_engine = create_engine(self.url.replace("//postgres@",
                                                            f"//{self.reader}@"))

    def state(self) -> tuple:
        """Everything a hostile query could change, as one comparable value."""
        with self.admin.connect() as connection:
            counts = connection.execute(text(
                "SELECT (SELECT count(*) FROM penguins), (SELECT count(*) FROM seattle_weather),"
                " (SELECT count(*) FROM secrets), (SELECT last_value FROM counter),"
                " (SELECT count(*) FROM pg_largeobject_metadata),"
                " (SELECT count(*) FROM pg_roles)")).one()
            relations = connection.execute(text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
                " ORDER BY 1")).scalars().all()
        return (tuple(counts), tuple(relations), tuple(p.exists() for p in TRACES))

    def close(self) -> None:
        for engine in (self.reader_engine, self.admin):
            if engine is not None:
                engine.dispose()
        drop_database(self.server, self.url)
        self.server.execute(f"DROP ROLE IF EXISTS {self.reader}")


@pytest.fixture(scope="module")
def live(postgres_server: PostgresServer) -> Iterator[LiveDatabase]:
    database = LiveDatabase(postgres_server)
    try:
        database.load()
        yield database
    finally:
        database.close()


def _engines(live: LiveDatabase) -> dict[str, Engine]:
    assert live.reader_engine is not None
    return {"read-only role": live.reader_engine, "role that can write": live.admin}


def _assert_harmless(outcome: object) -> None:
    if isinstance(outcome, ResearchDeskError):
        message = str(outcome)
        assert message.endswith(".") and "\n" not in message and len(message) < 300
        assert "Traceback" not in message and SECRET not in message
    else:
        assert isinstance(outcome, live_sql.LiveResult)
        assert SECRET not in outcome.frame.to_csv()


def _run(engine: Engine, sql: str, timeout_s: float = 1.0) -> object:
    try:
        return live_sql.run_live(engine, sql, TABLES, timeout_s=timeout_s, max_rows=1000)
    except ResearchDeskError as error:
        return error


@pytest.mark.parametrize("role", ["read-only role", "role that can write"])
def test_hostile_corpus_is_refused_or_harmless_on_postgres(live: LiveDatabase,
                                                           role: str) -> None:
    engine = _engines(live)[role]
    before = live.state()
    for sql in [*REFUSED_BY_GUARD, *LIVE_REFUSED]:
        outcome = _run(engine, sql)
        assert isinstance(outcome, UnsafeQuery), sql
        _assert_harmless(outcome)
    for sql in [*BOMBS, *LIVE_SLOW]:
        outcome = _run(engine, sql, timeout_s=0.5)
        assert isinstance(outcome, QueryTimeout | QueryFailed), sql
        _assert_harmless(outcome)
    assert live.state() == before


def test_with_the_guard_bypassed_the_read_only_role_changes_nothing(live: LiveDatabase) -> None:
    """The second wall alone: every hostile query sent unchecked, as the read-only role."""
    assert live.reader_engine is not None
    before = live.state()
    for sql in [*REFUSED_BY_GUARD, *LIVE_REFUSED]:
        try:
            live_sql._fetch(live.reader_engine, sql, timeout_s=0.5, max_rows=10,
                            max_bytes=1 << 20)
        except ResearchDeskError as error:
            _assert_harmless(error)
    assert live.state() == before


def test_a_plain_question_gives_the_same_numbers_as_pandas(live: LiveDatabase) -> None:
    assert live.reader_engine is not None
    result = live_sql.run_live(
        live.reader_engine,
        "SELECT species, count(*) AS n, median(body_mass_g) AS mid FROM sales "
        "WHERE island <> 'Dream' GROUP BY ALL ORDER BY species",
        TABLES)
    penguins = pd.read_csv(SAMPLES / "penguins.csv")
    penguins = penguins[penguins.island != "Dream"]
    expected = penguins.groupby("species").agg(n=("species", "size"),
                                                 mid=("body_mass_g", "median"))
    assert result.frame["species"].tolist() == expected.index.tolist()
    assert result.frame["n"].tolist() == expected["n"].tolist()
    assert result.frame["mid"].astype(float).tolist() == expected["mid"].tolist()
    assert '"public"."penguins"' in result.sql and not result.truncated


TYPICAL = [
    "SELECT year(date) AS y, month(date) AS m, round(avg(temp_max), 1) AS t FROM regions "
    "GROUP BY ALL ORDER BY ALL",
    "SELECT date_diff('day', min(date), max(date)) AS days FROM regions",
    "SELECT weather, count(DISTINCT date) AS d, stddev(temp_max) AS s, "
    "corr(temp_max, temp_min) AS c FROM regions GROUP BY weather",
    "SELECT species || ' ' || island AS name, lower(sex) LIKE 'm%' AS male FROM sales",
    "SELECT date, temp_max - lag(temp_max) OVER (ORDER BY date) AS change FROM regions",
    "SELECT 100.0 * count(*) / sum(count(*)) OVER () AS pct, species FROM sales "
    "GROUP BY species",
    "SELECT CAST(date AS VARCHAR) AS d, date + INTERVAL 1 DAY AS next, "
    "extract(month FROM date) AS m FROM regions",
    "SELECT quantile_cont(temp_max, [0.25, 0.75]) AS q FROM regions",
    "SELECT count_if(temp_max > 20) AS warm FROM regions",
    "SELECT floor(body_mass_g / 500) * 500 AS bin, count(*) AS n FROM sales GROUP BY 1",
    "SELECT coalesce(sex, 'unknown') AS sex, greatest(bill_length_mm, bill_depth_mm) AS g "
    "FROM sales",
    "SELECT date_trunc('week', date) AS w, strftime(date, '%Y-%m') AS ym FROM regions",
    "WITH w AS (SELECT weather, avg(wind) AS wind FROM regions GROUP BY weather) "
    "SELECT * FROM w WHERE wind > (SELECT avg(wind) FROM regions)",
    "SELECT s.species, r.weather FROM sales s JOIN regions r ON s.year + 5 = year(r.date) LIMIT 5",
    "SELECT x FROM range(3) t(x)",
]


@pytest.mark.parametrize("sql", TYPICAL)
def test_typical_questions_run_on_postgres(live: LiveDatabase, sql: str) -> None:
    assert live.reader_engine is not None
    result = live_sql.run_live(live.reader_engine, sql, TABLES)
    assert len(result.frame) > 0


def test_a_slow_query_ends_at_the_timeout_with_one_sentence(live: LiveDatabase) -> None:
    assert live.reader_engine is not None
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as caught:
        live_sql.run_live(live.reader_engine, LIVE_SLOW[0], TABLES, timeout_s=1)
    assert time.monotonic() - started < 20  # generous: the machine is shared
    assert str(caught.value) == live_sql._timeout_message(1)
    # The connection went back to the pool usable, with no timeout or read-only left on it.
    with live.reader_engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
        assert connection.execute(text("SHOW transaction_read_only")).scalar() == "off"


def test_strings_are_read_by_postgresql_as_the_guard_read_them(live: LiveDatabase) -> None:
    """A role whose default reads backslashes as escapes could otherwise end a string where
    the guard saw none end."""
    assert live.reader_engine is not None
    live.server.execute(f"ALTER ROLE {live.reader} SET standard_conforming_strings = off")
    try:
        live.reader_engine.dispose()
        result = live_sql.run_live(live.reader_engine, "SELECT 'a\\' AS x FROM sales LIMIT 1",
                                   TABLES)
        assert result.frame["x"].tolist() == ["a\\"]
    finally:
        live.server.execute(f"ALTER ROLE {live.reader} RESET standard_conforming_strings")
        live.reader_engine.dispose()


def test_rows_and_bytes_are_capped(live: LiveDatabase) -> None:
    assert live.reader_engine is not None
    capped = live_sql.run_live(live.reader_engine, "SELECT * FROM regions", TABLES,
                               max_rows=10)
    assert len(capped.frame) == 10 and capped.truncated
    assert list(capped.frame.columns) == ["date", "precipitation", "temp_max", "temp_min",
                                          "wind", "weather"]
    with pytest.raises(QueryTooBig):
        live_sql.run_live(live.reader_engine, "SELECT repeat(weather, 1000) FROM regions",
                          TABLES, max_bytes=100_000)
    started = time.monotonic()
    with pytest.raises(QueryTooBig):  # rows of 14 MB each: stopped after the first one
        live_sql.run_live(live.reader_engine, "SELECT repeat(weather, 2000000) FROM regions",
                          TABLES, max_bytes=1 << 20)
    with pytest.raises(QueryTooBig):  # one array of 1,461 long values in one row
        live_sql.run_live(live.reader_engine,
                          "SELECT list(repeat(weather, 1000)) AS l FROM regions",
                          TABLES, max_bytes=1 << 20)
    assert time.monotonic() - started < 20


WRITES = [
    "DELETE FROM public.penguins",
    "SELECT 1; DELETE FROM public.penguins",
    "WITH d AS (DELETE FROM public.penguins RETURNING *) SELECT count(*) FROM d",
    "SELECT nextval('public.counter')",
    "SELECT set_config('transaction_read_only', 'off', true), nextval('public.counter')",
    "SELECT * FROM public.penguins FOR UPDATE",
    "SELECT lo_export(lo_from_bytea(0, 'x'), '/tmp/rd_live_lo_export')",
]
# PostgreSQL runs these even in a read-only transaction; the rollback undoes them (and the
# function allow-list keeps them out in the first place).
ROLLED_BACK = [
    "SELECT lo_import('/etc/hostname')",
    "SELECT lo_from_bytea(0, 'x')",
]


@pytest.mark.parametrize("sql", WRITES)
def test_a_role_that_can_write_still_cannot_write_through_this_door(live: LiveDatabase,
                                                                    sql: str) -> None:
    """The guard bypassed: the read-only cursor alone stops writes by a superuser."""
    before = live.state()
    with pytest.raises(QueryFailed):
        live_sql._fetch(live.admin, sql, timeout_s=5, max_rows=10, max_bytes=1 << 20)
    assert live.state() == before


def test_an_autocommit_engine_still_reads_in_a_read_only_transaction(live: LiveDatabase) -> None:
    engine = create_engine(live.url, isolation_level="AUTOCOMMIT", pool_size=1)
    try:
        before = live.state()
        with pytest.raises(QueryFailed, match=f"^{live_sql.MSG_READ_ONLY}$"):
            live_sql._fetch(engine, "SELECT nextval('public.counter')", timeout_s=5,
                            max_rows=10, max_bytes=1 << 20)
        assert live.state() == before
        with engine.connect() as connection:  # the pooled connection is as it was lent
            assert connection.connection.driver_connection.autocommit is True
    finally:
        engine.dispose()


@pytest.mark.parametrize("sql", ROLLED_BACK)
def test_what_read_only_lets_through_is_rolled_back(live: LiveDatabase, sql: str) -> None:
    before = live.state()
    live_sql._fetch(live.admin, sql, timeout_s=5, max_rows=10, max_bytes=1 << 20)
    assert live.state() == before
    with pytest.raises(UnsafeQuery):
        live_sql.to_dialect(sql, TABLES)


def test_an_unreachable_source_gives_one_sentence(postgres_server: PostgresServer) -> None:
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nowhere"
    with pytest.raises(QueryFailed, match=f"^{live_sql.MSG_UNREACHABLE}$"):
        live_sql.run_live(closed, "SELECT 1", TABLES)


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
