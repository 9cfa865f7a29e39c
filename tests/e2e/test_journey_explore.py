"""Journey 4: chart a sample dataset, read its summary and data, download, save; every chart
type is photographed for a visual check, and the page passes axe in light and dark mode."""

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, assert_accessible, shoot, wait_for_charts, wait_ready
from tests.e2e.helpers import create_first_admin_and_sign_in, open_in_menu, open_tab

CHART_TYPES = {
    "bar": "Bar chart", "grouped_bar": "Grouped bar chart", "stacked_bar": "Stacked bar chart",
    "line": "Line chart", "area": "Area chart", "scatter": "Scatter plot",
    "histogram": "Histogram", "box": "Box plot", "heatmap": "Heatmap",
    "correlation": "Correlation matrix",
}


def _choose(page: Page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_ready(page)


def _chart(page: Page):  # noqa: ANN202 - a Playwright locator
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart).to_be_visible()
    return chart


def test_chart_download_and_save(server: Server, page: Page, tmp_path: Path) -> None:
    create_first_admin_and_sign_in(page, server.url)
    open_in_menu(page, "Datasets")
    open_tab(page, "Try a sample dataset")
    page.locator(".st-key-datasets_sample_tips").get_by_role("button",
                                                             name="Add this dataset").click()
    wait_ready(page)
    expect(page.get_by_text("is ready: 244 rows")).to_be_visible()

    open_in_menu(page, "Explore")
    expect(page.get_by_role("heading", name="Explore")).to_be_visible()
    _chart(page)
    expect(page.locator(".gtitle")).to_have_text("Mean of total_bill by sex")
    expect(page.get_by_text("244 rows in this chart")).to_be_visible()

    _choose(page, "Chart type", "Grouped bar chart")
    _choose(page, "Colour / group", "day")
    expect(page.locator(".gtitle")).to_have_text("Mean of total_bill by sex and day")
    expect(page.get_by_text("Grouped bar chart of").first).to_be_visible()  # the summary
    assert "chart=grouped_bar" in page.url and "color=day" in page.url

    page.get_by_text("View the data behind this chart").click()
    expect(page.get_by_test_id("stExpander").get_by_test_id("stDataFrame")).to_be_visible()
    shoot(page, "40_explore_chart_and_data")
    assert_accessible(page, "explore")

    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Download data (CSV)").click()
    csv_path = tmp_path / "chart.csv"
    csv_download.value.save_as(csv_path)
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("sex,day") and len(lines) == 9  # 2 × 4 groups + header
    wait_ready(page)

    # up to two 45 s attempts: a hung renderer is killed and tried again (services.charts.chart_png)
    with page.expect_download(timeout=120_000) as png_download:
        page.get_by_role("button", name="Download chart (PNG)").click()
    png_path = tmp_path / "chart.png"
    png_download.value.save_as(png_path)
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wait_ready(page)

    expect(page.get_by_role("button", name="Save to research item")).to_be_visible()
    page.get_by_role("button", name="Save to research item").click()
    page.get_by_role("textbox", name="Title of the new item").fill("Who tips most?")
    page.get_by_role("button", name="Save", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text("Saved to “Who tips most?”")).to_be_visible()
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Add a filter").click()
    _choose(page, "Column", "day")
    page.get_by_role("combobox", name="Values to keep").click()
    page.get_by_role("option", name="Sun", exact=True).click()
    page.get_by_text("Keep rows where the value").click()  # close the list of values
    wait_ready(page)
    page.get_by_role("button", name="Add filter").click()
    wait_ready(page)
    expect(page.get_by_text("76 of 244 rows")).to_be_visible()
    page.keyboard.press("Escape")
    shoot(page, "42_explore_filtered")
    page.get_by_text("day: Sun").click()
    wait_ready(page)
    expect(page.get_by_text("244 rows in this chart.")).to_be_visible()

    for chart_type, name in CHART_TYPES.items():
        _choose(page, "Chart type", name)
        _chart(page)
        expect(page.get_by_text(f"{name} of").first).to_be_visible()
        wait_for_charts(page)
        shoot(page, f"4x_chart_{chart_type}")
    assert_accessible(page, "explore (correlation)")

    open_tab(page, "Table")
    expect(page.get_by_role("button", name="Download table (CSV)")).to_be_visible()
    open_tab(page, "Statistics")
    expect(page.get_by_test_id("stImage").first).to_be_visible()
    shoot(page, "41_explore_statistics")
    assert_accessible(page, "explore statistics")
