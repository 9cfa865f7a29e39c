"""Data sources on a real PostgreSQL (issue 21): passwords sealed at rest and never shown or
logged, "Test connection" says what is wrong in one sentence and changes nothing, the door
is read-only and time-limited, and browsing gives tables with row estimates and column types."""

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.access import audit
from services.access.audit import AuditFilter
from services.access.permissions import Role
from services.access.users import UserView
from services.errors import (
    InvalidInput,
    PermissionDenied,
    QueryFailed,
    QueryTimeout,
    UnsafeQuery,
)
from services.settings import reset_settings_cache
from services.sources import browse, catalog, door, problems
from services.sources.catalog import SourceInput
from services.sources.check import check_connection
from services.store.db import session_scope
from services.store.models import DataSource
from tests.factories import make_admin, make_user
from tests.live_source import LiveSource
from tests.postgres_server import PostgresServer


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


def _reader(live: LiveSource, *, password: str | None = None, name: str = "warehouse",
            schemas: str = "public") -> SourceInput:
    return SourceInput.parse(name=name, url=live.url(live.reader), schemas=schemas,
                             password=live.reader_password if password is None else password)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def test_the_password_is_sealed_in_the_store_and_never_shown_or_audited(
        live: LiveSource, admin: UserView, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    source = catalog.add_source(admin, _reader(live))
    with session_scope() as session:
        row = session.scalars(select(DataSource)).one()
        stored = (row.url, row.password_sealed, str(row.schemas))
    assert live.reader_password not in " ".join(stored)
    assert row.password_sealed  # sealed, not dropped
    assert live.reader_password not in source.model_dump_json()
    assert source.has_password and source.where.endswith(f"as {live.reader}")
    entries = audit.list_entries(admin.role, AuditFilter(action="source_added"))
    assert [e.target_label for e in entries] == ["warehouse"]
    frame = door.run_readonly(source, "SELECT count(*) AS n FROM penguins")
    assert int(frame["n"][0]) == 344  # the sealed password opens the door
    assert live.reader_password not in caplog.text


def test_a_password_in_the_url_is_kept_apart_from_it(live: LiveSource) -> None:
    new = SourceInput.parse(name="w", url=live.url(live.reader, live.reader_password))
    assert live.reader_password not in new.url
    assert new.password.get_secret_value() == live.reader_password
    assert live.reader_password not in repr(new) + str(new)


def test_only_admins_add_or_test_sources(live: LiveSource, admin: UserView) -> None:
    analyst = make_user(admin, "ana", Role.ANALYST)
    viewer = make_user(admin, "vic", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        catalog.add_source(analyst, _reader(live))
    with pytest.raises(PermissionDenied):
        check_connection(analyst, _reader(live))
    with pytest.raises(PermissionDenied):
        catalog.list_sources(viewer)
    assert catalog.list_sources(analyst) == []  # analysts may pick one, once added


def test_bad_input_gets_one_sentence() -> None:
    with pytest.raises(InvalidInput, match="Only PostgreSQL"):
        SourceInput.parse(name="x", url="mysql://u@h/db")
    with pytest.raises(InvalidInput, match="cannot be read"):
        SourceInput.parse(name="x", url="not a url at all")
    with pytest.raises(InvalidInput, match="host, the database"):
        SourceInput.parse(name="x", host="db.example", database="sales")
    with pytest.raises(InvalidInput, match="schemas"):
        SourceInput.parse(name="x", url="postgresql://u@h/db", schemas=" , ")
    with pytest.raises(InvalidInput, match="name"):
        SourceInput.parse(name=" ", url="postgresql://u@h/db")


def test_a_good_read_only_user_passes_without_a_warning(live: LiveSource,
                                                        admin: UserView) -> None:
    checked = check_connection(admin, _reader(live))
    assert checked.ok and not checked.warning
    assert checked.message == (f"Connected to “{live.database}” as “{live.reader}”: 3 tables "
                               "and views can be read in public.")


def test_each_failure_is_one_plain_sentence_and_nothing_is_stored(
        live: LiveSource, admin: UserView, postgres_server: PostgresServer,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    unreachable = SourceInput.parse(
        name="gone", url=f"postgresql://{live.reader}@127.0.0.1:{_closed_port()}/x",
        password="pw")
    wrong = _reader(live, password="not-the-password")
    missing = SourceInput.parse(name="m", url=live.url(live.reader).rsplit("/", 1)[0] + "/nope",
                                password=live.reader_password)
    postgres_server.execute(f"CREATE DATABASE {live.database}_closed")
    postgres_server.execute(f"REVOKE CONNECT ON DATABASE {live.database}_closed FROM PUBLIC")
    closed = SourceInput.parse(name="c", url=live.url(live.reader) + "_closed",
                               password=live.reader_password)
    no_schema = _reader(live, schemas="public, sales")
    no_usage = _reader(live, schemas="private_notes")
    answers = {name: check_connection(admin, new) for name, new in (
        ("unreachable", unreachable), ("wrong", wrong), ("missing", missing),
        ("closed", closed), ("no_schema", no_schema), ("no_usage", no_usage))}
    assert not any(a.ok for a in answers.values())
    address = wrong.address
    assert answers["unreachable"].message == problems.unreachable(unreachable.address)
    assert answers["wrong"].message == problems.wrong_password(address)
    assert answers["missing"].message == problems.no_database(missing.address)
    assert answers["closed"].message == problems.no_permission(closed.address)
    assert answers["no_schema"].message == (
        f"There is no schema called “sales” in the database “{live.database}”.")
    assert answers["no_usage"].message == (
        f"The user “{live.reader}” has no permission to read the schema “private_notes”.")
    for answer in answers.values():
        assert answer.message.count(". ") <= 1 and "None" not in answer.message
    with session_scope() as session:
        assert session.scalars(select(DataSource)).all() == []  # a test changes nothing
    assert "not-the-password" not in caplog.text and live.reader_password not in caplog.text


def test_a_user_that_can_write_is_warned_about(live: LiveSource, admin: UserView) -> None:
    checked = check_connection(admin, SourceInput.parse(
        name="w", url=live.url(live.writer), password=live.writer_password))
    assert checked.ok
    assert checked.warning.startswith(f"The user “{live.writer}” can change data")
    superuser = check_connection(admin, SourceInput.parse(
        name="s", url=f"postgresql://postgres@127.0.0.1:{live.server.port}/{live.database}"))
    assert superuser.ok and superuser.warning


def test_the_door_is_read_only_even_for_a_user_that_can_write(live: LiveSource,
                                                              admin: UserView) -> None:
    source = catalog.add_source(admin, SourceInput.parse(
        name="w", url=live.url(live.writer), password=live.writer_password))
    with pytest.raises(UnsafeQuery, match="only reads"):
        door.run_readonly(source, "SELECT nextval('ticket_numbers')")  # a write in a SELECT
    engine = door.connect(source)
    with engine.connect() as connection, pytest.raises(Exception, match="read-only"):
        connection.exec_driver_sql("UPDATE penguins SET year = 1900")
    count = door.run_readonly(source, "SELECT count(*) AS n FROM penguins WHERE year = 1900")
    assert int(count["n"][0]) == 0
    with pytest.raises(QueryFailed):  # one statement: a second one is not even parsed as such
        door.run_readonly(source, "SELECT 1; DROP TABLE penguins")
    assert len(door.run_readonly(source, "SELECT * FROM penguins")) == 344


def test_rows_are_capped_and_a_long_statement_is_stopped(
        live: LiveSource, admin: UserView, monkeypatch: pytest.MonkeyPatch) -> None:
    source = catalog.add_source(admin, _reader(live))
    frame = door.run_readonly(source, "SELECT * FROM seattle_weather WHERE weather = :w",
                              {"w": "rain"}, row_cap=10)
    assert len(frame) == 10 and frame.attrs["truncated"]
    assert list(frame.columns)[:2] == ["date", "precipitation"]
    whole = door.run_readonly(source, "SELECT species, count(*) AS n FROM penguins "
                                      "GROUP BY species ORDER BY species")
    assert whole.to_dict("list") == {"species": ["Adelie", "Chinstrap", "Gentoo"],
                                     "n": [152, 68, 124]}
    assert not whole.attrs["truncated"]
    monkeypatch.setenv("RESEARCH_DESK_SOURCE_STATEMENT_TIMEOUT_S", "0.5")
    reset_settings_cache()
    door.dispose_engines()
    with pytest.raises(QueryTimeout, match="0.5 seconds"):
        door.run_readonly(source, "SELECT pg_sleep(30)")


def test_browsing_gives_row_estimates_and_column_types(live: LiveSource,
                                                       admin: UserView) -> None:
    source = catalog.add_source(admin, _reader(live))
    tables = {t.name: t for t in browse.list_tables(source, "public")}
    assert set(tables) == {"adelie", "penguins", "seattle_weather"}
    assert tables["penguins"].kind == "table" and tables["penguins"].row_estimate == 344
    assert tables["seattle_weather"].row_estimate == 1461
    assert tables["adelie"].kind == "view" and tables["adelie"].rows_label == "not counted yet"
    columns = {c.name: c.type for c in browse.describe_table(source, "public", "seattle_weather")}
    assert columns["date"].startswith("timestamp") and columns["temp_max"] == "double precision"
    assert columns["weather"] == "text"
    with pytest.raises(InvalidInput, match="not one this data source may read"):
        browse.list_tables(source, "private_notes")
    with pytest.raises(InvalidInput, match="no table or view called"):
        browse.describe_table(source, "public", "nothing_here")


def test_connections_in_the_secrets_file_are_sources(
        live: LiveSource, admin: UserView, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'[connections.weather]\nurl = "{live.url(live.reader, live.reader_password)}"\n\n'
        f'[connections.parts]\ndialect = "postgresql"\nhost = "127.0.0.1"\n'
        f'port = {live.server.port}\ndatabase = "{live.database}"\n'
        f'username = "{live.reader}"\npassword = "{live.reader_password}"\n'
        'schemas = ["public"]\n\n[connections.broken]\nurl = "sqlite:///x.db"\n')
    monkeypatch.setenv("RESEARCH_DESK_SECRETS_FILE", str(secrets))
    reset_settings_cache()
    sources = {s.name: s for s in catalog.list_sources(admin)}
    assert set(sources) == {"parts", "weather"}  # the SQLite one is skipped, by name
    assert all(s.origin == catalog.SECRETS for s in sources.values())
    frame = door.run_readonly(sources["parts"], "SELECT count(*) AS n FROM adelie")
    assert int(frame["n"][0]) == 152
    with pytest.raises(InvalidInput, match="secrets file"):
        catalog.remove_source(admin, sources["weather"].id)
    secrets.write_text(f'[connections.weather]\nurl = "{live.url(live.reader)}"\n'
                       f'password = "{live.reader_password}"\n')
    again = catalog.list_sources(admin)
    assert [s.name for s in again] == ["weather"]  # removed from the file: gone
    assert again[0].id == sources["weather"].id  # unchanged address: the same source
