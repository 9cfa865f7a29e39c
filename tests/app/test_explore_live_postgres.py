"""AppTest (issue 21): Explore on a live dataset, read where it lives in a real PostgreSQL:
a "Live" line instead of the version menu, chart, filters, table and statistics through
services.charts.where, numbers kept a minute until "Read again", links without a version,
a saved chart that keeps its numbers, and a source that is down in one sentence."""

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, update
from streamlit.testing.v1 import AppTest

from services.access.permissions import Role
from services.access.users import UserView
from services.charts.spec import ChartSpec, Filter, spec_to_query_params
from services.data import datasets, live_datasets
from services.data.datasets import DatasetView
from services.research import insights, items
from services.research.saved_insights import live_facts
from services.sources import door
from services.store.db import session_scope
from services.store.models import DataSource, utcnow
from tests.app.helpers import all_text, as_read, open_page, sign_in
from tests.factories import make_admin, make_user
from tests.live_source import LiveSource, add_reader_source

PAGE = "pages/explore.py"
SPECIES = ChartSpec(chart_type="bar", x="species", agg="count")


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


def _penguins(admin: UserView, live: LiveSource, table: str = "penguins") -> DatasetView:
    source = add_reader_source(admin, live)
    return live_datasets.create_live_dataset(admin, source.id, "public", table)


def _explore(params: dict[str, str]) -> AppTest:
    at = sign_in("ada")
    at.query_params.update(params)
    open_page(at, PAGE)
    assert not at.exception, at.exception
    return at


def _param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def test_a_live_dataset_charts_with_a_live_line_and_links_without_a_version(
        admin: UserView, live: LiveSource) -> None:
    dataset = _penguins(admin, live)
    at = _explore({"dataset": str(dataset.id), **spec_to_query_params(SPECIES)})
    text = all_text(at)
    assert "Live: public.penguins in warehouse · read just now" in text
    assert not [s for s in at.selectbox if s.label == "Version"]
    assert "**344** rows in this chart." in text
    assert at.get("plotly_chart"), "no chart on the page"
    behind = next(d.value for d in at.dataframe if "species" in d.value.columns)
    assert dict(zip(behind["species"], behind["Count of rows"], strict=True)) == {
        "Adelie": 152, "Chinstrap": 68, "Gentoo": 124}
    assert "Bar chart of" in text  # the summary sentence is unchanged
    assert _param(at, "dataset") == str(dataset.id) and _param(at, "version") is None


def test_live_filters_offer_common_values_and_ranges_and_the_link_keeps_them(
        admin: UserView, live: LiveSource) -> None:
    dataset = _penguins(admin, live)
    at = _explore({"dataset": str(dataset.id), **spec_to_query_params(SPECIES)})
    at.selectbox(key="explore_f_column").select("species").run()  # common values, read live
    assert at.multiselect(key="explore_f_values_species").options == [
        "Adelie", "Gentoo", "Chinstrap"]
    at.multiselect(key="explore_f_values_species").select("Adelie").run()
    at.button(key="explore_f_add").click().run()
    assert not at.exception, at.exception
    assert "**152** of 344 rows in this chart after filtering." in all_text(at)
    at.selectbox(key="explore_f_column").select("bill_length_mm").run()  # a range, read live
    assert [n.value for n in at.number_input if n.label in ("From", "To")] == [32.1, 59.6]
    filters = _param(at, "filters") or ""
    assert "Adelie" in filters
    linked = _explore({"dataset": str(dataset.id), "filters": filters,
                       **spec_to_query_params(SPECIES)})
    assert "**152** of 344 rows" in all_text(linked)  # the share link opens the same chart


def test_the_table_and_statistics_tabs_of_a_live_dataset(admin: UserView,
                                                         live: LiveSource) -> None:
    dataset = _penguins(admin, live)
    spec = SPECIES.model_copy(update={"filters": [
        Filter(column="species", op="in", value=["Adelie"])]})
    at = _explore({"dataset": str(dataset.id), **spec_to_query_params(spec)})
    at.session_state["explore_tab"] = "Table"
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "species" in d.value.columns)
    assert list(table["species"]) == ["Adelie"] and list(table["Count of rows"]) == [152]
    at.session_state["explore_tab"] = "Statistics"
    at.run()
    assert not at.exception, at.exception
    assert "From all 344 rows of the live table, read" in all_text(at)
    assert at.get("image"), "no statistics figure"


def test_live_numbers_are_kept_a_minute_until_read_again(admin: UserView,
                                                         live: LiveSource) -> None:
    owner = create_engine(live.server.url(live.database))
    with owner.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS public.counted")
        connection.exec_driver_sql("CREATE TABLE public.counted AS SELECT * FROM penguins")
        connection.exec_driver_sql(f"GRANT SELECT ON public.counted TO {live.reader}")
    dataset = _penguins(admin, live, "counted")
    at = _explore({"dataset": str(dataset.id)})
    assert "**344** rows in this chart." in all_text(at)
    with owner.begin() as connection:
        connection.exec_driver_sql("DELETE FROM public.counted WHERE species = 'Gentoo'")
    owner.dispose()
    at.run()
    assert "**344** rows in this chart." in all_text(at)  # kept: read less than a minute ago
    at.button(key="explore_read_again").click().run()
    assert not at.exception, at.exception
    assert "**220** rows in this chart." in all_text(at)


def test_a_saved_live_chart_names_its_table_and_keeps_its_numbers(
        admin: UserView, live: LiveSource) -> None:
    dataset = _penguins(admin, live)
    item = items.create_item(admin, items.ItemInput(title="Penguin counts"))
    spec = ChartSpec(chart_type="bar", x="island", agg="count",
                     filters=[Filter(column="species", op="in", value=["Adelie"])])
    at = _explore({"dataset": str(dataset.id), **spec_to_query_params(spec)})
    at.button(key="explore_save_save").click().run()
    assert not at.exception, at.exception
    assert "Saved to “Penguin counts”" in all_text(at)
    [card] = insights.list_insights(admin, item.id)
    assert card.dataset_id == dataset.id and card.dataset_version is None
    assert not card.is_data_gone
    facts = live_facts(card.spec)
    assert facts is not None and facts["where"] == "public.penguins in warehouse"
    assert "Read from public.penguins in warehouse on " in card.summary
    assert {r["island"]: r["Count of rows"] for r in card.data_snapshot} == {
        "Biscoe": 44, "Dream": 56, "Torgersen": 52}
    assert insights.stored_chart_spec(card.spec) is not None  # still drawn from its numbers


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_source_that_is_down_is_one_sentence(admin: UserView, live: LiveSource) -> None:
    dataset = _penguins(admin, live)
    with session_scope(write=True) as session:
        row = session.get(DataSource, dataset.live.source_id)  # type: ignore[union-attr]
        session.execute(update(DataSource).where(DataSource.id == row.id).values(
            url=row.url.replace(f":{live.server.port}/", f":{_dead_port()}/"),
            updated_at=utcnow()))
    at = _explore({"dataset": str(dataset.id)})
    errors = [as_read(e.value) for e in at.error]
    assert len(errors) == 1 and "be reached" in errors[0], errors
    assert not at.get("plotly_chart")
    assert "Live: public.penguins in warehouse" in all_text(at)
    assert at.button(key="explore_read_again") is not None


def test_a_viewer_explores_a_shared_live_dataset_but_not_a_private_one(
        admin: UserView, live: LiveSource) -> None:
    dataset = _penguins(admin, live)
    make_user(admin, "vera", Role.VIEWER)
    at = sign_in("vera")
    at.query_params.update({"dataset": str(dataset.id)})
    open_page(at, PAGE)
    assert not at.exception, at.exception
    assert "is not shared with you" in all_text(at) and not at.get("plotly_chart")
    datasets.set_shared(admin, dataset.id, True)
    at = sign_in("vera")
    at.query_params.update({"dataset": str(dataset.id)})
    open_page(at, PAGE)
    assert not at.exception, at.exception
    assert "Live: public.penguins in warehouse" in all_text(at) and at.get("plotly_chart")
    assert not [p for p in at.get("popover") if "Save to research item" in str(p.proto)]
