"""Exports of charts on two datasets whose names slug alike, with columns named like
formulas, and a scatter bigger than an item keeps: the notebook runs and every check
matches; each export says exactly which rows it shows and why (issues 18.13 and 19.2)."""

import html
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from services.access.users import UserView
from services.charts.aggregate import literal_condition
from services.charts.spec import ChartSpec, Filter
from services.data import datasets
from services.reports import html_report, item_export, markdown_report, notebook
from services.reports.bundle import load_export
from services.research import insights, items
from services.research.items import ItemInput
from tests.factories import make_admin, make_user
from tests.unit.reports.conftest import save_chart
from tests.unit.reports.test_exports import _printed, _run

POINTS = 1_704
BIG = "Sales 2024"
SMALL = "Sales (2024)"  # slugs to the same "sales-2024" as BIG


class Shop:
    def __init__(self, owner: UserView, item_id: int, big: int, small: int,
                 big_frame: pd.DataFrame) -> None:
        self.owner, self.item_id, self.big, self.small = owner, item_id, big, small
        self.big_frame = big_frame


def _sales(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "-region": [("=North", "South", "@East")[i % 3] for i in range(rows)],
        "=profit": np.round(rng.normal(100, 30, rows), 2),
        "@store": [("a", "b")[i % 2] for i in range(rows)],
        "+qty": rng.integers(1, 9, rows),
    })


def _upload(owner: UserView, folder: Path, frame: pd.DataFrame, name: str) -> int:
    path = folder / f"{len(list(folder.iterdir()))}.csv"
    frame.to_csv(path, index=False)
    dataset, _ = datasets.create_from_upload(owner, path, original_name="sales.csv", name=name)
    return dataset.id


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    ana = make_user(make_admin(), "ana")
    folder = tmp_path / "uploads"
    folder.mkdir()
    big_frame = _sales(POINTS, seed=1)
    big = _upload(ana, folder, big_frame, BIG)
    small = _upload(ana, folder, _sales(60, seed=2), SMALL)
    item = items.create_item(ana, ItemInput(title="Umsatz Übersicht 研究 ☃"))
    save_chart(ana, item.id, big, ChartSpec(
        chart_type="bar", x="-region", y="=profit", agg="sum", color="@store",
        filters=[Filter(column="+qty", op="between", value=[2, None])]), "Profit by region")
    save_chart(ana, item.id, small, ChartSpec(
        chart_type="bar", x="-region", y="=profit", agg="mean",
        filters=[Filter(column="@store", op="in", value=["a"])]), "Mean profit, store a")
    save_chart(ana, item.id, big, ChartSpec(chart_type="scatter", x="=profit", y="+qty"),
               "Profit and quantity")
    return Shop(ana, item.id, big, small, big_frame)


def test_a_big_chart_saves_a_random_sample_not_its_lowest_x(shop: Shop) -> None:
    scatter = insights.list_insights(shop.owner, shop.item_id)[2]
    saved = scatter.snapshot_frame()
    assert len(saved) == 1_000 and scatter.spec["drawn"]["saved_cut"] == "sample"
    # the lowest 1,000 by x stop near the middle; a sample reaches the top tenth
    assert saved["=profit"].max() > shop.big_frame["=profit"].quantile(0.9)
    assert saved["=profit"].is_monotonic_increasing  # still in the chart's order


def test_the_notebook_of_lookalike_datasets_and_formula_names_checks_out(
        shop: Shop, tmp_path: Path) -> None:
    zip_bytes = item_export.notebook_bytes(shop.owner, shop.item_id)
    names = zipfile.ZipFile(io.BytesIO(zip_bytes)).namelist()
    parquets = sorted(n for n in names if n.endswith(".parquet"))
    assert parquets == ["data/sales-2024-v1-dataset-2.parquet", "data/sales-2024-v1.parquet"]
    book = _run(zip_bytes, tmp_path)
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    printed = _printed(book)
    checks = re.findall(r"([\d,]+) of ([\d,]+) saved rows match", printed)
    assert len(checks) == 3 and all(a == b and a != "0" for a, b in checks), printed
    assert (f"{POINTS:,}", f"{POINTS:,}") in checks  # every point of the scatter
    # the filters are written by Explore's own code, not a copy of it
    sources = "\n".join(c.source for c in book.cells)
    version = datasets.get_version(shop.owner, shop.big)
    from services.data.sql_names import read_columns
    columns = {c.name: (c.sql_name, c.duckdb_type)
               for c in read_columns(Path(version.parquet_path))}
    condition = literal_condition([Filter(column="+qty", op="between", value=[2, None])],
                                  columns)
    assert condition in sources and "= ANY([" in sources and " IN (" not in sources


def _scatter_sentence(export_text: str) -> str:
    found = re.search(r"All 1,704 rows of the chart's data[^<\n]*", export_text)
    assert found, export_text[:2000]
    return found.group(0)


EXPECTED = ("All 1,704 rows of the chart's data, computed again from “Sales 2024” version 1, "
            "because the item saved only a random sample of 1,000 of its 1,704 rows (an item "
            "keeps at most 1,000 rows of a chart).")


def test_every_export_says_which_rows_it_shows(shop: Shop) -> None:
    export = load_export(shop.owner, shop.item_id)
    page = html.unescape(html_report.build_html(export).decode())
    assert _scatter_sentence(page).startswith(EXPECTED)
    assert "(the first 200 of these 1,704 rows)" in page
    assert "All 6 rows of the chart's data, as saved with it." in page  # the bar chart
    packed = zipfile.ZipFile(io.BytesIO(markdown_report.build_markdown_zip(export)))
    report = packed.read("report.md").decode()
    assert _scatter_sentence(report).replace("\\", "").startswith(EXPECTED)
    assert "All rows" not in report.replace("All 1,704 rows", "").replace("All 6 rows", "")
    assert "The data file has these 1,704 rows" in report
    assert len(pd.read_csv(io.BytesIO(packed.read("data/003-profit-and-quantity.csv")))) \
        == POINTS
    book = notebook.build_notebook(export)
    heading = next(c.source for c in book.cells if "Profit and quantity" in c.source
                   and c.cell_type == "markdown")
    assert EXPECTED in heading.replace("\\", "")
    sheet = zipfile.ZipFile(io.BytesIO(notebook.build_notebook_zip(export)))
    rows = json.loads(sheet.read("data/saved/003-profit-and-quantity.json"))
    assert len(rows) == POINTS and "=profit" in rows[0]


def test_without_its_dataset_an_export_says_it_shows_the_saved_sample(shop: Shop) -> None:
    datasets.delete_dataset(shop.owner, shop.big)
    export = load_export(shop.owner, shop.item_id)
    page = html.unescape(html_report.build_html(export).decode())
    assert ("A random sample of 1,000 of its 1,704 rows, as saved with the chart (an item "
            "keeps at most 1,000 rows of a chart); its dataset was deleted, so the rest cannot "
            "be computed again.") in page
    assert "(the first 200 of these 1,000 rows)" in page
    report = zipfile.ZipFile(io.BytesIO(markdown_report.build_markdown_zip(export))).read(
        "report.md").decode()
    assert "The data file has these 1,000 rows" in report


def test_an_answer_cut_to_fit_says_it_shows_its_first_rows() -> None:
    from services.research import saved_insights as research
    from services.research.saved_insights import NewInsight

    ana = make_user(make_admin(), "ana")
    item = items.create_item(ana, ItemInput(title="Batch"))
    research.save_insight(ana, NewInsight(  # a prompt batch's results name no row count
        item_id=item.id, kind="answer", title="Batch 7 results", summary="",
        spec={"batch_job_id": 7}), pd.DataFrame({"n": range(1_500)}))
    export = load_export(ana, item.id)
    page = html.unescape(html_report.build_html(export).decode())
    assert ("The first 1,000 of the answer's 1,500 result rows: only these were saved with "
            "it.") in page
    assert "(the first 200 of these 1,000 rows)" in page
    assert export.rows[export.insights[0].id].frame["n"].tolist() == list(range(1_000))
