"""Live datasets (issue 21): a table of a data source kept as a dataset with no versions,
listed with where it lives, shared like an uploaded one, read by whoever may see it."""

from collections.abc import Iterator

import pytest

from services.access.permissions import Role
from services.access.users import UserView
from services.charts import where
from services.charts.spec import ChartSpec, Filter
from services.data import datasets, live_datasets
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.sources import catalog, door
from services.sources.catalog import SourceView
from tests.factories import make_admin, make_user
from tests.live_source import LiveSource, add_reader_source


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


@pytest.fixture
def source(admin: UserView, live: LiveSource) -> SourceView:
    return add_reader_source(admin, live)


def test_a_live_dataset_is_listed_with_where_it_lives_and_no_versions(
        admin: UserView, source: SourceView) -> None:
    made = live_datasets.create_live_dataset(admin, source.id, "public", "penguins")
    assert made.is_live and made.name == "penguins" and made.versions == 0
    assert made.live is not None and made.live.label == "public.penguins in warehouse"
    listed = {d.id: d for d in datasets.list_datasets(admin)}
    assert listed[made.id].live == made.live and listed[made.id].live.read_at is None
    live_datasets.mark_read(made.id)
    assert datasets.get_dataset(admin, made.id).live.read_at is not None  # type: ignore[union-attr]


def test_shared_live_datasets_are_read_by_viewers_private_ones_are_not(
        admin: UserView, source: SourceView) -> None:
    made = live_datasets.create_live_dataset(admin, source.id, "public", "adelie", name="Adelie")
    viewer = make_user(admin, "vera", Role.VIEWER)
    with pytest.raises(NotFound):
        live_datasets.live_target(viewer, made.id)
    datasets.set_shared(admin, made.id, True)
    target = live_datasets.live_target(viewer, made.id)
    assert target is not None and (target.schema_name, target.table_name) == ("public", "adelie")
    with target.engine.connect() as connection:  # the viewer reads through the source's door
        assert connection.exec_driver_sql('SELECT count(*) FROM public.adelie').scalar() == 152
    with pytest.raises(PermissionDenied):  # but may not add one
        live_datasets.create_live_dataset(viewer, source.id, "public", "penguins")


def test_a_table_that_is_not_there_or_outside_the_schemas_changes_nothing(
        admin: UserView, source: SourceView) -> None:
    before = datasets.list_datasets(admin)
    with pytest.raises(InvalidInput, match="no table or view called “nowhere”"):
        live_datasets.create_live_dataset(admin, source.id, "public", "nowhere")
    with pytest.raises(InvalidInput, match="not one this data source may read"):
        live_datasets.create_live_dataset(admin, source.id, "private_notes", "salaries")
    assert datasets.list_datasets(admin) == before


def test_a_file_dataset_has_no_live_target_and_a_used_source_is_not_removed(
        admin: UserView, source: SourceView) -> None:
    sample = datasets.create_from_sample(admin, "tips")
    assert live_datasets.live_target(admin, sample.id) is None and not sample.is_live
    made = live_datasets.create_live_dataset(admin, source.id, "public", "seattle_weather")
    with pytest.raises(InvalidInput, match="1 live dataset reads from “warehouse”"):
        catalog.remove_source(admin, source.id)
    datasets.delete_dataset(admin, made.id)
    catalog.remove_source(admin, source.id)
    assert catalog.list_sources(admin) == []


def test_a_live_chart_is_grouped_in_the_database_and_marks_the_dataset_read(
        admin: UserView, source: SourceView) -> None:
    made = live_datasets.create_live_dataset(admin, source.id, "public", "penguins")
    target = live_datasets.live_target(admin, made.id)
    assert target is not None
    spec = ChartSpec(chart_type="bar", x="species", agg="count")
    data = where.chart_at(target, spec)
    assert dict(zip(data.frame["x"], data.frame["value"], strict=True)) == {
        "Adelie": 152, "Chinstrap": 68, "Gentoo": 124}
    assert where.count_at(target, [Filter(column="island", op="in", value=["Dream"])]) == 124
    assert where.kinds_at(target)["body_mass_g"] == "number"
    assert datasets.get_dataset(admin, made.id).live.read_at is not None  # type: ignore[union-attr]
