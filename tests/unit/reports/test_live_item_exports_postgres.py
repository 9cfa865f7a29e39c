"""Research items with a chart and an answer from a live dataset (issue 21): the item keeps
the numbers read when they were saved and says where they came from; HTML and Markdown show
the chart with its source line; the notebook reads the live table in its database with an
address the reader gives (never the stored password) and gets the same numbers."""

import html
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from services.access.permissions import Role
from services.access.users import UserView
from services.charts import where
from services.charts.spec import ChartSpec, Filter
from services.data import datasets, live_datasets
from services.reports import html_report, item_export, markdown_report
from services.reports.bundle import Picture, load_export, source_sentence
from services.reports.insight_figure import draw, explore_insight_spec
from services.research import insights, items
from services.research import saved_insights as research
from services.research.items import ItemInput
from services.research.saved_insights import NewInsight
from services.sources import door
from tests.factories import make_admin, make_user
from tests.live_source import LiveSource, add_reader_source
from tests.unit.reports.test_exports import PNG, _printed, _run

ANSWER_SQL = ("SELECT species, COUNT(*) AS penguins, AVG(body_mass_g) AS mean_mass\n"
              "FROM penguins\nGROUP BY species\nORDER BY species")
WHERE = "from public.penguins in warehouse, read "


@dataclass
class LiveItem:
    owner: UserView
    item_id: int
    dataset_id: int
    chart: pd.DataFrame


def save_live_chart(owner: UserView, item_id: int, dataset_id: int, spec: ChartSpec,
                    title: str) -> pd.DataFrame:
    """What Explore saves for a live chart: the dataset (no version) and the numbers."""
    target = live_datasets.live_target(owner, dataset_id)
    assert target is not None
    data = where.chart_at(target, spec)
    frame = data.display_frame()
    research.save_insight(owner, NewInsight(
        item_id=item_id, kind="chart", title=title, summary=f"{title}, as a chart.",
        spec=explore_insight_spec(spec, data, len(frame)), dataset_id=dataset_id,
        dataset_version=None), frame)
    return frame


@pytest.fixture
def story(live: LiveSource) -> Iterator[LiveItem]:
    admin = make_admin()
    source = add_reader_source(admin, live)
    dataset = live_datasets.create_live_dataset(admin, source.id, "public", "penguins")
    datasets.set_shared(admin, dataset.id, True)
    item = items.create_item(admin, ItemInput(title="Live penguins", visibility="shared"))
    chart = save_live_chart(admin, item.id, dataset.id, ChartSpec(
        chart_type="bar", x="species", y="bill_length_mm", agg="mean",
        filters=[Filter(column="island", op="in", value=["Biscoe", "Dream"])]),
        "Mean bill length by species")
    target = live_datasets.live_target(admin, dataset.id)
    assert target is not None
    with target.engine.connect() as connection:
        answer = pd.read_sql_query(ANSWER_SQL, connection)
    research.save_insight(admin, NewInsight(
        item_id=item.id, kind="answer", title="How heavy is each species?",
        summary="Gentoo penguins are the heaviest.",
        spec={"question": "How heavy is each species?", "sql": ANSWER_SQL,
              "tables": {"penguins": "penguins"}, "row_count": 3},
        dataset_id=dataset.id), answer)
    weather = live_datasets.create_live_dataset(admin, source.id, "public", "seattle_weather")
    save_live_chart(admin, item.id, weather.id, ChartSpec(
        chart_type="scatter", x="temp_max", y="precipitation"), "Rain and warmth")
    yield LiveItem(admin, item.id, dataset.id, chart)
    door.dispose_engines()


def test_a_live_insight_says_where_it_was_read_and_keeps_its_numbers(
        story: LiveItem) -> None:
    cards = insights.list_insights(story.owner, story.item_id)
    chart = cards[0]
    assert chart.live is not None and not chart.is_data_gone and chart.data_version is None
    assert chart.parquet_path is None
    assert WHERE in source_sentence(chart)
    drawn = draw(chart)  # from the saved numbers: the table may change, the item does not
    assert drawn.figure is not None and not drawn.note
    pd.testing.assert_frame_equal(drawn.table.reset_index(drop=True),
                                  story.chart.reset_index(drop=True), check_dtype=False)
    linked = insights.linked_datasets(story.owner, story.item_id)
    assert [(d.versions, d.live is not None) for d in linked] == [([], True), ([], True)]


def test_html_and_markdown_show_the_live_chart_and_its_source_line(story: LiveItem) -> None:
    export = load_export(story.owner, story.item_id)
    chart_id = export.insights[0].id
    picture = {chart_id: Picture(png=PNG, alt="Gentoo is longest")}
    page = html_report.build_html(export, picture).decode()
    assert page.count(WHERE) == 2 and 'alt="Gentoo is longest"' in page
    # a live chart bigger than an item keeps is not read again: the item stays as saved
    assert ("A random sample of 1,000 of its 1,461 rows, as saved with the chart (an item "
            "keeps at most 1,000 rows of a chart); it was read from public.seattle_weather "
            "in warehouse, which is not read again, so the item stays as it was saved.") \
        in html.unescape(page)
    assert "Gentoo" in page and "its dataset is not shared" not in page
    archive = zipfile.ZipFile(io.BytesIO(markdown_report.build_markdown_zip(export, picture)))
    report = archive.read("report.md").decode()
    assert report.count(WHERE) == 2
    assert "![Gentoo is longest](images/001-mean-bill-length-by-species.png)" in report


def test_the_notebook_reads_the_live_table_with_the_readers_address(
        story: LiveItem, live: LiveSource, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    zip_bytes = item_export.notebook_bytes(story.owner, story.item_id)
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    assert not any(n.endswith(".parquet") for n in archive.namelist())
    text = archive.read(next(n for n in archive.namelist() if n.endswith(".ipynb"))).decode()
    assert live.reader_password not in text and "RESEARCH_DESK_SOURCE_URL" in text
    assert f"{live.reader}@127.0.0.1:{live.server.port}/{live.database}" in text  # default
    monkeypatch.setenv("RESEARCH_DESK_SOURCE_URL",
                       live.url(live.reader, live.reader_password))
    book = _run(zip_bytes, tmp_path)
    printed = _printed(book)
    # the chart's grouping and the answer's SQL, run in PostgreSQL by the notebook, give
    # the numbers the app saved
    assert printed.count("3 of 3 saved rows match the numbers computed here.") == 2, printed
    # the scatter's saved sample: every point is among the points the database gives
    assert "1,000 of 1,000 saved rows match the rows computed here." in printed, printed
    assert all(o.get("output_type") != "error" for c in book.cells if c.cell_type == "code"
               for o in c.get("outputs", []))
    sources = "\n".join(c.source for c in book.cells)
    assert "read_from(db_warehouse, sql)" in sources and "con.sql(sql)" not in sources


def test_a_viewer_gets_no_address_and_a_source_that_is_down_uses_saved_numbers(
        story: LiveItem) -> None:
    viewer = make_user(story.owner, "vic", Role.VIEWER)
    text = notebook_text(item_export.notebook_bytes(viewer, story.item_id))
    assert "postgresql://user@host:5432/database" in text and "127.0.0.1" not in text
    door.dispose_engines()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("services.charts.live.table_columns", _down)
        zip_bytes = item_export.notebook_bytes(story.owner, story.item_id)
    text = notebook_text(zip_bytes)
    assert "its database could not be read when this was exported" in text
    assert "read_from(" not in text and "read_saved(DATA / " in text


def _down(*_: object) -> None:
    from services.errors import QueryFailed

    raise QueryFailed("The database could not be reached; try again in a moment.")


def notebook_text(zip_bytes: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    return archive.read(next(n for n in archive.namelist() if n.endswith(".ipynb"))).decode()


def test_a_live_insight_stored_with_version_0_is_not_taken_for_deleted_data(
        story: LiveItem) -> None:
    from sqlalchemy import update

    from services.store.db import session_scope
    from services.store.models import Insight

    with session_scope(write=True) as session:  # a live dataset's "current version" is 0
        session.execute(update(Insight).where(Insight.item_id == story.item_id)
                        .values(dataset_version=0))
    cards = insights.list_insights(story.owner, story.item_id)
    assert all(c.live is not None and not c.is_data_gone for c in cards)
    assert [d.versions for d in insights.linked_datasets(story.owner, story.item_id)] \
        == [[], []]
    assert WHERE in source_sentence(cards[0]) and "version" not in source_sentence(cards[0])
