"""The fake Messages API's prompt caching: prefixes, breakpoints, minimum length, time to live."""

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests.fakes.claude_server import FakeClaude

MODEL = "claude-sonnet-4-6"  # 2,048-token minimum in the fake, as in the current docs
LONG = "The schema: " + "column_name INTEGER, " * 800  # ~4,000 tokens at 4 chars a token
TOOL = {"name": "run_sql", "description": "Run one query.",
        "input_schema": {"type": "object", "properties": {"sql": {"type": "string"}}}}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(fake: FakeClaude) -> None:
    fake.reset()
    fake.enqueue(*[{"text": "ok"}] * 10)


def _client(fake: FakeClaude) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="k", base_url=fake.base_url, max_retries=0)


def _call(fake: FakeClaude, question: str, *, system: str = LONG, mark: bool = True,
          ttl: str | None = None) -> Any:
    control: dict[str, Any] = {"type": "ephemeral"} | ({"ttl": ttl} if ttl else {})
    block: dict[str, Any] = {"type": "text", "text": system}
    if mark:
        block["cache_control"] = control
    return _client(fake).messages.create(
        model=MODEL, max_tokens=50, tools=[TOOL], system=[block],  # type: ignore[list-item]
        messages=[{"role": "user", "content": question}]).usage


def test_a_marked_prefix_is_written_once_then_read(fake: FakeClaude) -> None:
    first = _call(fake, "How many rows?")
    second = _call(fake, "Which region sells most?")
    assert first.cache_creation_input_tokens > 2048 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0
    assert second.input_tokens < 50  # only the new question is billed at full price


def test_a_changed_prefix_misses(fake: FakeClaude) -> None:
    _call(fake, "How many rows?")
    changed = _call(fake, "How many rows?", system=LONG + " one more column")
    assert changed.cache_read_input_tokens == 0 and changed.cache_creation_input_tokens > 0


def test_an_unmarked_prompt_is_not_cached(fake: FakeClaude) -> None:
    _call(fake, "q", mark=False)
    usage = _call(fake, "q", mark=False)
    assert usage.cache_read_input_tokens == 0 and usage.cache_creation_input_tokens == 0


def test_a_short_prefix_is_not_cached(fake: FakeClaude) -> None:
    _call(fake, "q", system="Short system prompt.")
    usage = _call(fake, "q", system="Short system prompt.")
    assert usage.cache_read_input_tokens == 0 and usage.cache_creation_input_tokens == 0


def test_the_prefix_expires_after_its_time_to_live(fake: FakeClaude) -> None:
    _call(fake, "q")
    fake.advance_clock(301)
    assert _call(fake, "q").cache_read_input_tokens == 0
    _call(fake, "q", ttl="1h")
    fake.advance_clock(1800)
    assert _call(fake, "q", ttl="1h").cache_read_input_tokens > 0


def test_one_hour_writes_are_reported_apart(fake: FakeClaude) -> None:
    usage = _call(fake, "q", ttl="1h")
    assert usage.cache_creation.ephemeral_1h_input_tokens == usage.cache_creation_input_tokens
    assert usage.cache_creation.ephemeral_5m_input_tokens == 0


def test_a_growing_conversation_reads_the_earlier_breakpoint(fake: FakeClaude) -> None:
    def turn(n: int) -> Any:
        messages: list[Any] = []
        for i in range(n):
            messages += [{"role": "user", "content": f"question {i}"},
                         {"role": "assistant", "content": f"answer {i}"}]
        messages.append({"role": "user", "content": [
            {"type": "text", "text": f"question {n}", "cache_control": {"type": "ephemeral"}}]})
        return _client(fake).messages.create(
            model=MODEL, max_tokens=50, system=[{"type": "text", "text": LONG}],
            messages=messages).usage
    first, second = turn(0), turn(1)
    assert first.cache_creation_input_tokens > 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert 0 < second.cache_creation_input_tokens < 50


def test_more_than_four_breakpoints_is_refused(fake: FakeClaude) -> None:
    marked = [{"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}}
              for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4"):
        _client(fake).messages.create(model=MODEL, max_tokens=50, system=marked,  # type: ignore[arg-type]
                                      messages=[{"role": "user", "content": "q"}])
