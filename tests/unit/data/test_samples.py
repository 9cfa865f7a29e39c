"""The bundled sample datasets: real files, added in one click as shared datasets."""

import pytest

from services.access.permissions import Role
from services.data import datasets, samples
from services.data.samples import SAMPLES, SAMPLES_DIR, list_samples
from services.errors import InvalidInput, PermissionDenied
from tests.factories import make_admin, make_user


def test_every_sample_file_is_present_small_and_documented() -> None:
    readme = (SAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    assert [s.key for s in list_samples()] == [s.key for s in SAMPLES]
    for sample in SAMPLES:
        assert sample.path.stat().st_size < 1_000_000
        assert f"`{sample.file_name}`" in readme


@pytest.mark.parametrize(("key", "rows", "columns"), [
    ("penguins", 344, 8), ("seattle-weather", 1461, 6), ("cars", 406, 9)])
def test_adding_a_sample_makes_a_shared_dataset_once(key: str, rows: int, columns: int) -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    view, is_new = samples.add_sample(ana, key)
    assert is_new and (view.rows, view.columns, view.visibility) == (rows, columns, "shared")
    assert [d.id for d in datasets.list_datasets(bob)] == [view.id]
    again, is_new = samples.add_sample(bob, key)  # already there: opened, not added twice
    assert again.id == view.id and not is_new
    assert len(datasets.list_datasets(bob)) == 1


def test_samples_keep_their_missing_values_and_dates() -> None:
    ana = make_user(make_admin(), "ana")
    cars, _ = samples.add_sample(ana, "cars")
    version = datasets.get_version(ana, cars.id)
    import duckdb

    missing = duckdb.sql(f"SELECT COUNT(*) - COUNT(Miles_per_Gallon) FROM "
                         f"read_parquet('{version.parquet_path}')").fetchall()[0]
    assert missing == (8,)
    weather, _ = samples.add_sample(ana, "seattle-weather")
    span = duckdb.sql(f"SELECT MIN(date)::VARCHAR, MAX(date)::VARCHAR FROM read_parquet("
                      f"'{datasets.get_version(ana, weather.id).parquet_path}')").fetchall()[0]
    assert span == ("2012-01-01", "2015-12-31")


def test_viewers_cannot_add_samples_and_unknown_ones_are_refused() -> None:
    admin = make_admin()
    viewer = make_user(admin, "vic", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        samples.add_sample(viewer, "penguins")
    with pytest.raises(InvalidInput, match="no sample dataset called"):
        samples.add_sample(admin, "../../etc/passwd")
    assert datasets.list_datasets(admin) == []
