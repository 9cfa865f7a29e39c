"""Snapshots (issue 21): a data source's table, a checked query or a live dataset copied into
a normal dataset (one Parquet version, read by the usual ingest), on a real PostgreSQL."""

import re
from collections.abc import Iterator

import duckdb
import pytest
from sqlalchemy import create_engine

from services.access.permissions import Role
from services.access.users import UserView
from services.data import datasets, live_datasets, live_snapshot
from services.errors import (
    InvalidInput,
    PermissionDenied,
    QueryFailed,
    SourceUnavailable,
    UnsafeQuery,
)
from services.settings import get_settings, reset_settings_cache
from services.sources import catalog, door
from services.sources.catalog import SourceInput, SourceView
from tests.factories import make_admin, make_user
from tests.live_source import LiveSource, add_reader_source


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


@pytest.fixture
def source(admin: UserView, live: LiveSource) -> SourceView:
    return add_reader_source(admin, live)


def _in_source(live: LiveSource, sql: str) -> tuple:
    engine = create_engine(live.url(live.reader, live.reader_password))
    try:
        with engine.connect() as connection:
            return tuple(connection.exec_driver_sql(sql).one())
    finally:
        engine.dispose()


def _in_copy(view: datasets.DatasetView, admin: UserView, sql: str) -> tuple:
    version = datasets.get_version(admin, view.id)
    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{version.parquet_path}')")
        row = con.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


def test_a_table_snapshot_equals_the_source_rows(admin: UserView, source: SourceView,
                                                 live: LiveSource) -> None:
    made = live_snapshot.snapshot_table(admin, source.id, "public", "penguins")
    assert not made.is_live and made.name == "penguins" and made.versions == 1
    expected = _in_source(live, "SELECT count(*), sum(body_mass_g), count(sex) FROM penguins")
    assert made.rows == expected[0] == 344
    copied = _in_copy(made, admin, "SELECT count(*), sum(body_mass_g), count(sex) FROM t")
    assert copied == pytest.approx(expected)
    version = datasets.get_version(admin, made.id)
    assert version.source.startswith("snapshot of public.penguins in warehouse at ")
    assert version.note == ""  # nothing was left out
    weather = live_snapshot.snapshot_table(admin, source.id, "public", "seattle_weather",
                                           name="Weather copy")
    assert weather.name == "Weather copy" and weather.rows == 1461
    assert _in_copy(weather, admin, "SELECT typeof(min(date)), min(date)::VARCHAR FROM t") == (
        "TIMESTAMP", "2012-01-01 00:00:00")


def test_more_rows_than_the_limit_keeps_the_first_and_says_so(
        admin: UserView, source: SourceView, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_SOURCE_SNAPSHOT_MAX_ROWS", "100")
    monkeypatch.setattr(live_snapshot, "BATCH_ROWS", 30)  # several batches, one cut short
    reset_settings_cache()
    made = live_snapshot.snapshot_table(admin, source.id, "public", "adelie")
    assert made.rows == 100
    note = datasets.get_version(admin, made.id).note
    assert note == "This snapshot keeps the first 100 rows: the table has more than the 100 " \
                   "a snapshot may copy."


def test_a_query_snapshot_is_checked_and_copies_its_answer(
        admin: UserView, source: SourceView) -> None:
    made = live_snapshot.snapshot_query(
        admin, source.id, "SELECT species, count(*) AS n, avg(bill_length_mm) AS bill "
        "FROM penguins WHERE island LIKE 'B%' GROUP BY species ORDER BY species")
    assert made.name == "Query on warehouse" and made.rows == 2
    assert _in_copy(made, admin, "SELECT string_agg(species, ',' ORDER BY species), sum(n) "
                    "FROM t") == ("Adelie,Gentoo", 168)
    assert datasets.get_version(admin, made.id).source.startswith(
        "snapshot of a query on warehouse at ")
    assert made.description.startswith("A copy of a query on warehouse, taken ")
    # the time as people write it, e.g. "taken 6 Dec 2026 11:28 UTC."
    assert re.search(r", taken \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC\. ",
                     made.description), made.description
    assert made.description.endswith(" The query: SELECT species, count(*) AS n, "
                                      "avg(bill_length_mm) AS bill FROM penguins WHERE island "
                                      "LIKE 'B%' GROUP BY species ORDER BY species")


@pytest.mark.parametrize("sql", [
    "DELETE FROM penguins",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT * FROM penguins; DROP TABLE penguins",
    "SELECT * FROM private_notes.salaries",
    "SELECT current_setting('data_directory')",
    "SELECT 1 / 0 AS x FROM penguins",  # accepted by the guard, refused by the database
    "  ",
])
def test_a_hostile_or_empty_query_is_refused_and_nothing_is_made(
        admin: UserView, source: SourceView, sql: str) -> None:
    before = datasets.list_datasets(admin)
    with pytest.raises((UnsafeQuery, InvalidInput, QueryFailed)) as refused:
        live_snapshot.snapshot_query(admin, source.id, sql)
    assert str(refused.value).count(".") >= 1 and "\n" not in str(refused.value)
    assert datasets.list_datasets(admin) == before
    uploads = get_settings().uploads_dir
    assert not uploads.exists() or not any(uploads.iterdir())  # no half copy left behind


def test_a_viewer_may_not_snapshot(admin: UserView, source: SourceView) -> None:
    viewer = make_user(admin, "vera", Role.VIEWER)
    live = live_datasets.create_live_dataset(admin, source.id, "public", "penguins")
    datasets.set_shared(admin, live.id, True)
    for attempt in (lambda: live_snapshot.snapshot_table(viewer, source.id, "public", "penguins"),
                    lambda: live_snapshot.snapshot_query(viewer, source.id, "SELECT 1"),
                    lambda: live_snapshot.snapshot_live_dataset(viewer, live.id)):
        with pytest.raises(PermissionDenied):
            attempt()
    assert [d.id for d in datasets.list_datasets(viewer)] == [live.id]


def test_a_live_dataset_snapshot_copies_it_and_marks_it_read(
        admin: UserView, source: SourceView) -> None:
    live = live_datasets.create_live_dataset(admin, source.id, "public", "adelie", name="Adelie")
    made = live_snapshot.snapshot_live_dataset(admin, live.id)
    assert made.name == "Adelie (snapshot)" and made.rows == 152 and not made.is_live
    assert datasets.get_dataset(admin, live.id).live.read_at is not None  # type: ignore[union-attr]
    file_dataset = datasets.create_from_sample(admin, "tips")
    with pytest.raises(InvalidInput, match="only a live dataset"):
        live_snapshot.snapshot_live_dataset(admin, file_dataset.id)


def test_a_source_that_is_down_gives_one_sentence_and_nothing_is_made(
        admin: UserView, live: LiveSource) -> None:
    closed = catalog.add_source(admin, SourceInput.parse(
        name="closed", url=f"postgresql+psycopg://{live.reader}@127.0.0.1:1/{live.database}",
        schemas="public", password=live.reader_password))
    before = datasets.list_datasets(admin)
    with pytest.raises(SourceUnavailable, match="cannot be reached"):
        live_snapshot.snapshot_query(admin, closed.id, "SELECT * FROM penguins")
    with pytest.raises(SourceUnavailable, match="cannot be reached"):
        live_snapshot._stream_to_parquet(closed, "SELECT 1", live_snapshot.Path("/nowhere"),
                                         max_rows=1, max_bytes=1)
    assert datasets.list_datasets(admin) == before


def test_a_copy_stops_before_the_file_passes_the_size_limit(
        admin: UserView, source: SourceView, tmp_path: live_snapshot.Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_snapshot, "BATCH_ROWS", 20)
    path = tmp_path / "copy.parquet"
    copied = live_snapshot._stream_to_parquet(source, 'SELECT * FROM "public"."penguins"', path,
                                              max_rows=1_000, max_bytes=20_000)
    assert copied.cut == "bytes" and 0 < copied.rows < 344 and path.stat().st_size <= 20_000
    assert live_snapshot._cut_note(copied, "the table", 1_000, 1) == (
        f"This snapshot keeps the first {copied.rows:,} rows: the rest would make it larger "
        "than the upload limit of 1 MB.")


def test_exact_numbers_flags_dates_and_json_keep_their_values(
        admin: UserView, source: SourceView) -> None:
    made = live_snapshot.snapshot_query(
        admin, source.id, "SELECT CAST(bill_length_mm AS DECIMAL(6, 2)) AS bill, "
        "sex = 'male' AS male, CAST(NULL AS TEXT) AS nothing, "
        "CAST('2009-01-02' AS DATE) AS day, to_json(species) AS j "
        "FROM penguins WHERE bill_length_mm IS NOT NULL AND sex IS NOT NULL "
        "ORDER BY bill_length_mm LIMIT 1")
    assert _in_copy(made, admin, "SELECT bill, male, nothing, day::VARCHAR, j FROM t") == (
        32.1, False, None, "2009-01-02", "Adelie")
