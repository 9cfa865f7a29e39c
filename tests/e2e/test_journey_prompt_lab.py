"""Journey 7: run one prompt template over 50 research items with a progress bar and a cancel
button; a failed call is retried; results land in a table. Claude is the fake Messages API
in this process, reached by the real SDK inside `streamlit run`."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.access.users import UserView
from services.prompts import templates
from services.prompts.templates import TemplateDraft
from tests.e2e.conftest import (
    Server,
    assert_accessible,
    print_log_if_failed,
    shoot,
    start_streamlit,
    stop,
    wait_ready,
)
from tests.e2e.helpers import open_in_menu, open_signed_in, open_tab, prepare_data_dir
from tests.factories import make_item
from tests.fakes.claude_server import FakeClaude

ITEMS = 50


def seed_items_and_template(admin: UserView) -> None:
    """50 research items and one template, written before `streamlit run` opens the store."""
    for n in range(1, ITEMS + 1):
        make_item(admin, f"Customer comment {n}",
                  f"The delivery took {n} days and the box was damaged.")
    templates.create_template(admin, TemplateDraft(
        name="Classify complaint", model="claude-haiku-4-5", max_tokens=200,
        body="Classify this comment: {description}"))


@pytest.fixture
def fake() -> Iterator[FakeClaude]:
    with FakeClaude(latency=0.3) as server:
        server.script([{"text": "A delivery complaint."}])
        yield server


@pytest.fixture
def lab_server(tmp_path: Path, fake: FakeClaude,
               request: pytest.FixtureRequest) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    prepare_data_dir(data_dir, seed=seed_items_and_template)
    started = start_streamlit(data_dir, extra_env={"ANTHROPIC_API_KEY": "sk-test-fake",
                                                   "ANTHROPIC_BASE_URL": fake.base_url})
    yield started
    stop(started)
    print_log_if_failed(request, started)


def test_batch_journey(lab_server: Server, fake: FakeClaude, page: Page) -> None:
    open_signed_in(page, lab_server.url)
    open_in_menu(page, "Prompt lab")
    expect(page.get_by_role("heading", name="Prompt lab", exact=True)).to_be_visible()
    shoot(page, "lab_01_templates")
    assert_accessible(page, "prompt lab templates")

    open_tab(page, "Batch runs")
    page.get_by_text(f"All my visible items ({ITEMS})").click()
    wait_ready(page)
    page.get_by_role("button", name="Estimate cost").click()
    wait_ready(page)
    expect(page.get_by_text(f"{ITEMS} calls")).to_be_visible()
    fake.fail_next(status=400, count=1)  # one call fails for good: it is retried below
    fake.set_latency(3.0)  # slow answers while the running batch is looked at, on any machine
    page.get_by_role("button", name="Start batch").click()
    wait_ready(page)
    expect(page.get_by_text("The batch has started")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel batch")).to_be_visible()
    expect(page.get_by_test_id("stProgress")).to_be_visible()
    shoot(page, "lab_02_running")
    fake.set_latency(0.3)

    expect(page.get_by_text("49 succeeded, 1 failed")).to_be_visible(timeout=60_000)
    page.reload()  # leave and come back: the batch and its results are still there
    wait_ready(page)
    open_tab(page, "Batch runs")
    retry = page.get_by_role("button", name="Retry 1 failed")
    expect(retry).to_be_visible()
    shoot(page, "lab_03_one_failed")
    retry.click()
    wait_ready(page)
    expect(page.get_by_text("50 succeeded.")).to_be_visible(timeout=60_000)
    page.reload()
    wait_ready(page)
    open_tab(page, "Batch runs")
    expect(page.get_by_text(f"{ITEMS} of {ITEMS} results.")).to_be_visible()
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    assert len(fake.message_requests) == ITEMS + 1  # 50 answers + the one refused call
    page.get_by_text(f"{ITEMS} of {ITEMS} results.").scroll_into_view_if_needed()
    shoot(page, "lab_04_results")
    assert_accessible(page, "prompt lab batch results")
