"""Issue 9, point 13 in a real browser: a hung Claude call can be stopped at once, and a
question being answered survives a page reload."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    Server,
    print_log_if_failed,
    start_streamlit,
    stop,
    wait_for_sign_in_cookie,
    wait_ready,
)
from tests.e2e.helpers import open_in_menu, open_signed_in, prepare_data_dir
from tests.fakes.claude_server import FakeClaude

QUESTION = "Which continent has the biggest population?"


@pytest.fixture
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        server.script([{"when_tools": True, "delay": 40, "tool_use": {"name": "run_sql",
                        "input": {"sql": "SELECT 1", "chart": None, "explanation": "x"}}}])
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


def _send(page: Page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def test_stop_ends_a_hung_call_and_a_reload_keeps_the_question(
        ask_server: Server, page: Page) -> None:
    open_signed_in(page, ask_server.url)
    wait_for_sign_in_cookie(page)
    open_in_menu(page, "Ask")

    _send(page, QUESTION)
    stop_button = page.get_by_role("button", name="Stop")
    expect(stop_button).to_be_visible()
    started = time.monotonic()
    stop_button.click()
    expect(page.get_by_text("You stopped the answer.")).to_be_visible(timeout=10_000)
    assert time.monotonic() - started < 10  # not the 40 s the fake hangs
    expect(page.get_by_role("button", name="Try again")).to_be_visible()

    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    page.reload()  # while Claude is still "thinking"
    wait_ready(page)
    expect(page.get_by_text(QUESTION).first).to_be_visible()
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
