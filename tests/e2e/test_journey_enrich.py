"""Enrich a dataset: upload a CSV of customer comments, let Claude (the fake Messages API in
this process, reached by the real SDK inside `streamlit run`) add a category and a reason to
every row, see the new version, and chart the new category column in Explore."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.access import users
from services.prompts import templates
from services.prompts.templates import OutputField, TemplateDraft
from services.settings import reset_settings_cache
from services.store.db import dispose_engines
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
from tests.e2e.helpers import ADMIN_PASSWORD, open_in_menu, open_tab, prepare_data_dir, sign_in
from tests.fakes.claude_server import FakeClaude

COMMENTS = [  # written for this test
    "The price went up again and I am not happy about it.",
    "Delivery took two weeks, far too slow.",
    "Lovely staff, they helped me choose.",
    "Too expensive for what you get.",
    "My parcel arrived late and the box was crushed.",
    "Great quality, I will buy again.",
    "The app keeps logging me out.",
    "Cheaper elsewhere, sorry.",
]
CATEGORIES = ["price", "delivery", "praise", "other"]
WORDS = {"price": "price|expensive|cheaper", "delivery": "delivery|parcel|late",
         "praise": "lovely|great"}


def prepare_template(data_dir: Path) -> None:
    """The first admin and a template with an output shape, before `streamlit run` starts."""
    prepare_data_dir(data_dir)
    os.environ["RESEARCH_DESK_DATA_DIR"] = str(data_dir)
    reset_settings_cache()
    dispose_engines()
    try:
        admin = users.get_user("ada")
        assert admin is not None
        templates.create_template(admin, TemplateDraft(
            name="Classify comment", model="claude-haiku-4-5", max_tokens=200,
            body="Classify this customer comment: {comment}",
            output_fields=[OutputField(name="category", type="category", choices=CATEGORIES),
                           OutputField(name="reason")]))
    finally:
        dispose_engines()
        os.environ.pop("RESEARCH_DESK_DATA_DIR", None)
        reset_settings_cache()


@pytest.fixture
def fake() -> Iterator[FakeClaude]:
    with FakeClaude(latency=0.1) as server:
        rules = [{"match": pattern, "tool_use": {"name": "record_answer", "input": {
            "category": category, "reason": f"It talks about {category}."}}}
            for category, pattern in WORDS.items()]
        rules.append({"tool_use": {"name": "record_answer", "input": {
            "category": "other", "reason": "Something else."}}})
        server.script(rules)
        yield server


@pytest.fixture
def enrich_server(tmp_path: Path, fake: FakeClaude,
                  request: pytest.FixtureRequest) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    prepare_template(data_dir)
    started = start_streamlit(data_dir, extra_env={"ANTHROPIC_API_KEY": "sk-test-fake",
                                                   "ANTHROPIC_BASE_URL": fake.base_url})
    yield started
    stop(started)
    print_log_if_failed(request, started)


def test_enrich_journey(enrich_server: Server, fake: FakeClaude, page: Page,
                        tmp_path: Path) -> None:
    upload = tmp_path / "comments.csv"
    upload.write_text("id,comment\n" + "".join(f'{n},"{text}"\n'
                                               for n, text in enumerate(COMMENTS, 1)))
    page.goto(enrich_server.url)
    wait_ready(page)
    sign_in(page, "ada", ADMIN_PASSWORD)
    open_in_menu(page, "Datasets")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    wait_ready(page)
    page.get_by_role("button", name="Create dataset").click()
    wait_ready(page)
    expect(page.get_by_text("“comments” is ready:")).to_be_visible()
    page.get_by_role("link", name="Open “comments”").click()
    wait_ready(page)
    open_tab(page, "Clean")
    page.get_by_role("link", name="Add columns with Claude").click()
    wait_ready(page)

    expect(page.get_by_role("heading", name="Prompt lab", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name="Enrich a dataset", selected=True)).to_be_visible()
    page.get_by_role("button", name="Estimate cost").click()
    wait_ready(page)
    expect(page.get_by_text(f"0 rows already have results (no cost), {len(COMMENTS)} will "
                            "be sent")).to_be_visible()
    shoot(page, "enrich_01_estimate")
    assert_accessible(page, "enrich a dataset")

    page.get_by_role("button", name="Add the columns").click()
    wait_ready(page)
    expect(page.get_by_text("New version 2 with columns “category”, “reason”")).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text(f"{len(COMMENTS)} rows got values, 0 failed")).to_be_visible()
    assert len(fake.message_requests) == len(COMMENTS)
    shoot(page, "enrich_02_new_version")
    assert_accessible(page, "enrich finished")

    page.get_by_role("link", name="Open in Explore").click()
    wait_ready(page)
    expect(page.get_by_role("heading", name="Explore")).to_be_visible()
    wait_for_charts(page)
    assert "x=category" in page.url and "chart=bar" in page.url
    expect(page.get_by_text(f"{len(COMMENTS)} rows in this chart")).to_be_visible()
    shoot(page, "enrich_03_explore_categories")
    assert_accessible(page, "explore the new category column")
