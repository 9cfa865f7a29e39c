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


STOPS = 10
# Claude's answer streams in slowly, a line at a time, for far longer than the test waits.
LONG_ANSWER = "".join(f"Line {n} of a long answer.\n\n" for n in range(1, 400))


@pytest.fixture
def streaming_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    with FakeClaude() as fake:
        fake.script([
            {"when_tools": True, "tool_use": {"name": "run_sql", "input": {
                "sql": "SELECT 1 AS one", "chart": None, "explanation": "x"}}},
            {"when_tools": False, "text": LONG_ANSWER, "chunk_size": 28, "chunk_delay": 0.15},
        ])
        data_dir = tmp_path / "data"
        prepare_data_dir(data_dir, samples=("gapminder",))
        started = start_streamlit(data_dir, extra_env={
            "ANTHROPIC_API_KEY": "sk-test-fake", "ANTHROPIC_BASE_URL": fake.base_url})
        yield started
        stop(started)
        print_log_if_failed(request, started)


def test_every_click_on_stop_ends_the_wait(streaming_server: Server, page: Page) -> None:
    """Stop, then Try again, ten times in a row, clicked as a person does: aimed where the
    button appeared, pressed a moment later while the answer streams in. Each click ends
    the wait at once (the answer would take a minute), so none can be missed."""
    open_signed_in(page, streaming_server.url)
    wait_for_sign_in_cookie(page)
    open_in_menu(page, "Ask")
    stopped = page.get_by_text("You stopped the answer.")
    stop_button = page.get_by_role("button", name="Stop")
    waits: list[float] = []
    for attempt in range(STOPS):
        if attempt == 0:
            _send(page, QUESTION)
        else:
            page.get_by_role("button", name="Try again").click()
        expect(stop_button).to_be_visible()
        aim = stop_button.bounding_box()
        assert aim is not None
        expect(page.get_by_text("Line 3 of a long answer.")).to_be_visible()  # streaming
        started = time.monotonic()
        page.mouse.click(aim["x"] + aim["width"] / 2, aim["y"] + aim["height"] / 2, delay=80)
        expect(stop_button).to_have_count(0, timeout=8_000)  # a missed click waits a minute
        waits.append(time.monotonic() - started)
        wait_ready(page)
        expect(stopped).to_be_visible()
        expect(page.get_by_text("Line 3 of a long answer.")).to_have_count(0)
    print("seconds from each click on Stop to the page saying so:",
          ", ".join(f"{w:.2f}" for w in waits))
