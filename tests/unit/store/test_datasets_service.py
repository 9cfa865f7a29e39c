"""Dataset records: visibility, ownership, versions, restore, delete — and bad input."""

from pathlib import Path

import pytest

from services.access.permissions import Role
from services.data import datasets, profile
from services.data.dataset_models import Impute, ParseNumber
from services.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import make_admin, make_user


def _csv(tmp_path: Path, text: str, name: str = "sales.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SALES = "region;amount\nNorth;1.234,50 €\nSouth;\nEast;10,00 €\nWest;3,5 €\n"


def test_upload_creates_a_private_dataset_visible_only_to_its_owner(tmp_path: Path) -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    view, result = datasets.create_from_upload(
        ana, _csv(tmp_path, SALES), original_name="sales.csv"
    )
    assert (view.name, view.rows, view.columns, view.versions) == ("sales", 4, 2, 1)
    assert result.parquet_path.exists()
    assert [d.id for d in datasets.list_datasets(ana)] == [view.id]
    assert datasets.list_datasets(bob) == []
    with pytest.raises(NotFound):
        datasets.get_dataset(bob, view.id)
    datasets.set_shared(ana, view.id, True)
    assert [d.id for d in datasets.list_datasets(bob)] == [view.id]
    with pytest.raises(PermissionDenied):
        datasets.update_details(bob, view.id, name="mine now", description="")


def test_viewer_cannot_upload_or_change(tmp_path: Path) -> None:
    admin = make_admin()
    viewer = make_user(admin, "vic", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        datasets.create_from_upload(viewer, _csv(tmp_path, SALES), original_name="s.csv")
    with pytest.raises(PermissionDenied):
        datasets.create_from_sample(viewer, "tips")


def test_bad_upload_leaves_no_record_and_no_files(tmp_path: Path, data_dir: Path) -> None:
    admin = make_admin()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        datasets.create_from_upload(admin, empty, original_name="empty.csv")
    assert datasets.list_datasets(admin) == []
    assert not any((data_dir / "datasets").rglob("*.parquet"))


def test_blank_name_is_refused(tmp_path: Path) -> None:
    admin = make_admin()
    view, _ = datasets.create_from_upload(admin, _csv(tmp_path, SALES), original_name="s.csv")
    with pytest.raises(InvalidInput, match="name"):
        datasets.update_details(admin, view.id, name="   ", description="")
    assert datasets.get_dataset(admin, view.id).name == "s"


def test_cleaning_makes_new_versions_and_restore_brings_old_data_back(tmp_path: Path) -> None:
    admin = make_admin()
    view, _ = datasets.create_from_upload(admin, _csv(tmp_path, SALES), original_name="s.csv")
    first = datasets.get_version(admin, view.id)
    amount_type = profile.profile_dataset(first.parquet_path).columns[1].dtype
    steps = [] if amount_type == "number" else [ParseNumber(column="amount", decimal=",")]
    steps.append(Impute(column="amount", method="median"))
    second = datasets.apply_steps(admin, view.id, steps)
    assert second.version == 2 and second.recipe and "median" in second.note.lower()
    assert second.recipe_sql.strip()
    cleaned = profile.profile_dataset(second.parquet_path)
    assert cleaned.columns[1].missing == 0
    assert first.parquet_path.exists()  # the old version is untouched
    restored = datasets.restore_version(admin, view.id, 1)
    assert restored.version == 3
    assert profile.profile_dataset(restored.parquet_path).columns[1].missing == 1
    assert [v.version for v in datasets.list_versions(admin, view.id)] == [3, 2, 1]
    assert datasets.get_dataset(admin, view.id).current_version == 3


def test_delete_removes_files_and_only_owner_or_admin_may(tmp_path: Path) -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    view, result = datasets.create_from_upload(ana, _csv(tmp_path, SALES), original_name="s.csv")
    datasets.set_shared(ana, view.id, True)
    with pytest.raises(PermissionDenied):
        datasets.delete_dataset(bob, view.id)
    datasets.delete_dataset(admin, view.id)
    assert datasets.list_datasets(ana) == []
    assert not result.parquet_path.exists()


def test_sample_dataset() -> None:
    admin = make_admin()
    view = datasets.create_from_sample(admin, "tips")
    assert view.rows == 244 and view.columns >= 7


def test_crash_leftovers_are_removed_but_finished_versions_kept(tmp_path: Path) -> None:
    import os

    admin = make_admin()
    view, result = datasets.create_from_upload(admin, _csv(tmp_path, SALES), original_name="s.csv")
    leftover = result.parquet_path.parent / ".abc.parquet.tmp"
    leftover.write_bytes(b"half a file")
    os.utime(leftover, (0, 0))
    assert datasets.remove_partial_files() == 1
    assert not leftover.exists()
    assert result.parquet_path.exists()
    assert datasets.get_dataset(admin, view.id).rows == 4


def test_a_version_that_blanked_unreadable_values_says_how_many_in_its_history(
    tmp_path: Path,
) -> None:
    """The page asks before blanking; the version's own record says it too, so whoever
    opens the history later (or a caller that never saw the question) learns the count."""
    admin = make_admin()
    text = "k;v\n" + "".join(f"k{i};{v}\n" for i, v in enumerate(
        ["1.000", "2.500", "n/d", "3.000", "soon", "4.000", "NA"]))
    view, _ = datasets.create_from_upload(admin, _csv(tmp_path, text, "p.csv"),
                                          original_name="p.csv")
    cleaned = datasets.apply_steps(admin, view.id, [ParseNumber(column="v", decimal=",")])
    assert "2 values could not be read and became missing" in cleaned.note  # not the NA
    tidy = datasets.apply_steps(admin, view.id, [Impute(column="v", method="median")])
    assert "could not be read" not in tidy.note
