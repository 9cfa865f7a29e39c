"""Two connections to one PostgreSQL store, as two servers have: one removes a data source
while the other adds a live dataset on it. They take turns (a lock per source), so a removal
never leaves a live dataset reading from a source that is gone: whichever comes second is
refused in one sentence."""

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, text

from services.access import audit
from services.data import live_datasets
from services.errors import InvalidInput, NotFound
from services.sources import catalog, door
from services.store.db import get_engine, session_scope
from services.store.models import LiveTable
from tests.factories import make_admin
from tests.live_source import LiveSource, add_reader_source


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as threads:  # each thread its own connection
        yield threads
    door.dispose_engines()


def _paused_at(action: str, monkeypatch: pytest.MonkeyPatch,
               ) -> tuple[threading.Event, threading.Event]:
    """Hold the transaction that records `action` open until released (it has done its
    checks and written its change, but not committed)."""
    inside, release = threading.Event(), threading.Event()
    record = audit.record

    def paused(session: Any, **entry: Any) -> None:  # noqa: ANN401 - audit.record's own
        record(session, **entry)
        if entry["action"] == action:
            inside.set()
            release.wait(60)

    monkeypatch.setattr(audit, "record", paused)
    return inside, release


def _waiting_or_done(second: Future) -> None:
    """Until the second call either ended (no lock held it) or waits for the lock."""
    deadline = time.monotonic() + 60
    while not second.done():
        with get_engine().connect() as connection:
            waiting = connection.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )).scalar()
        if waiting:
            return
        assert time.monotonic() < deadline, "the second call neither ended nor waited"
        time.sleep(0.01)


def _live_tables(source_id: int) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(LiveTable)
                              .where(LiveTable.source_id == source_id)) or 0


def _race(first: Callable[[], object], second: Callable[[], object], action: str,
          pool: ThreadPoolExecutor, monkeypatch: pytest.MonkeyPatch) -> tuple[Future, Future]:
    inside, release = _paused_at(action, monkeypatch)
    started = pool.submit(first)
    assert inside.wait(60), started.exception(0) if started.done() else "first never began"
    following = pool.submit(second)
    _waiting_or_done(following)
    release.set()
    return started, following


def test_a_removal_waits_for_a_live_dataset_being_added_and_then_refuses(
        postgres_url: str, live: LiveSource, pool: ThreadPoolExecutor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    admin = make_admin()
    source = add_reader_source(admin, live)
    adding, removing = _race(
        lambda: live_datasets.create_live_dataset(admin, source.id, "public", "penguins"),
        lambda: catalog.remove_source(admin, source.id), "dataset_created", pool, monkeypatch)
    assert adding.result(60).is_live
    with pytest.raises(InvalidInput, match="1 live dataset reads from “warehouse”"):
        removing.result(60)
    assert [s.id for s in catalog.list_sources(admin)] == [source.id]


def test_a_live_dataset_added_during_a_removal_is_refused_and_leaves_nothing(
        postgres_url: str, live: LiveSource, pool: ThreadPoolExecutor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    admin = make_admin()
    source = add_reader_source(admin, live)
    removing, adding = _race(
        lambda: catalog.remove_source(admin, source.id),
        lambda: live_datasets.create_live_dataset(admin, source.id, "public", "penguins"),
        "source_removed", pool, monkeypatch)
    removing.result(60)
    with pytest.raises(NotFound, match="That data source was removed meanwhile"):
        adding.result(60)
    assert _live_tables(source.id) == 0 and catalog.list_sources(admin) == []
