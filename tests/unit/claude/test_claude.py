"""services.claude.client against the real SDK pointed at the fake Messages API (no SDK mocks)."""

import logging
import threading

import pytest
from pydantic import BaseModel

from services import settings
from services.claude import client as claude
from services.claude.client import CallUsage
from services.errors import BudgetExceeded, ClaudeUnavailable
from tests.fakes.claude_server import FakeClaude, point_claude_at

USER_MESSAGE = [{"role": "user", "content": "hello"}]


pytestmark = pytest.mark.usefixtures("claude_at_fake")


class Plan(BaseModel):
    sql: str
    rows: int


def test_stream_text_yields_several_chunks_and_records_usage(fake: FakeClaude) -> None:
    fake.script([{"text": "The North region grew fastest.", "chunk_size": 5,
                  "usage": {"input_tokens": 120, "output_tokens": 9,
                            "cache_read_input_tokens": 40, "cache_creation_input_tokens": 8}}])
    records: list[CallUsage] = []
    chunks = list(claude.stream_text(USER_MESSAGE, system="s", feature="chat", user="ann",
                                     on_usage=records.append))
    assert len(chunks) >= 5
    assert "".join(chunks) == "The North region grew fastest."
    [usage] = records
    assert (usage.input_tokens, usage.output_tokens) == (120, 9)
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (40, 8)
    assert usage.status == "succeeded" and usage.attempts == 1
    assert usage.user == "ann" and usage.feature == "chat"
    assert usage.model == settings.get_settings().model
    # claude-sonnet-4-6: (3, 15, 0.3, 3.75) US$ per million tokens
    assert usage.cost_estimate == pytest.approx((120 * 3 + 9 * 15 + 40 * 0.3 + 8 * 3.75) / 1e6)


def test_request_carries_model_system_and_max_tokens(fake: FakeClaude) -> None:
    claude.complete_text(USER_MESSAGE, system="be brief", feature="t", user="ann",
                         model="claude-haiku-4-5")
    body = fake.message_requests[-1]["body"]
    assert body["model"] == "claude-haiku-4-5"
    assert body["system"] == "be brief"
    assert body["max_tokens"] == settings.get_settings().claude_max_tokens


def test_structured_forces_the_tool_and_validates(fake: FakeClaude) -> None:
    fake.script([{"when_tools": True,
                  "tool_use": {"name": "plan", "input": {"sql": "SELECT 1", "rows": 3}}}])
    plan = claude.structured(USER_MESSAGE, system="s", tool_name="plan", schema_model=Plan,
                             feature="t", user="ann")
    assert plan == Plan(sql="SELECT 1", rows=3)
    body = fake.message_requests[-1]["body"]
    assert body["tool_choice"] == {"type": "tool", "name": "plan"}
    assert body["tools"][0]["input_schema"]["required"] == ["sql", "rows"]


def test_structured_invalid_input_is_one_clear_error(fake: FakeClaude) -> None:
    fake.script([{"tool_use": {"name": "plan", "input": {"sql": ["not", "text"]}}}])
    records: list[CallUsage] = []
    with pytest.raises(ClaudeUnavailable) as caught:
        claude.structured(USER_MESSAGE, system="s", tool_name="plan", schema_model=Plan,
                          feature="t", user="ann", on_usage=records.append)
    assert str(caught.value) == claude.BAD_REPLY
    assert records[0].status == "failed" and records[0].input_tokens > 0


def test_structured_without_the_tool_call_is_refused(fake: FakeClaude) -> None:
    fake.script([{"text": "I would rather chat."}])
    with pytest.raises(ClaudeUnavailable, match="expected shape"):
        claude.structured(USER_MESSAGE, system="s", tool_name="plan", schema_model=Plan,
                          feature="t", user="ann")


def test_no_key_explains_how_to_add_one(fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    settings.reset_settings_cache()
    assert claude.is_configured() is False
    with pytest.raises(ClaudeUnavailable) as caught:
        claude.stream_text(USER_MESSAGE, system="s", feature="t", user="ann")
    assert str(caught.value) == claude.NO_KEY
    assert "ANTHROPIC_API_KEY" in str(caught.value)
    assert fake.requests == []
    assert claude.list_models() == settings.get_settings().available_models


def test_budget_hook_runs_first_and_blocks_the_request(fake: FakeClaude) -> None:
    seen: list[str] = []

    def refuse(user: str) -> None:
        seen.append(user)
        raise BudgetExceeded("Your monthly Claude budget is used up.")

    claude.set_budget_check(refuse)
    with pytest.raises(BudgetExceeded):
        claude.complete_text(USER_MESSAGE, system="s", feature="t", user="bob")
    with pytest.raises(BudgetExceeded):
        claude.stream_text(USER_MESSAGE, system="s", feature="t", user="bob")
    assert seen == ["bob", "bob"]
    assert fake.requests == []


def test_usage_sink_and_callback_both_receive_each_call(fake: FakeClaude) -> None:
    sink: list[CallUsage] = []
    mine: list[CallUsage] = []
    claude.set_usage_sink(sink.append)
    claude.complete_text(USER_MESSAGE, system="s", feature="t", user="ann", on_usage=mine.append)
    fake.fail_next(status=401)
    with pytest.raises(ClaudeUnavailable):
        claude.complete_text(USER_MESSAGE, system="s", feature="t", user="ann")
    assert [u.status for u in sink] == ["succeeded", "failed"]
    assert len(mine) == 1
    assert sink[1].error == claude.KEY_REFUSED


def test_a_broken_sink_does_not_break_the_call(fake: FakeClaude) -> None:
    def broken(usage: CallUsage) -> None:
        raise RuntimeError("database down")

    claude.set_usage_sink(broken)
    assert claude.complete_text(USER_MESSAGE, system="s", feature="t", user="ann")


def test_unknown_model_has_no_cost_estimate(fake: FakeClaude) -> None:
    records: list[CallUsage] = []
    claude.complete_text(USER_MESSAGE, system="s", feature="t", user="ann",
                         model="someone-elses-model", on_usage=records.append)
    assert records[0].cost_estimate is None
    dated = CallUsage(user="a", feature="f", model="claude-haiku-4-5-20251001", input_tokens=10**6)
    assert claude.estimate_cost(dated.model, dated) == pytest.approx(1.0)


def test_cancel_event_stops_the_stream_and_records_cancelled(fake: FakeClaude) -> None:
    fake.script([{"text": "word " * 200, "chunk_size": 5, "chunk_delay": 0.01}])
    cancel = threading.Event()
    records: list[CallUsage] = []
    received: list[str] = []
    for chunk in claude.stream_text(USER_MESSAGE, system="s", feature="chat", user="ann",
                                    on_usage=records.append, cancel_event=cancel):
        received.append(chunk)
        if len(received) == 3:
            cancel.set()
    assert len(received) == 3
    assert records[0].status == "cancelled"
    assert records[0].input_tokens > 0  # known from message_start


def test_abandoning_the_stream_records_cancelled(fake: FakeClaude) -> None:
    fake.script([{"text": "word " * 50, "chunk_size": 5}])
    records: list[CallUsage] = []
    stream = claude.stream_text(USER_MESSAGE, system="s", feature="chat", user="ann",
                                on_usage=records.append)
    assert next(stream)
    stream.close()  # type: ignore[attr-defined]
    assert [r.status for r in records] == ["cancelled"]


def test_list_models_comes_from_the_api(fake: FakeClaude) -> None:
    assert claude.list_models() == ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-7"]


def test_list_models_falls_back_to_settings_when_unreachable(
        fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    settings.reset_settings_cache()
    claude.reset_clients()
    assert claude.list_models() == settings.get_settings().available_models


def test_the_api_key_never_reaches_logs_or_errors(
        fake: FakeClaude, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-test-SECRET123"
    point_claude_at(fake, monkeypatch, key=secret, max_retries=2)
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    records: list[CallUsage] = []
    for status in (500, 401):
        fake.fail_next(status=status, count=3)
        with pytest.raises(ClaudeUnavailable) as caught:
            claude.complete_text(USER_MESSAGE, system="s", feature="t", user="ann",
                                 on_usage=records.append)
        errors += [str(caught.value), repr(caught.value)]
    fake.drop_next(count=3)
    with pytest.raises(ClaudeUnavailable) as dropped:
        list(claude.stream_text(USER_MESSAGE, system="s", feature="t", user="ann"))
    errors += [str(dropped.value), repr(dropped.value)]
    assert caplog.records  # the SDK and our retry log did write something
    logged = "\n".join(r.getMessage() + str(r.args) + str(r.exc_text) for r in caplog.records)
    assert secret not in logged
    assert all(secret not in text for text in errors)
    assert all(secret not in r.model_dump_json() for r in records)
    assert secret not in repr(settings.get_settings())
    # the key did go where it belongs: the request headers
    assert secret in fake.message_requests[-1]["headers"]["authorization"]
