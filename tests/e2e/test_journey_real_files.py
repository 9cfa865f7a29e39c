"""Journey on real public files (tests/data): a Spanish spreadsheet export and the penguins
survey are uploaded, read with the right numbers, and explored; axe finds nothing serious."""

import json
import re
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, assert_accessible, shoot, wait_ready
from tests.e2e.helpers import choose_option, create_first_admin_and_sign_in, open_in_menu, open_tab

DATA = Path(__file__).resolve().parents[1] / "data"
SLOW = 60_000  # a page opened from its address starts a new session: sign-in cookie, caches


def _upload(page: Page, path: Path) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    wait_ready(page)
    page.get_by_role("button", name="Create dataset").click()
    wait_ready(page)


def _dataset_id(page: Page, name: str) -> int:
    href = page.get_by_role("link", name=f"Open “{name}”").get_attribute("href") or ""
    found = re.search(r"id=(\d+)", href)
    assert found, f"no dataset id in the link {href!r}"
    return int(found.group(1))


def test_real_files_read_right_and_explore(server: Server, page: Page) -> None:
    create_first_admin_and_sign_in(page, server.url)
    open_in_menu(page, "Datasets")

    # A Spanish export: ';' between fields, decimal comma, dot thousands.
    _upload(page, DATA / "gapminder_es.csv")
    expect(page.get_by_text("“gapminder_es” is ready: 426 rows and 6 columns")).to_be_visible()
    spanish_id = _dataset_id(page, "gapminder_es")
    page.get_by_role("button", name="Create dataset").click()  # a second, impatient click
    wait_ready(page)
    expect(page.get_by_text("This file was already added as “gapminder_es”")).to_be_visible()
    shoot(page, "40_real_spanish_uploaded")
    assert_accessible(page, "datasets (Spanish export added)")

    # The penguins survey, where NA marks a missing measurement.
    _upload(page, DATA / "penguins.csv")
    expect(page.get_by_text("“penguins” is ready: 344 rows and 8 columns")).to_be_visible()
    penguins_id = _dataset_id(page, "penguins")

    # The Spanish export's page: preview, columns and quality, every number a number.
    page.goto(f"{server.url}/dataset?id={spanish_id}")
    wait_ready(page)
    expect(page.get_by_role("heading", name="gapminder_es")).to_be_visible(timeout=SLOW)
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.nth(0)).to_contain_text("426")
    expect(metrics.nth(1)).to_contain_text("6")
    shoot(page, "41_real_spanish_preview")
    assert_accessible(page, "dataset page (Spanish export)")

    # Changing a read option keeps the person on the Versions tab.
    open_tab(page, "Versions")
    versions = page.get_by_role("tabpanel", name="Versions")
    versions.get_by_text("Read options").click()
    separator = versions.get_by_role("combobox", name="Column separator")
    expect(separator).to_be_visible()
    choose_option(page, separator, "Semicolon ( ; )")
    wait_ready(page)
    expect(page.get_by_role("tab", name="Versions")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Versions").get_by_role(
        "button", name="Read again")).to_be_visible()

    # The owner's Share button: the link to copy, and an offer to share the private dataset.
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_text(f"/dataset?id={spanish_id}")).to_be_visible()
    expect(page.get_by_text("This dataset is private")).to_be_visible()
    shoot(page, "43b_real_spanish_share")
    page.get_by_role("button", name="Share with everyone").click()
    wait_ready(page)
    expect(page.get_by_text("now shared with everyone")).to_be_visible()

    open_tab(page, "Columns")
    shoot(page, "42_real_spanish_columns")
    open_tab(page, "Quality")
    quality = page.get_by_role("tabpanel", name="Quality")
    expect(quality.get_by_text("numbers written as text")).to_have_count(0)
    expect(quality.get_by_text("Turn “Población” into numbers")).to_have_count(0)
    shoot(page, "43_real_spanish_quality")
    assert_accessible(page, "quality (Spanish export)")

    # Explore: Afghanistan's and Albania's population in 1952, read from "8.425.333".
    spec = {"dataset": str(spanish_id), "chart": "bar", "agg": "max", "x": "País",
            "y": "Población",
            "filters": json.dumps([{"column": "Año", "op": "eq", "value": 1952},
                                   {"column": "País", "op": "in",
                                    "value": ["Afghanistan", "Albania"]}],
                                  separators=(",", ":"), ensure_ascii=False)}
    page.goto(f"{server.url}/explore?{urlencode(spec)}")
    wait_ready(page)
    expect(page.get_by_test_id("stPlotlyChart")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("8,425,333").first).to_be_visible()
    expect(page.get_by_text("1,282,697").first).to_be_visible()
    expect(page.get_by_text("8,425,333,000")).to_have_count(0)
    shoot(page, "44_real_spanish_explore")
    assert_accessible(page, "explore (Spanish export)")

    # Penguins: body mass is a number, and its mean by species is the one pandas gives.
    page.goto(f"{server.url}/dataset?id={penguins_id}")
    wait_ready(page)
    expect(page.get_by_role("heading", name="penguins")).to_be_visible(timeout=SLOW)
    open_tab(page, "Quality")
    quality = page.get_by_role("tabpanel", name="Quality")
    expect(quality.get_by_text("“body_mass_g” holds numbers written as text")).to_have_count(0)
    shoot(page, "45_real_penguins_quality")
    assert_accessible(page, "quality (penguins)")
    spec = {"dataset": str(penguins_id), "chart": "bar", "agg": "mean", "x": "species",
            "y": "body_mass_g"}
    page.goto(f"{server.url}/explore?{urlencode(spec)}")
    wait_ready(page)
    expect(page.get_by_test_id("stPlotlyChart")).to_be_visible(timeout=SLOW)
    # pandas: Gentoo 5,076.0 g is the highest mean, Chinstrap 3,733.1 g the lowest
    expect(page.get_by_text(re.compile(r"Gentoo is highest \(5,076(\.0)?\)"))).to_be_visible()
    shoot(page, "46_real_penguins_explore")
    assert_accessible(page, "explore (penguins)")
