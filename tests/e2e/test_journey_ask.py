"""Journey 5: Ask a question → streamed answer, SQL, table and chart → follow-up that uses the
conversation → save the answer to a research item. Claude is the fake Messages API, running
in this process, reached by the real SDK inside `streamlit run` through ANTHROPIC_BASE_URL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

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
from tests.e2e.helpers import open_in_menu, open_signed_in, prepare_data_dir
from tests.fakes.claude_server import FakeClaude

QUESTION = "Which region grew fastest last year?"
FOLLOW_UP = "Which country in Africa grew the most?"
REGION_SQL = """WITH totals AS (
  SELECT "continent" AS "Region", "year" AS "Year", sum("pop") AS "Population"
  FROM "gapminder" GROUP BY 1, 2),
growth AS (
  SELECT "Region", "Year", round(100.0 * ("Population" / lag("Population")
         OVER (PARTITION BY "Region" ORDER BY "Year") - 1), 1) AS "Growth (%)"
  FROM totals)
SELECT "Region", "Growth (%)" FROM growth
WHERE "Year" = (SELECT max("Year") FROM totals) ORDER BY "Growth (%)" DESC"""
COUNTRY_SQL = """WITH growth AS (
  SELECT "country" AS "Country", "year" AS "Year", round(100.0 * ("pop" / lag("pop")
         OVER (PARTITION BY "country" ORDER BY "year") - 1), 1) AS "Growth (%)"
  FROM "gapminder" WHERE "continent" = 'Africa')
SELECT "Country", "Growth (%)" FROM growth
WHERE "Year" = (SELECT max("Year") FROM growth) ORDER BY "Growth (%)" DESC LIMIT 10"""


def _plan(sql: str, x: str, explanation: str) -> dict:
    return {"when_tools": True, "tool_use": {"name": "run_sql", "input": {
        "sql": sql, "chart": {"chart_type": "bar", "x": x, "y": "Growth (%)", "agg": "sum"},
        "explanation": explanation}}}


@pytest.fixture
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        server.script([
            {"match": "country", **_plan(COUNTRY_SQL, "Country",
                                         "Compares each African country's population in the "
                                         "latest year with the year before.")},
            {"match": "region", **_plan(REGION_SQL, "Region",
                                        "Adds up the population of each region per year and "
                                        "compares the latest year with the one before.")},
        ])
        yield server


@pytest.fixture
def ask_server(tmp_path: Path, fake: FakeClaude,
               request: pytest.FixtureRequest) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    prepare_data_dir(data_dir, samples=("gapminder",))
    started = start_streamlit(data_dir, extra_env={"ANTHROPIC_API_KEY": "sk-test-fake",
                                                   "ANTHROPIC_BASE_URL": fake.base_url})
    yield started
    stop(started)
    print_log_if_failed(request, started)


def _ask(page: Page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    wait_ready(page)


def test_ask_journey(ask_server: Server, fake: FakeClaude, page: Page) -> None:
    open_signed_in(page, ask_server.url)
    open_in_menu(page, "Ask")
    expect(page.get_by_role("heading", name="Ask", exact=True)).to_be_visible()
    expect(page.get_by_text("Try one of these questions")).to_be_visible()
    shoot(page, "ask_01_start")
    assert_accessible(page, "ask start")

    _ask(page, QUESTION)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(answer.get_by_text("The result has 5 rows")).to_be_visible()
    expect(answer.get_by_text("Africa").first).to_be_visible()
    expect(answer.get_by_test_id("stDataFrame")).to_be_visible()
    expect(answer.get_by_test_id("stPlotlyChart")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("button", name=QUESTION)).to_be_visible()
    answer.get_by_text("How this was computed").click()
    expect(answer.get_by_test_id("stCode").first).to_contain_text('FROM "gapminder"')
    wait_for_charts(page)
    answer.scroll_into_view_if_needed()
    page.get_by_test_id("stChatMessage").nth(0).scroll_into_view_if_needed()
    shoot(page, "ask_02_answer")
    assert_accessible(page, "ask answer")

    _ask(page, FOLLOW_UP)
    follow = page.get_by_test_id("stChatMessage").nth(3)
    expect(follow.get_by_test_id("stDataFrame")).to_be_visible()
    expect(follow.get_by_text("Country").first).to_be_visible()
    plans = [r["body"] for r in fake.message_requests if r["body"].get("tools")]
    assert len(plans) == 2
    assert QUESTION in str(plans[1]["messages"]) and FOLLOW_UP in str(plans[1]["messages"])
    shoot(page, "ask_03_follow_up")

    follow.get_by_role("button", name="Save to research item").click()
    page.get_by_role("textbox", name="Title of the new item").fill("Population growth")
    page.get_by_role("button", name="Save", exact=True).click()
    wait_ready(page)
    expect(page.get_by_text("Saved to “Population growth”")).to_be_visible()
    shoot(page, "ask_04_saved")
