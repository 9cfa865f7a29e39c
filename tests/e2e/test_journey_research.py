"""Journey 6: add a sample dataset, create a research item with a title, description, tags
and status, write notes, save a chart from Explore to it, open the item, and export it as
an HTML report and a notebook; screenshots, and axe in light and dark mode."""

import io
import json
import re
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, assert_accessible, shoot, wait_for_charts, wait_ready
from tests.e2e.helpers import choose_option, create_first_admin_and_sign_in, open_in_menu

TITLE = "Do penguin bills differ by species?"
NOTES = ("## What we saw\n\n- Gentoo bills look **longest**\n- Check by island next\n\n"
         "<script>alert('x')</script> [a trap](javascript:alert(1))")


def test_research_item_from_notes_to_export(server: Server, page: Page, tmp_path: Path) -> None:
    create_first_admin_and_sign_in(page, server.url)
    wait_ready(page)  # the sign-in cookie's own rerun can show the page twice for a moment
    expect(page.get_by_role("heading", name="My research items").first).to_be_visible()
    expect(page.get_by_text("No research items yet.")).to_be_visible()
    added = page.get_by_text(re.compile("“Palmer penguins” (is ready: 344 rows|was already added)"))
    page.get_by_role("button", name="Add this dataset").first.click()  # Palmer penguins
    wait_ready(page)
    try:
        expect(added).to_be_visible(timeout=10_000)
    except AssertionError:  # the sign-in cookie's own rerun swallowed the click: press again
        page.get_by_role("button", name="Add this dataset").first.click()
        wait_ready(page)
        expect(added).to_be_visible()
    shoot(page, "60_home_sample_added")
    assert_accessible(page, "home with samples")

    open_in_menu(page, "Research")
    expect(page.get_by_role("heading", name="Research", exact=True)).to_be_visible()
    page.get_by_test_id("stExpander").get_by_text("New research item").click()
    page.get_by_role("textbox", name="Title", exact=True).fill(TITLE)
    page.get_by_role("textbox", name="Description", exact=True).fill(
        "Bill length and depth for the three species in the Palmer data.")
    page.get_by_role("textbox", name="Tags", exact=True).fill("penguins, bills")
    choose_option(page, page.get_by_role("combobox", name="Status", exact=True), "Active")
    page.get_by_role("button", name="Create item").click()
    wait_ready(page)
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    assert "research_item?id=" in page.url

    page.get_by_role("button", name="Edit notes").click()
    wait_ready(page)
    page.get_by_role("textbox", name="Notes (Markdown)").fill(NOTES)
    page.get_by_role("button", name="Save notes").click()
    wait_ready(page)
    expect(page.get_by_text("The notes are saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="What we saw")).to_be_visible()
    expect(page.get_by_role("paragraph").filter(
        has_text="<script>alert('x')</script> [a trap](javascript:alert(1))")).to_be_visible()
    assert page.locator("a[href^='javascript']").count() == 0

    open_in_menu(page, "Explore")
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
    page.get_by_role("button", name="Save to research item").click()
    expect(page.get_by_role("combobox", name="Research item")).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text(f"Saved to “{TITLE}”")).to_be_visible()
    page.keyboard.press("Escape")

    open_in_menu(page, "Research")
    expect(page.get_by_text("1–1 of 1 item")).to_be_visible()
    shoot(page, "61_research_list")
    assert_accessible(page, "research list")
    page.get_by_role("link", name=TITLE).click()
    wait_ready(page)
    expect(page.get_by_role("heading", name="Saved charts and answers")).to_be_visible()
    expect(page.get_by_text("Chart from Explore").first).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
    expect(page.get_by_text("No Claude runs on this item yet.")).to_be_visible()
    wait_for_charts(page)  # plotly has finished its layout (a condition, not a fixed sleep)
    shoot(page, "62_research_item")
    page.get_by_role("heading", name="Saved charts and answers").scroll_into_view_if_needed()
    wait_ready(page)
    shoot(page, "62b_research_item_charts")
    assert_accessible(page, "research item")

    with page.expect_download(timeout=180_000) as html_download:
        page.get_by_role("button", name="Report (HTML)").click()
    report = tmp_path / "report.html"
    html_download.value.save_as(report)
    text = report.read_text(encoding="utf-8")
    assert '<html lang="en">' in text and TITLE in text
    assert "<script" not in text and "Data behind" in text
    wait_ready(page)

    with page.expect_download(timeout=120_000) as notebook_download:
        page.get_by_role("button", name="Jupyter notebook (zip)").click()
    archive = tmp_path / "notebook.zip"
    notebook_download.value.save_as(archive)
    names = zipfile.ZipFile(archive).namelist()
    notebook_name = next(n for n in names if n.endswith(".ipynb"))
    book = json.loads(zipfile.ZipFile(io.BytesIO(archive.read_bytes())).read(notebook_name))
    assert book["nbformat"] == 4 and any(n.endswith(".parquet") for n in names)

    report_page = page.context.new_page()  # the report opens on its own, offline
    report_page.goto(report.as_uri())
    expect(report_page.get_by_role("heading", name=TITLE)).to_be_visible()
    shoot(report_page, "63_research_report_html")
    assert_accessible(report_page, "exported HTML report")
    report_page.close()
