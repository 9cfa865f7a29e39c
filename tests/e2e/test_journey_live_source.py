"""Journey: a live PostgreSQL table (issue 21). An admin connects a database on the Admin page
(tested first), adds its penguins table as a live dataset, charts it in Explore, saves the
chart to a research item, asks about it (the fake Claude plans the SQL; the answer's numbers
come from the database), and finally takes a snapshot of it. Only the data source is
PostgreSQL (tests/live_source.py); the app's own store is the embedded DuckDB."""

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from services.sources import door
from tests.e2e.conftest import (
    Server,
    assert_accessible,
    print_log_if_failed,
    shoot,
    start_streamlit,
    stop,
    wait_for_charts,
    wait_ready,
)
from tests.e2e.helpers import (
    choose_option,
    open_in_menu,
    open_signed_in,
    open_tab,
    prepare_data_dir,
)
from tests.fakes.claude_server import FakeClaude
from tests.live_source import LiveSource, make_live_source
from tests.postgres_server import PostgresServer

SPECIES = {"Adelie": 152, "Chinstrap": 68, "Gentoo": 124}
QUESTION = "How many penguins are there of each species?"
COUNT_SQL = ('SELECT "species", count(*) AS "Penguins" FROM "penguins" '
             'GROUP BY 1 ORDER BY 2 DESC')
ITEM = "Penguins in the warehouse"


@pytest.fixture
def live(postgres_server: PostgresServer) -> Iterator[LiveSource]:
    yield make_live_source(postgres_server)
    door.dispose_engines()


@pytest.fixture
def fake() -> Iterator[FakeClaude]:
    """Claude plans one query; its answer is the fake's own, written from the result rows
    the app sends back (so the numbers in it are the database's)."""
    with FakeClaude() as server:
        server.script([{"match": "species", "when_tools": True, "tool_use": {
            "name": "run_sql", "input": {
                "sql": COUNT_SQL,
                "chart": {"chart_type": "bar", "x": "species", "y": "Penguins", "agg": "sum"},
                "explanation": "Counts the penguins of each species."}}}])
        yield server


@pytest.fixture
def live_server(tmp_path: Path, fake: FakeClaude,
                request: pytest.FixtureRequest) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    prepare_data_dir(data_dir)
    started = start_streamlit(data_dir, extra_env={"ANTHROPIC_API_KEY": "sk-test-fake",
                                                   "ANTHROPIC_BASE_URL": fake.base_url})
    yield started
    stop(started)
    print_log_if_failed(request, started)


def _cell(table: Page | Locator, text: str) -> Locator:
    """A cell of a table (st.dataframe draws on a canvas; its cells are also kept in a hidden
    table for screen readers)."""
    return table.locator("td").filter(has_text=re.compile(f"^{re.escape(text)}$"))


def _press_until(page: Page, button: Locator, outcome: Locator) -> None:
    """Press a button and wait for what it does. A click that a rerun in flight swallowed
    did nothing, so it is pressed once more only while its outcome is absent."""
    for attempt in range(3):
        button.click()
        wait_ready(page)
        try:
            expect(outcome).to_be_visible(timeout=15_000 if attempt < 2 else 30_000)
            wait_ready(page)  # the rest of the rerun (links below the message) has arrived
            return
        except AssertionError:
            if attempt == 2:
                raise
            wait_ready(page)  # a slow rerun that did take the click ends before a new press
            if outcome.count():
                return


def _add_source(page: Page, live: LiveSource) -> None:
    open_in_menu(page, "Admin")
    open_tab(page, "Data sources")
    expect(page.get_by_text("No data sources yet")).to_be_visible()
    form = page.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Name", exact=True).fill("warehouse")
    form.get_by_role("textbox", name="Database address (optional)").fill(live.url(live.reader))
    form.get_by_label("Password", exact=True).fill(live.reader_password)
    expect(form.get_by_role("textbox", name="Schemas that may be read")).to_have_value("public")
    connected = page.get_by_text(f"Connected to “{live.database}” as “{live.reader}”: 3 "
                                 "tables and views can be read in public.")
    _press_until(page, form.get_by_role("button", name="Test connection"), connected)
    expect(page.get_by_text("can change data")).to_have_count(0)  # a reader: no warning
    connected.scroll_into_view_if_needed()
    shoot(page, "live_01_source_tested")
    _press_until(page, form.get_by_role("button", name="Add source"),
                 page.get_by_text("Data source “warehouse” added"))
    # the Data sources tab stays open under the message, and the password is not kept
    expect(page.get_by_role("tab", name="Data sources")).to_have_attribute("aria-selected",
                                                                           "true")
    expect(page.get_by_role("tabpanel", name="Data sources").get_by_label(
        "Password", exact=True)).to_have_value("")
    expect(_cell(page.get_by_role("tabpanel", name="Data sources"), "warehouse")
           ).to_be_attached()  # listed


def _add_live_dataset(page: Page) -> None:
    open_in_menu(page, "Datasets")
    open_tab(page, "Add from a database")
    panel = page.get_by_role("tabpanel", name="Add from a database")
    expect(panel.get_by_role("combobox", name="Data source")).to_be_visible()
    choose_option(page, panel.get_by_role("combobox", name="Table or view to add"),
                  "penguins (table, about 344 rows)")
    wait_ready(page)
    expect(panel.get_by_text("Columns of public.penguins:")).to_be_visible()
    columns = panel.get_by_test_id("stDataFrame").nth(1)
    for column in ("species", "island", "body_mass_g"):
        expect(_cell(columns, column)).to_be_attached()
    shoot(page, "live_02_add_from_database")
    assert_accessible(page, "add from a database")
    _press_until(page, panel.get_by_role("button", name="Add as live dataset"),
                 panel.get_by_text("“penguins” is added: it reads public.penguins in "
                                   "warehouse where it lives."))


def _chart_live(page: Page, tmp_path: Path) -> None:
    open_in_menu(page, "Explore")
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value("penguins")
    expect(page.get_by_text("Live: public.penguins in warehouse · read just now")
           ).to_be_visible()
    choose_option(page, page.get_by_role("combobox", name="Chart type", exact=True),
                  "Bar chart")
    wait_ready(page)
    choose_option(page, page.get_by_role("combobox", name="Show", exact=True), "Count of rows")
    wait_ready(page)
    choose_option(page, page.get_by_role("combobox", name="X axis", exact=True), "species")
    wait_ready(page)
    wait_for_charts(page)
    expect(page.locator(".gtitle")).to_have_text("Count of rows by species")
    expect(page.get_by_test_id("stCaptionContainer").get_by_text(
        "Bar chart of count of rows by species: Adelie is highest (152) and Chinstrap lowest "
        "(68), 3 species values.")).to_be_visible()
    expect(page.get_by_text("344 rows in this chart")).to_be_visible()
    page.get_by_text("View the data behind this chart").click()
    expect(page.get_by_test_id("stExpander").get_by_test_id("stDataFrame")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download data (CSV)").click()
    saved = tmp_path / "chart.csv"
    download.value.save_as(saved)
    with saved.open(newline="") as rows:
        counts = {row["species"]: int(row["Count of rows"]) for row in csv.DictReader(rows)}
    assert counts == SPECIES
    wait_ready(page)
    shoot(page, "live_03_explore")
    assert_accessible(page, "explore a live dataset")

    page.get_by_role("button", name="Save to research item").click()
    page.get_by_role("textbox", name="Title of the new item").fill(ITEM)
    page.get_by_role("button", name="Save", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text(f"Saved to “{ITEM}”")).to_be_visible()
    page.keyboard.press("Escape")


def _open_item(page: Page) -> None:
    open_in_menu(page, "Research")
    page.get_by_role("link", name=ITEM).click()
    wait_ready(page)
    expect(page.get_by_role("heading", name=ITEM)).to_be_visible()
    expect(page.get_by_text("Chart from Explore · penguins, from public.penguins in "
                            "warehouse, read ")).to_be_visible()
    wait_for_charts(page)
    shoot(page, "live_04_research_item")


def _ask(page: Page, fake: FakeClaude) -> None:
    open_in_menu(page, "Ask")
    expect(page.get_by_test_id("stMultiSelect").get_by_text(
        "penguins (live: public.penguins in warehouse)")).to_be_visible()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(QUESTION)
    box.press("Enter")
    wait_ready(page)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(answer.get_by_text("The result has 3 rows. The top row is species Adelie, "
                              "Penguins 152.")).to_be_visible(timeout=30_000)
    table = answer.get_by_test_id("stDataFrame")
    for name, count in SPECIES.items():  # the rows as read from PostgreSQL
        row = table.locator("tr").filter(has=_cell(page, name))
        expect(_cell(row, str(count))).to_be_attached()
    expect(answer.get_by_test_id("stPlotlyChart")).to_be_visible()
    answered = [r["body"] for r in fake.message_requests if not r["body"].get("tools")]
    sent = str(answered[-1]["messages"])  # the rows the app read from PostgreSQL
    assert all(f'"{name}", {count}' in sent or f'["{name}",{count}]' in sent
               for name, count in SPECIES.items()), sent
    wait_for_charts(page)
    shoot(page, "live_05_ask")


def _snapshot(page: Page) -> None:
    open_in_menu(page, "Datasets")
    page.get_by_role("link", name="penguins", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text("Reads public.penguins in warehouse where it lives · last read")
           ).to_be_visible()
    expect(page.get_by_role("link", name="Chart it in Explore")).to_be_visible()
    ready = page.get_by_text("“penguins (snapshot")
    _press_until(page, page.get_by_role("button", name="Take a snapshot"), ready)
    expect(page.get_by_text("a snapshot of 344 rows and 8 columns")).to_be_visible()
    expect(page.get_by_role("link", name="Open “penguins (snapshot)”")).to_be_visible()
    page.mouse.move(0, 0)  # the button's tooltip would cover the page's first lines
    shoot(page, "live_06_snapshot")
    page.get_by_role("link", name="Open “penguins (snapshot)”").click()
    wait_ready(page)
    rows = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text("Rows", exact=True))
    expect(rows.get_by_test_id("stMetricValue")).to_have_text("344")
    expect(page.get_by_text("A copy of public.penguins in warehouse, taken ")).to_be_visible()
    shoot(page, "live_07_snapshot_dataset")


def test_live_source_journey(live_server: Server, live: LiveSource, fake: FakeClaude,
                             page: Page, tmp_path: Path) -> None:
    open_signed_in(page, live_server.url)
    _add_source(page, live)
    _add_live_dataset(page)
    _chart_live(page, tmp_path)
    _open_item(page)
    _ask(page, fake)
    _snapshot(page)
