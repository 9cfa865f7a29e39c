"""Fault injection: 429/529/500, timeouts and dropped connections end in a retry or a clear
message (real SDK, fake server)."""

import time

import pytest

from services.claude import client as claude
from services.claude.client import CallUsage
from services.errors import ClaudeUnavailable
from tests.fakes.claude_server import FakeClaude, point_claude_at

USER_MESSAGE = [{"role": "user", "content": "Which region grew fastest?"}]


pytestmark = pytest.mark.usefixtures("claude_at_fake")


def _complete(records: list[CallUsage]) -> str:
    return claude.complete_text(USER_MESSAGE, system="s", feature="t", user="ann",
                                on_usage=records.append)


def test_429_waits_for_retry_after_then_succeeds(fake: FakeClaude) -> None:
    fake.script([{"text": "North."}])
    fake.fail_next(status=429, count=1, retry_after=0.3)
    records: list[CallUsage] = []
    assert _complete(records) == "North."
    first, second = fake.message_requests
    assert second["time"] - first["time"] >= 0.3
    assert records[0].attempts == 2 and records[0].status == "succeeded"


def test_529_then_success(fake: FakeClaude) -> None:
    fake.script([{"text": "ok"}])
    fake.fail_next(status=529, count=2)
    records: list[CallUsage] = []
    assert _complete(records) == "ok"
    assert records[0].attempts == 3


def test_500_beyond_max_retries_is_a_clear_message(fake: FakeClaude) -> None:
    fake.fail_next(status=500, count=4)  # max_retries=3 → 4 attempts, all fail
    records: list[CallUsage] = []
    with pytest.raises(ClaudeUnavailable) as caught:
        _complete(records)
    assert str(caught.value) == claude.SERVER_ERROR
    assert "Your question is kept" in str(caught.value)
    assert len(fake.message_requests) == 4
    assert records[0].status == "failed" and records[0].attempts == 4
    assert records[0].error == claude.SERVER_ERROR


def test_429_exhausted_says_busy(fake: FakeClaude) -> None:
    fake.fail_next(status=429, count=10, retry_after=0.01)
    with pytest.raises(ClaudeUnavailable) as caught:
        _complete([])
    assert str(caught.value) == claude.BUSY


def test_retry_after_longer_than_the_cap_fails_fast(fake: FakeClaude,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claude, "MAX_RETRY_WAIT_S", 10.0)
    fake.fail_next(status=429, count=1, retry_after=60)
    started = time.perf_counter()
    with pytest.raises(ClaudeUnavailable, match="busy"):
        _complete([])
    assert time.perf_counter() - started < 5  # waited neither the cap (10 s) nor the 60 s
    assert len(fake.message_requests) == 1


@pytest.mark.parametrize(("status", "message"), [
    (401, claude.KEY_REFUSED), (403, claude.FORBIDDEN), (400, claude.BAD_REQUEST)])
def test_client_errors_are_not_retried(fake: FakeClaude, status: int, message: str) -> None:
    fake.fail_next(status=status, count=5)
    with pytest.raises(ClaudeUnavailable) as caught:
        _complete([])
    assert str(caught.value) == message
    assert len(fake.message_requests) == 1


def test_unknown_model_names_the_model(fake: FakeClaude) -> None:
    fake.fail_next(status=404)
    with pytest.raises(ClaudeUnavailable, match='"claude-sonnet-4-6" was not found'):
        _complete([])


def test_timeout_is_retried_then_reported(fake: FakeClaude,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    point_claude_at(fake, monkeypatch, timeout_s=0.2, max_retries=1)
    fake.delay_next(0.6, count=1)
    fake.script([{"text": "late but fine"}])
    records: list[CallUsage] = []
    assert _complete(records) == "late but fine"  # first attempt timed out, second succeeded
    assert records[0].attempts == 2
    fake.delay_next(0.6, count=2)
    with pytest.raises(ClaudeUnavailable) as caught:
        _complete(records)
    assert str(caught.value) == claude.TIMEOUT
    assert records[1].status == "failed"


def test_dropped_connection_before_reply_is_retried(fake: FakeClaude) -> None:
    fake.script([{"text": "after the drop"}])
    fake.drop_next(count=2)
    records: list[CallUsage] = []
    assert _complete(records) == "after the drop"
    assert records[0].attempts == 3


def test_connection_dropped_mid_body_is_retried(fake: FakeClaude) -> None:
    fake.script([{"text": "whole"}])
    fake.drop_next(count=1, mid_response=True)
    assert _complete([]) == "whole"
    assert len(fake.message_requests) == 2


def test_stream_dropped_before_text_is_retried(fake: FakeClaude) -> None:
    fake.script([{"text": "streamed after a drop", "chunk_size": 4}])
    fake.drop_next(count=1, mid_response=True)  # closes right after message_start
    records: list[CallUsage] = []
    chunks = list(claude.stream_text(USER_MESSAGE, system="s", feature="chat", user="ann",
                                     on_usage=records.append))
    assert "".join(chunks) == "streamed after a drop"
    assert records[0].attempts == 2 and records[0].status == "succeeded"


def test_stream_429_then_success(fake: FakeClaude) -> None:
    fake.script([{"text": "fine"}])
    fake.fail_next(status=429, count=1, retry_after=0.05)
    assert "".join(claude.stream_text(USER_MESSAGE, system="s", feature="c", user="a")) == "fine"


def test_stream_dropped_after_text_is_a_clear_message(fake: FakeClaude) -> None:
    """Text already shown cannot be taken back, so no silent retry: say it may be cut off."""
    fake.script([{"text": "x" * 400, "chunk_size": 10}])
    fake.drop_next(count=1, mid_response=True, after_events=6)  # after three text deltas
    records: list[CallUsage] = []
    stream = claude.stream_text(USER_MESSAGE, system="s", feature="chat", user="ann",
                                on_usage=records.append)
    received = [next(stream)]
    with pytest.raises(ClaudeUnavailable) as caught:
        received += list(stream)
    assert len(fake.message_requests) == 1
    assert str(caught.value) == claude.DROPPED
    assert records[0].status == "failed"
