"""Journeys 2 and 3: upload a messy CSV, understand it, clean it, restore a version."""

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, assert_accessible, shoot, wait_ready
from tests.e2e.helpers import create_first_admin_and_sign_in, open_in_menu, open_tab

# Semicolons, Windows-1252, thousands separators, euro amounts, blank lines, a repeated
# row, a missing price, inconsistent spelling and stray spaces: what real exports look like.
MESSY = (
    "Région;Ventes;Prix;Date\n\n"
    "Nord;1.234;1.234,50 €;03/01/2024\n"
    "Sud;2.500;;04/01/2024\n"
    "Est ;12.000;10,00 €;05/01/2024\n\n"
    "Ouest;800;3,50 €;06/01/2024\n"
    "nord;1.100;99,90 €;07/01/2024\n"
    "Sud;2.500;;04/01/2024\n"
)


def test_upload_understand_clean_and_restore(server: Server, page: Page, tmp_path: Path) -> None:
    messy = tmp_path / "ventes.csv"
    messy.write_bytes(MESSY.encode("cp1252"))
    create_first_admin_and_sign_in(page, server.url)

    open_in_menu(page, "Datasets")
    expect(page.get_by_text("No datasets yet.")).to_be_visible()
    shoot(page, "10_datasets_empty")
    assert_accessible(page, "datasets (empty)")

    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(messy))
    wait_ready(page)
    page.get_by_role("button", name="Create dataset").click()
    wait_ready(page)
    expect(page.get_by_text("“ventes” is ready:")).to_be_visible()
    expect(page.get_by_text("6 rows and 4 columns")).to_be_visible()
    expect(page.get_by_text("Semicolon")).to_be_visible()
    shoot(page, "11_uploaded")

    page.get_by_role("link", name="Open “ventes”").click()
    wait_ready(page)
    expect(page.get_by_role("heading", name="ventes")).to_be_visible()
    metrics = page.get_by_test_id("stMetric")
    expect(metrics.nth(0)).to_contain_text("6")
    expect(metrics.nth(1)).to_contain_text("4")
    expect(metrics.nth(2)).to_contain_text("Repeated rows1")
    shoot(page, "12_dataset_preview")
    assert_accessible(page, "dataset page")

    open_tab(page, "Columns")
    shoot(page, "13_dataset_columns")

    open_tab(page, "Quality")
    quality = page.get_by_role("tabpanel", name="Quality")
    expect(quality.get_by_text("have no value in “Prix”")).to_be_visible()
    expect(quality.get_by_text("spells the same value in different ways")).to_be_visible()
    shoot(page, "14_quality")
    finding = quality.get_by_test_id("stHorizontalBlock")
    finding.filter(has_text="have no value in “Prix”").get_by_role("button", name="Add fix").click()
    wait_ready(page)
    finding.filter(has_text="different ways").get_by_role("button", name="Add fix").click()
    wait_ready(page)

    open_tab(page, "Clean")
    clean = page.get_by_role("tabpanel", name="Clean")
    expect(clean.get_by_text("Fill missing values in “Prix” with the median")).to_be_visible()
    expect(clean.get_by_text("Replace values in “Région”")).to_be_visible()
    shoot(page, "15_recipe")
    clean.get_by_role("button", name="Apply recipe").click()
    wait_ready(page)
    expect(page.get_by_text("version 2 made by ada")).to_be_visible()

    open_tab(page, "Quality")
    quality = page.get_by_role("tabpanel", name="Quality")
    expect(quality.get_by_text("have no value in “Prix”")).to_have_count(0)

    open_tab(page, "Versions")
    versions = page.get_by_role("tabpanel", name="Versions")
    expect(versions.get_by_text("Version 1", exact=True)).to_be_visible()
    expect(versions.get_by_text("cleaned from version 1")).to_be_visible()
    shoot(page, "16_versions")
    assert_accessible(page, "versions")
    versions.get_by_role("button", name="Restore").click()
    wait_ready(page)
    expect(page.get_by_text("version 3 made by ada")).to_be_visible()
    open_tab(page, "Quality")
    quality = page.get_by_role("tabpanel", name="Quality")
    expect(quality.get_by_text("have no value in “Prix”")).to_be_visible()
