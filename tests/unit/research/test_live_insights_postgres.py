"""A chart or answer saved from a live dataset (issue 21): it names the dataset but no version
(it has none), records where and when its numbers were read, says so in its summary, and
keeps its numbers when the table changes."""

from collections.abc import Iterator
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import create_engine

from services.access.users import UserView
from services.charts.spec import ChartSpec
from services.charts.where import chart_at
from services.data import live_datasets
from services.data.datasets import DatasetView
from services.research import insights, items
from services.research import saved_insights as research
from services.research.items import ItemInput
from services.research.saved_insights import NewInsight, live_facts
from services.sources import door
from tests.factories import make_admin
from tests.live_source import LiveSource, add_reader_source

READ_AT = datetime(2026, 12, 6, 9, 30)


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


def _dataset(admin: UserView, live: LiveSource, table: str) -> DatasetView:
    source = add_reader_source(admin, live)
    return live_datasets.create_live_dataset(admin, source.id, "public", table)


def _save_chart(admin: UserView, dataset: DatasetView, version: int | None) -> int:
    item = items.create_item(admin, ItemInput(title="Islands"))
    target = live_datasets.live_target(admin, dataset.id)
    assert target is not None
    spec = ChartSpec(chart_type="bar", x="island", agg="count")
    data = chart_at(target, spec)
    research.save_insight(admin, NewInsight(
        item_id=item.id, kind="chart", title="Penguins per island", summary="Bar chart.",
        spec={**spec.model_dump(mode="json"), "drawn": {"rows_in": data.rows_in}},
        dataset_id=dataset.id, dataset_version=version, read_at=READ_AT),
        data.display_frame())
    return item.id


@pytest.mark.parametrize("version", [None, 0])
def test_a_live_chart_names_its_table_and_read_time_not_a_version(
        admin: UserView, live: LiveSource, version: int | None) -> None:
    dataset = _dataset(admin, live, "penguins")
    [card] = insights.list_insights(admin, _save_chart(admin, dataset, version))
    assert card.dataset_id == dataset.id and card.dataset_version is None
    assert not card.is_data_gone and card.dataset_name == "penguins"
    assert live_facts(card.spec) == {
        "where": "public.penguins in warehouse", "source_id": dataset.live.source_id,  # type: ignore[union-attr]
        "schema": "public", "table": "penguins", "read_at": "2026-12-06T09:30:00"}
    assert card.summary == ("Bar chart. Read from public.penguins in warehouse on 6 Dec 2026 "
                            "09:30; these numbers are kept as they were then, even if the "
                            "table changes.")
    assert insights.stored_chart_spec(card.spec) == ChartSpec(chart_type="bar", x="island",
                                                              agg="count")


def test_a_saved_live_chart_keeps_its_numbers_when_the_table_changes(
        admin: UserView, live: LiveSource) -> None:
    owner = create_engine(live.server.url(live.database))
    with owner.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS public.changing")
        connection.exec_driver_sql("CREATE TABLE public.changing AS SELECT * FROM penguins")
        connection.exec_driver_sql(f"GRANT SELECT ON public.changing TO {live.reader}")
    dataset = _dataset(admin, live, "changing")
    item_id = _save_chart(admin, dataset, None)
    with owner.begin() as connection:
        connection.exec_driver_sql("DELETE FROM public.changing WHERE island = 'Biscoe'")
    owner.dispose()
    [card] = insights.list_insights(admin, item_id)
    saved = pd.DataFrame(card.data_snapshot)
    assert dict(zip(saved["island"], saved["Count of rows"], strict=True)) == {
        "Biscoe": 168, "Dream": 124, "Torgersen": 52}


def test_an_answer_over_a_live_dataset_records_it_beside_its_own_spec(
        admin: UserView, live: LiveSource) -> None:
    dataset = _dataset(admin, live, "adelie")
    item = items.create_item(admin, ItemInput(title="Answers"))
    research.save_insight(admin, NewInsight(
        item_id=item.id, kind="answer", title="How many?", summary="", spec={"sql": "SELECT 1"},
        dataset_id=dataset.id), pd.DataFrame({"n": [152]}))
    [card] = insights.list_insights(admin, item.id)
    facts = live_facts(card.spec)
    assert facts is not None and facts["where"] == "public.adelie in warehouse"
    assert card.spec["sql"] == "SELECT 1" and card.summary.startswith("Read from ")


def test_a_file_dataset_insight_is_unchanged(admin: UserView) -> None:
    assert live_facts({"chart_type": "bar", "drawn": {"rows_in": 3}}) is None
