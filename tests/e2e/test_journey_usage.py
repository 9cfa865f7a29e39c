"""Journey 8: an admin sees tokens, estimated cost, latency and errors by day, person, model
and feature, and sets a monthly budget that is enforced: the analyst's next run is refused
before any token is spent."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from services.access import users
from services.access.permissions import Role
from services.access.users import NewUser, UserView
from services.claude import usage
from services.claude.client import CallUsage
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
from tests.e2e.helpers import (
    choose_option,
    open_in_menu,
    open_signed_in,
    open_tab,
    prepare_data_dir,
)
from tests.factories import make_item
from tests.fakes.claude_server import FakeClaude

ANN_PASSWORD = "analyst-pass-42"


def seed_usage(admin: UserView) -> None:
    """Recorded calls of two people, an analyst's item and template (before the server)."""
    ann = users.create_user(admin, NewUser(username="ann", name="Ann Analyst",
                                           password=ANN_PASSWORD, role=Role.ANALYST))
    for n in range(30):
        usage.record_usage(CallUsage(
            user="ann" if n % 3 else "ada", model="claude-haiku-4-5",
            feature=("ask.sql", "prompt.batch", "prompt.single")[n % 3],
            input_tokens=1_000 + n, output_tokens=200, cache_read_tokens=50,
            latency_ms=400 + 40 * n, cost_estimate=0.02,
            status="failed" if n % 10 == 0 else "succeeded"))
    make_item(ann, "Why do customers leave?", "Churn rose in spring.")
    templates.create_template(ann, TemplateDraft(name="Summarise", model="claude-haiku-4-5",
                                                 body="Summarise: {description}",
                                                 max_tokens=100))


@pytest.fixture
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        server.script([{"text": "Customers left because of prices."}])
        yield server


@pytest.fixture
def usage_server(tmp_path: Path, fake: FakeClaude,
                 request: pytest.FixtureRequest) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    prepare_data_dir(data_dir, seed=seed_usage)
    started = start_streamlit(data_dir, extra_env={"ANTHROPIC_API_KEY": "sk-test-fake",
                                                   "ANTHROPIC_BASE_URL": fake.base_url})
    yield started
    stop(started)
    print_log_if_failed(request, started)


def test_usage_journey(usage_server: Server, fake: FakeClaude, page: Page,
                       browser: Browser) -> None:
    open_signed_in(page, usage_server.url)
    open_in_menu(page, "Usage")
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()
    expect(page.get_by_text("You see everyone's")).to_be_visible()
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("30")
    expect(page.get_by_test_id("stPlotlyChart")).to_be_visible()
    shoot(page, "usage_01_by_day")
    assert_accessible(page, "usage by day")

    group_by = page.get_by_test_id("stRadio")
    group_by.get_by_text("Person", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text("Estimated cost by person: highest for ann")).to_be_visible()
    group_by.get_by_text("Feature", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text("highest for Ask").or_(page.get_by_text("highest for Batch"))
           .or_(page.get_by_text("highest for Single run")).first).to_be_visible()
    shoot(page, "usage_02_by_feature")

    form = page.get_by_test_id("stForm")
    choose_option(page, form.get_by_test_id("stSelectbox"), "ann")
    form.get_by_role("spinbutton", name="Monthly budget in US$ (0 = nothing may be spent)"
                     ).fill("0.3")
    form.get_by_role("button", name="Save budget").click()
    wait_ready(page)
    expect(page.get_by_text("Budget for ann saved")).to_be_visible()
    shoot(page, "usage_03_budget_set")
    assert_accessible(page, "usage budgets")

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    ann_page = context.new_page()
    try:
        open_signed_in(ann_page, usage_server.url, "ann", ANN_PASSWORD)
        expect(ann_page.get_by_text("Claude spend")).to_be_visible()  # Home: my month
        open_in_menu(ann_page, "Usage")
        expect(ann_page.get_by_text("You see your own")).to_be_visible()
        expect(ann_page.get_by_text("$0.00").first).to_be_visible()  # 20 × $0.02 used of $0.30
        shoot(ann_page, "usage_04_analyst_budget_left")
        open_in_menu(ann_page, "Prompt lab")
        open_tab(ann_page, "Run on an item")
        ann_page.get_by_role("button", name="Run on this item").click()
        wait_ready(ann_page)
        expect(ann_page.get_by_text("You have used your Claude budget for this month")
               ).to_be_visible()
        shoot(ann_page, "usage_05_run_refused")
        assert fake.message_requests == []  # refused before any token was spent
    finally:
        context.close()
