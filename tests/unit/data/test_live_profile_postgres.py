"""Profile and quality of a live dataset (issue 21), pushed down to a real PostgreSQL: the
same numbers as the file profile of the same rows, a bounded sample that says it is one, and
one sentence when the source is down."""

import math
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from services.access.users import UserView
from services.data import (
    datasets,
    live_datasets,
    live_profile,
    live_sample,
    profile,
    quality,
    samples,
)
from services.data.live_datasets import LiveTarget
from services.errors import QueryFailed, SourceUnavailable
from services.settings import reset_settings_cache
from services.sources import door
from services.sources.catalog import SourceView
from tests.factories import make_admin
from tests.live_source import LiveSource, add_reader_source, make_live_source
from tests.postgres_server import PostgresServer

WIDE_COLUMNS = 160  # more than a profile checks in one go (profile.WIDE_COLUMNS)
BIG_ROWS = 120_000  # above the 100,000 distinct values a profile counts exactly


@pytest.fixture(scope="module")
def live(postgres_server: PostgresServer) -> LiveSource:
    made = make_live_source(postgres_server)
    engine = create_engine(made.url("postgres"))
    try:  # a table larger than the samples below
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE readings AS SELECT g AS id, mod(g, 7)::text AS station, "
                f"g * 0.5 AS amount FROM generate_series(1, {BIG_ROWS}) AS g")
            columns = ", ".join(f"'x' || mod(g, 3) AS c{i}" for i in range(WIDE_COLUMNS))
            connection.exec_driver_sql(f"CREATE TABLE wide AS SELECT {columns}, "
                                       "'1.5' AS amount, json_build_object('k', mod(g, 3)) AS doc "
                                       "FROM generate_series(1, 40) AS g")
            connection.exec_driver_sql("ANALYZE readings")
            connection.exec_driver_sql(f"GRANT SELECT ON readings, wide TO {made.reader}")
    finally:
        engine.dispose()
    return made


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


@pytest.fixture
def source(admin: UserView, live: LiveSource) -> SourceView:
    return add_reader_source(admin, live)


def _target(admin: UserView, source: SourceView, table: str) -> LiveTarget:
    made = live_datasets.create_live_dataset(admin, source.id, "public", table)
    target = live_datasets.live_target(admin, made.id)
    assert target is not None
    return target


def test_the_live_profile_equals_the_file_profile_of_the_same_rows(
        admin: UserView, source: SourceView) -> None:
    checked = live_profile.profile_table(_target(admin, source, "penguins"))
    file, _ = samples.add_sample(admin, "penguins")  # the CSV the live table was loaded from
    version = datasets.get_version(admin, file.id, file.current_version)
    expected = profile.profile_dataset(version.parquet_path)
    got = checked.profile
    assert checked.sample.whole and checked.note == ""
    assert (got.rows, got.duplicate_rows) == (expected.rows, expected.duplicate_rows) == (344, 0)
    assert [c.name for c in got.columns] == [c.name for c in expected.columns]
    for mine, theirs in zip(got.columns, expected.columns, strict=True):
        assert (mine.count, mine.missing, mine.distinct, mine.padded) == (
            theirs.count, theirs.missing, theirs.distinct, theirs.padded), mine.name
        assert not mine.distinct_is_approximate
        assert [v.count for v in mine.top_values] == [v.count for v in theirs.top_values]
        for field in ("min", "max", "mean", "std", "q25", "q50", "q75"):
            a, b = getattr(mine, field), getattr(theirs, field)
            if isinstance(a, float) and isinstance(b, float):  # sums in another order
                assert math.isclose(a, b, rel_tol=1e-12), (mine.name, field)
            else:
                assert a == b, (mine.name, field)
        assert [b.count for b in mine.histogram] == [b.count for b in theirs.histogram]
        assert mine.outliers == theirs.outliers
    found = live_profile.find_issues(checked)
    assert [(f.kind, f.column, f.affected_rows) for f in found] == [
        (f.kind, f.column, f.affected_rows)
        for f in quality.find_issues(version.parquet_path, expected)]


def test_a_large_table_is_profiled_in_the_database_and_checked_on_a_bounded_sample(
        admin: UserView, source: SourceView) -> None:
    target = _target(admin, source, "readings")
    sample = live_sample.sample_frame(target, rows=500)
    assert not sample.whole and 0 < len(sample.frame) <= 500
    assert sample.about_rows == BIG_ROWS  # ANALYZE counted it
    assert sample.note == f"checked on a sample of {len(sample.frame):,} of about 120,000 rows"
    assert list(sample.frame.columns) == ["id", "station", "amount"]
    assert sample.frame["id"].nunique() == len(sample.frame)  # rows drawn, not repeated

    checked = live_profile.profile_table(target, sample_rows=2_000)
    columns = {c.name: c for c in checked.profile.columns}
    assert checked.profile.rows == BIG_ROWS and checked.note.startswith("checked on a sample")
    assert (columns["id"].min, columns["id"].max, columns["id"].count) == (1.0, BIG_ROWS,
                                                                           BIG_ROWS)
    assert columns["amount"].mean == pytest.approx((BIG_ROWS + 1) / 4)  # exact, from every row
    assert columns["station"].distinct == 7 and not columns["station"].distinct_is_approximate
    # the shape is the sample's, scaled to the table
    assert sum(b.count for b in columns["amount"].histogram) == pytest.approx(BIG_ROWS, rel=0.01)
    assert columns["id"].distinct_is_approximate  # nearly unique: the database's estimate
    assert checked.profile.duplicate_rows == 0


def test_a_wide_live_table_with_json_is_checked_in_batches(
        admin: UserView, source: SourceView) -> None:
    checked = live_profile.profile_table(_target(admin, source, "wide"))
    assert len(checked.profile.columns) == WIDE_COLUMNS + 2 > profile.WIDE_COLUMNS
    doc = checked.profile.columns[-1]  # JSON: no kind of its own, counted by its text
    assert (doc.dtype, doc.distinct, doc.top_values[0].count) == ("other", 3, 14)
    found = live_profile.find_issues(checked)
    assert checked.profile.duplicate_rows == 37  # 40 rows, 3 different ones
    assert {(f.kind, f.column) for f in found} == {
        ("duplicate_rows", None), ("numbers_stored_as_text", "amount"),
        ("constant_column", "amount")}


def test_a_view_without_an_estimate_is_read_whole_when_small(
        admin: UserView, source: SourceView) -> None:
    sample = live_sample.sample_frame(_target(admin, source, "adelie"), rows=1_000)
    assert sample.whole and sample.about_rows == len(sample.frame) == 152


def test_a_source_that_is_down_gives_one_sentence_within_the_timeouts(
        admin: UserView, source: SourceView, live: LiveSource,
        monkeypatch: pytest.MonkeyPatch) -> None:
    target = _target(admin, source, "penguins")
    monkeypatch.setenv("RESEARCH_DESK_SOURCE_CONNECT_TIMEOUT_S", "2")
    reset_settings_cache()
    door.dispose_engines()
    moved = target.model_copy(update={"source": target.source.model_copy(
        update={"url": target.source.url.replace(str(live.server.port), "1")})})
    started = time.monotonic()
    with pytest.raises((SourceUnavailable, QueryFailed)) as caught:
        live_profile.profile_table(moved)
    assert time.monotonic() - started < 30  # connect timeout, not forever
    assert "\n" not in str(caught.value) and "Traceback" not in str(caught.value)
