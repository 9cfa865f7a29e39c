"""Journey: a new user builds a board from Explore (three charts on two datasets) and a number,
filters it by a date range typed from the keyboard, cross-filters from a bar, presents it
(one tile, then the whole board), downloads it as HTML, shares it and a viewer opens its
link; the board and its Present screens pass axe in light and dark mode."""

import html as html_text
import re
import time
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import Server, assert_accessible, shoot, wait_for_charts, wait_ready
from tests.e2e.helpers import (
    add_person,
    choose_option,
    create_first_admin_and_sign_in,
    open_in_menu,
    open_signed_in,
    open_tab,
)

BOARD = "Weekly review"
VIEWER_PASSWORD = "amber-lighthouse-63"
WEATHER = "Seattle weather 2012–2015"


def _choose(page: Page, label: str, option: str) -> None:
    choose_option(page, page.get_by_role("combobox", name=label, exact=True), option)
    wait_ready(page)


def _add_sample(page: Page, key: str) -> None:
    open_tab(page, "Try a sample dataset")
    page.locator(f".st-key-datasets_sample_{key}").get_by_role(
        "button", name="Add this dataset").click()
    wait_ready(page)


def _add_to_board(page: Page, *, new: bool) -> None:
    """Explore's "Add to a board": a new board named BOARD, or the board already picked."""
    page.get_by_role("button", name="Add to a board").click()
    popover = page.get_by_test_id("stPopoverBody")
    if new:
        popover.get_by_role("textbox", name="Title of the new board").fill(BOARD)
    else:
        expect(popover.get_by_role("combobox", name="Board")).to_have_value(BOARD)
    popover.get_by_role("button", name="Add", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text(f"Added to the board “{BOARD}”.")).to_be_visible()
    page.keyboard.press("Escape")
    wait_ready(page)


def _tiles(page: Page):  # noqa: ANN202 - a Playwright locator
    return page.get_by_role("button", name="Tile menu")


def _wait_for_tile_charts(page: Page, count: int) -> None:
    """The page shows `count` charts, each has drawn its plot (a tile's figure has no title
    of its own: the tile's heading says it), and the page has settled. Counted first: a
    rerun replaces the charts, so a list taken before it would point at ones now gone."""
    wait_ready(page)
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts).to_have_count(count)
    for index in range(count):
        expect(charts.nth(index).locator("svg.main-svg").first).to_be_visible()
    wait_ready(page)


def _type_date_range(page: Page, popover: Locator, start: str, end: str) -> None:
    """Type a date range as a person does from the keyboard: the first day's digits (the
    field moves on from day to month to year by itself), Tab, the last day's digits. The
    calendar the field opens is closed by a click on an empty spot of the popover."""
    popover.get_by_role("spinbutton", name="day, Between start date").focus()
    page.keyboard.type(start)
    page.keyboard.press("Tab")
    page.keyboard.type(end)
    page.keyboard.press("Tab")
    popover.click(position={"x": 6, "y": 6})
    expect(page.get_by_test_id("stDateInputCalendar")).to_have_count(0)
    wait_ready(page)


def _popover(page: Page, has_text: str) -> Locator:
    return page.get_by_test_id("stPopoverBody").filter(has_text=has_text)


def test_build_filter_present_and_export_a_board(server: Server, page: Page, browser: Browser,
                                                 tmp_path: Path) -> None:
    create_first_admin_and_sign_in(page, server.url)
    open_in_menu(page, "Datasets")
    _add_sample(page, "tips")
    expect(page.get_by_text("is ready: 244 rows")).to_be_visible()
    _add_sample(page, "seattle-weather")
    expect(page.get_by_text("is ready: 1,461 rows")).to_be_visible()

    started = time.monotonic()
    open_in_menu(page, "Explore")
    _choose(page, "Dataset", "Restaurant tips")
    wait_for_charts(page)
    expect(page.locator(".gtitle")).to_have_text("Mean of total_bill by sex")
    _add_to_board(page, new=True)

    _choose(page, "X axis", "day")
    expect(page.locator(".gtitle")).to_have_text("Mean of total_bill by day")
    _add_to_board(page, new=False)

    _choose(page, "Dataset", WEATHER)
    _choose(page, "Chart type", "Line chart")
    _choose(page, "X axis", "date")
    wait_for_charts(page)
    _add_to_board(page, new=False)

    open_in_menu(page, "Boards")
    page.get_by_role("link", name=BOARD).click()
    wait_ready(page)
    expect(page.get_by_role("heading", name=BOARD)).to_be_visible()
    expect(_tiles(page)).to_have_count(3)

    expect(page).to_have_url(re.compile(r"board=\d+"))
    page.get_by_role("button", name="Add a number").click()
    popover = page.get_by_test_id("stPopoverBody")
    choose_option(page, popover.get_by_role("combobox", name="Dataset"), WEATHER)
    wait_ready(page)
    choose_option(page, popover.get_by_role("combobox", name="Measure"), "Mean")
    wait_ready(page)
    choose_option(page, popover.get_by_role("combobox", name="Column", exact=True), "temp_max")
    wait_ready(page)
    choose_option(page, popover.get_by_role("combobox", name="Date column"), "date")
    wait_ready(page)
    popover.get_by_role("textbox", name="Label").fill("°C, highest of the day")
    popover.get_by_role("button", name="Add number").click()
    wait_ready(page)
    expect(_tiles(page)).to_have_count(4)
    elapsed = time.monotonic() - started
    print(f"\nfrom Explore to a board of 4 tiles: {elapsed:.1f} s")
    assert elapsed < 120
    _wait_for_tile_charts(page, 3)
    # each chart says what it is once, in the tile's heading (text), not again in the figure
    tips_by_day = page.locator(".st-key-board_1_chart_2")
    expect(page.get_by_role("heading", name="Mean of total_bill by day")).to_be_visible()
    expect(tips_by_day.locator(".gtitle")).to_have_count(0)
    shoot(page, "60_board")
    assert_accessible(page, "board")

    # 3. a date range: the weather tiles keep the first half of 2013; the tips tiles say
    # they ignore it (their data has no date)
    number = page.get_by_test_id("stMetricValue")
    weather_line = page.get_by_test_id("stCaptionContainer").filter(
        has_text=re.compile(r"^Line chart of"))
    expect(page.get_by_text(re.compile(r" in December 2015, "))).to_be_visible()
    before = number.inner_text()
    page.keyboard.press("Escape")
    wait_ready(page)
    page.get_by_role("button", name="Add a filter").click()
    popover = page.get_by_test_id("stPopoverBody").filter(
        has=page.get_by_role("combobox", name="Column", exact=True))
    choose_option(page, popover.get_by_role("combobox", name="Column", exact=True), "date")
    wait_ready(page)  # the choice reran the page: the popover stays open
    _type_date_range(page, popover, "01012013", "30062013")
    popover.get_by_role("button", name="Add filter").click()
    wait_ready(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("radio", name="date: 1 Jan 2013 to 30 Jun 2013 ✕")).to_be_visible()
    expect(page.get_by_text("This tile ignores the filter on “date”")).to_have_count(2)
    expect(number).not_to_have_text(before)
    expect(page.get_by_text(re.compile(
        r" in June 2013, .* on the previous month \(.* in May 2013\)\."))).to_be_visible()
    expect(weather_line).to_have_text(re.compile(r"Line chart of mean of precipitation by "
                                                 r"date \(month\): .*2013.*, 6 date \(month\) "
                                                 r"values\."))
    _wait_for_tile_charts(page, 3)
    weather_line.scroll_into_view_if_needed()  # the picture shows the weather tiles
    shoot(page, "61_board_filtered")

    # 4. a cross-filter: a click on a bar of the tips chart by day
    bar = tips_by_day.locator(".bars path").nth(1)  # Sat; plotly's drag layer lies on top
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_ready(page)
    expect(page.get_by_role("radio", name="day is Sat ✕")).to_be_visible()
    page.get_by_role("button", name="Back").click()
    wait_ready(page)
    expect(page.get_by_role("radio", name="day is Sat ✕")).to_have_count(0)

    # 5. present, one tile at a time, then the whole board
    page.get_by_role("button", name="Present").click()
    wait_ready(page)
    expect(page.get_by_text("Tile 1 of 4")).to_be_visible()
    expect(page.get_by_text("Filtered to: date: 1 Jan 2013 to 30 Jun 2013.")).to_be_visible()
    _wait_for_tile_charts(page, 1)
    shoot(page, "62_board_present")
    assert_accessible(page, "present, one tile")
    page.keyboard.press("ArrowRight")
    wait_ready(page)
    expect(page.get_by_text("Tile 2 of 4")).to_be_visible()
    page.get_by_role("button", name="Whole board").click()
    wait_ready(page)
    expect(page.get_by_role("button", name="One tile at a time")).to_be_visible()
    _wait_for_tile_charts(page, 3)
    shoot(page, "63_board_present_whole")
    assert_accessible(page, "present, whole board")
    page.keyboard.press("Escape")
    wait_ready(page)
    expect(page.get_by_role("heading", name=BOARD)).to_be_visible()

    # 6. the board as one HTML file: pictures described in words, no scripts
    chart_summaries = page.get_by_test_id("stCaptionContainer").filter(
        has_text=re.compile(r"^(Bar|Line) chart of"))
    expect(chart_summaries).to_have_count(3)
    summaries = chart_summaries.all_inner_texts()
    with page.expect_download(timeout=120_000) as html_download:
        page.get_by_role("button", name="Download the board (HTML)").click()
    html_path = tmp_path / "board.html"
    html_download.value.save_as(html_path)
    html = html_path.read_text()
    assert "<script" not in html.lower()
    assert "Filtered to: date: 1 Jan 2013 to 30 Jun 2013." in html  # as the chip says it
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert len(alts) == 3, alts
    for summary in summaries:
        assert html_text.escape(summary, quote=True) in alts, (summary, alts)

    # 7. share: the board for everyone (the samples are shared data already, so the popover
    # names no private dataset); a viewer opens the link (signed out: the sign-in form, then
    # the board) and reads every tile
    page.get_by_role("button", name="Share").click()
    expect(_popover(page, "Send colleagues this link").get_by_text(
        "This board is private: colleagues who open the link are told it is not shared with "
        "them. Edit the board to share it.")).to_be_visible()
    page.keyboard.press("Escape")
    wait_ready(page)
    page.get_by_role("button", name="Edit board").click()
    edit = _popover(page, "Who can see it")
    edit.get_by_text("Everyone who signs in (shared)").click()
    edit.get_by_role("button", name="Save changes").click()
    wait_ready(page)
    page.keyboard.press("Escape")
    wait_ready(page)
    page.get_by_role("button", name="Share").click()
    share = _popover(page, "Send colleagues this link")
    expect(share.get_by_text("Everyone who signs in can open it")).to_be_visible()
    expect(share.get_by_text("show private data")).to_have_count(0)
    link = share.get_by_test_id("stCode").inner_text().strip()
    assert re.fullmatch(re.escape(server.url) + r"/boards\?board=\d+", link), link
    page.keyboard.press("Escape")
    open_in_menu(page, "Admin")
    add_person(page, "Vic Viewer", "vic", VIEWER_PASSWORD, "Viewer — reads shared work")

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        colleague = context.new_page()
        open_signed_in(colleague, link, "vic", VIEWER_PASSWORD)
        expect(colleague.get_by_role("heading", name=BOARD)).to_be_visible()
        _wait_for_tile_charts(colleague, 3)
        expect(colleague.get_by_test_id("stMetricValue")).to_have_count(1)
        expect(colleague.get_by_text("not shared with you")).to_have_count(0)
        expect(colleague.get_by_role("button", name="Edit board")).to_have_count(0)
        expect(colleague.get_by_role("button", name="Tile menu")).to_have_count(0)
        shoot(colleague, "65_board_viewer")
    finally:
        context.close()
