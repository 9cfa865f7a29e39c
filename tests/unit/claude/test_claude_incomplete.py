"""A stream that ends early is never taken for the whole answer, and one deadline bounds a
Claude call across all its retries (issue 9, point 13). Real SDK against the fake server."""

import time

import pytest

from services import settings
from services.claude import ask
from services.claude import client as claude
from services.claude.ask import AskResult
from services.claude.client import CallUsage, ClaudeIncomplete
from services.errors import ClaudeUnavailable
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude

USER_MESSAGE = [{"role": "user", "content": "Which region grew fastest?"}]

pytestmark = pytest.mark.usefixtures("claude_at_fake")


def _stream(records: list[CallUsage]) -> list[str]:
    received: list[str] = []
    for chunk in claude.stream_text(USER_MESSAGE, system="s", feature="chat", user="ann",
                                    on_usage=records.append):
        received.append(chunk)
    return received


def test_a_stream_that_ends_cleanly_before_message_stop_is_incomplete(fake: FakeClaude) -> None:
    fake.script([{"text": "The North grew fastest, by " + "x" * 200, "chunk_size": 10,
                  "end_after_events": 6}])
    records: list[CallUsage] = []
    with pytest.raises(ClaudeIncomplete) as caught:
        _stream(records)
    assert str(caught.value) == claude.CUT_SHORT
    assert records[0].status == "failed" and records[0].error == claude.CUT_SHORT


def test_a_dropped_stream_is_incomplete_too(fake: FakeClaude) -> None:
    fake.script([{"text": "x" * 400, "chunk_size": 10}])
    fake.drop_next(count=1, mid_response=True, after_events=6)
    with pytest.raises(ClaudeIncomplete):
        _stream([])


def test_a_whole_stream_is_complete(fake: FakeClaude) -> None:
    fake.script([{"text": "All of it.", "chunk_size": 3}])
    records: list[CallUsage] = []
    assert "".join(_stream(records)) == "All of it."
    assert records[0].status == "succeeded"


def test_one_deadline_across_retries(fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each attempt hangs past the timeout; four attempts would take 4 × 1 s, the deadline
    stops the call after about 1.5 s."""
    monkeypatch.setenv("RESEARCH_DESK_CLAUDE_TIMEOUT_S", "1")
    monkeypatch.setenv("RESEARCH_DESK_CLAUDE_DEADLINE_S", "1.5")
    monkeypatch.setenv("RESEARCH_DESK_CLAUDE_MAX_RETRIES", "3")
    settings.reset_settings_cache()
    claude.reset_clients()
    fake.script([{"text": "late"}])
    fake.delay_next(3, count=4)
    records: list[CallUsage] = []
    started = time.monotonic()
    with pytest.raises(ClaudeUnavailable) as caught:
        claude.complete_text(USER_MESSAGE, system="s", feature="t", user="ann",
                             on_usage=records.append)
    elapsed = time.monotonic() - started
    assert elapsed < 3.5, elapsed  # four 1 s attempts and their back-off take 4 s or more
    assert str(caught.value) in (claude.DEADLINE, claude.TIMEOUT)
    assert records[0].status == "failed"


def test_a_slow_trickle_stream_stops_at_the_deadline(fake: FakeClaude,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_CLAUDE_DEADLINE_S", "1")
    settings.reset_settings_cache()
    claude.reset_clients()
    fake.script([{"text": "y" * 200, "chunk_size": 2, "chunk_delay": 0.1}])
    started = time.monotonic()
    with pytest.raises(ClaudeIncomplete) as caught:
        _stream([])
    assert time.monotonic() - started < 2.5
    assert str(caught.value) == claude.DEADLINE


def test_stream_answer_passes_the_incomplete_mark_on(fake: FakeClaude) -> None:
    import pandas as pd

    make_user(make_admin(), "ann")  # the caller must be a real account (checked first)
    fake.script([{"text": "z" * 200, "chunk_size": 10, "end_after_events": 5}])
    result = AskResult(question="q", status="answered", frame=pd.DataFrame({"a": [1]}),
                       total_rows=1)
    with pytest.raises(ClaudeIncomplete):
        "".join(ask.stream_answer("q", result, user="ann"))
