"""Statistics of a live table (issue 21): a bounded random sample written once to a Parquet
file in the data folder's scratch space, that the seaborn figures read; old samples are
swept; a source that is down is one sentence."""

import os
import time
from collections.abc import Iterator
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import update

from services.access.users import UserView
from services.charts import stat_sample, stat_views
from services.data import live_datasets
from services.data.live_datasets import LiveTarget
from services.errors import SourceUnavailable
from services.sources import door
from services.store.db import session_scope
from services.store.models import DataSource, utcnow
from tests.factories import make_admin
from tests.live_source import LiveSource, add_reader_source


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


def _target(admin: UserView, live: LiveSource, table: str) -> LiveTarget:
    source = add_reader_source(admin, live)
    made = live_datasets.create_live_dataset(admin, source.id, "public", table)
    target = live_datasets.live_target(admin, made.id)
    assert target is not None
    return target


def test_a_sample_is_random_bounded_and_drawn_by_the_figures(admin: UserView,
                                                             live: LiveSource) -> None:
    target = _target(admin, live, "penguins")
    sample = stat_sample.sample_file(target, rows=100)
    assert (sample.rows, sample.table_rows, sample.is_whole_table) == (100, 344, False)
    assert sample.path.parent == stat_sample.sample_folder() and sample.path.is_file()
    frame = pd.read_parquet(sample.path)
    assert len(frame) == 100 and "bill_length_mm" in frame.columns
    assert frame["bill_length_mm"].dtype == "float64"
    again = stat_sample.sample_file(target, rows=100)
    assert again.path != sample.path  # a new read, a new file
    assert sorted(pd.read_parquet(again.path)["bill_length_mm"].fillna(0)) != sorted(
        frame["bill_length_mm"].fillna(0))  # random: two samples of 100 of 344 differ
    png = stat_views.distribution_png(sample.path, "body_mass_g")
    assert png.startswith(b"\x89PNG")


def test_a_small_view_is_sampled_whole(admin: UserView, live: LiveSource) -> None:
    sample = stat_sample.sample_file(_target(admin, live, "adelie"), rows=1000)
    assert (sample.rows, sample.table_rows, sample.is_whole_table) == (152, 152, True)


def test_old_samples_are_swept() -> None:
    folder = stat_sample.sample_folder()
    folder.mkdir(parents=True, exist_ok=True)
    old, new = folder / "1-old.parquet", folder / "1-new.parquet"
    for path in (old, new):
        path.write_bytes(b"PAR1")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    assert stat_sample.sweep() == 1
    assert not old.exists() and new.exists()
    assert stat_sample.sweep(utcnow() + stat_sample.KEEP_FOR + timedelta(minutes=1)) == 1


def test_a_source_that_is_down_is_one_sentence(admin: UserView, live: LiveSource) -> None:
    target = _target(admin, live, "penguins")
    with session_scope(write=True) as session:
        session.execute(update(DataSource).where(DataSource.id == target.source.id).values(
            url=target.source.url.replace(f":{live.server.port}/", ":1/"),
            updated_at=utcnow()))
    down = live_datasets.live_target(admin, target.dataset_id)
    assert down is not None
    with pytest.raises(SourceUnavailable, match="cannot be reached"):
        stat_sample.sample_file(down, rows=10)
