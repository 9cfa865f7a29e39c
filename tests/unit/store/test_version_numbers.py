"""Version numbers are `max + 1`: when two writers pick the same number at once, the store
refuses the second ((dataset, version) is the primary key) and the service takes the next."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from services.data import datasets
from services.data.dataset_models import DropColumns
from services.errors import Conflict
from tests.factories import make_admin


def _both_read_before_either_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each writer's first look at the latest version sees the number from before either
    wrote (what two servers on one PostgreSQL database can both see)."""
    real_next = datasets._next_version
    seen: set[int] = set()
    lock = threading.Lock()

    def next_version(session: Session, dataset_id: int) -> int:
        with lock:
            first_look = threading.get_ident() not in seen
            seen.add(threading.get_ident())
        return 2 if first_look else real_next(session, dataset_id)

    monkeypatch.setattr(datasets, "_next_version", next_version)


def test_two_writers_adding_versions_at_once_both_succeed_with_distinct_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "tips")  # version 1
    _both_read_before_either_commits(monkeypatch)
    start = threading.Barrier(2)

    def restore() -> int:
        start.wait()
        return datasets.restore_version(admin, view.id, 1).version

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(restore) for _ in range(2)]
        numbers = sorted(f.result() for f in futures)
    assert numbers == [2, 3]
    assert [v.version for v in datasets.list_versions(admin, view.id)] == [3, 2, 1]
    assert datasets.get_dataset(admin, view.id).current_version == 3


def test_a_cleaned_version_takes_the_next_number_when_its_own_was_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "tips")
    datasets.restore_version(admin, view.id, 1)  # version 2 exists now
    _both_read_before_either_commits(monkeypatch)  # the first look says "2" again
    cleaned = datasets.apply_steps(admin, view.id, [DropColumns(columns=["day"])])
    assert cleaned.version == 3
    assert (datasets.get_version(admin, view.id, 3).recipe or [{}])[0]["kind"] == "drop_columns"


def test_a_number_that_stays_taken_ends_in_a_clear_conflict_and_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path,
) -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "tips")
    folders_before = set((data_dir / "datasets").iterdir())
    monkeypatch.setattr(datasets, "_next_version", lambda session, dataset_id: 1)
    with pytest.raises(Conflict, match="try again"):
        datasets.apply_steps(admin, view.id, [DropColumns(columns=["day"])])
    assert [v.version for v in datasets.list_versions(admin, view.id)] == [1]
    assert set((data_dir / "datasets").iterdir()) == folders_before
