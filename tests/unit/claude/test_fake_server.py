"""The fake Messages API itself: wire format, scripting, faults, request log, standalone mode."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from services.claude import ask_prompts
from tests.fakes.claude_server import FakeClaude

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(fake: FakeClaude) -> None:
    fake.reset()


def _post(fake: FakeClaude, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"{fake.base_url}/v1/messages", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json",
                                              "x-api-key": "k"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-6", "max_tokens": 100,
            "messages": [{"role": "user", "content": text}], **extra}


def _sdk(fake: FakeClaude) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="k", base_url=fake.base_url, max_retries=0, timeout=5)


def test_json_reply_has_message_shape_and_usage(fake: FakeClaude) -> None:
    fake.script([{"match": "hello", "text": "Hi there.",
                  "usage": {"input_tokens": 11, "output_tokens": 3,
                            "cache_read_input_tokens": 7}}])
    status, _, raw = _post(fake, _body("hello world"))
    message = json.loads(raw)
    assert status == 200
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [{"type": "text", "text": "Hi there."}]
    assert message["usage"]["input_tokens"] == 11
    assert message["usage"]["cache_read_input_tokens"] == 7
    assert message["stop_reason"] == "end_turn"


def test_rules_pick_by_pattern_and_tools_then_default(fake: FakeClaude) -> None:
    fake.script([
        {"match": "region", "when_tools": True,
         "tool_use": {"name": "run_sql", "input": {"sql": "SELECT 1"}}},
        {"match": "region", "text": "Regions!"},
    ])
    tools = [{"name": "run_sql", "input_schema": {"type": "object"}}]
    with_tools = json.loads(_post(fake, _body("by region", tools=tools))[2])
    plain = json.loads(_post(fake, _body("by region"))[2])
    other = json.loads(_post(fake, _body("something else"))[2])
    assert with_tools["content"][0]["type"] == "tool_use"
    assert with_tools["content"][0]["input"] == {"sql": "SELECT 1"}
    assert with_tools["stop_reason"] == "tool_use"
    assert plain["content"][0]["text"] == "Regions!"
    assert other["content"][0]["text"]  # the default responder


def test_stream_emits_messages_api_events_in_order(fake: FakeClaude) -> None:
    fake.script([{"text": "abcdefghij", "chunk_size": 3}])
    status, headers, raw = _post(fake, _body("hi", stream=True))
    events = [line.split(": ", 1)[1] for line in raw.decode().splitlines()
              if line.startswith("event: ")]
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert events.count("content_block_delta") == 4  # 10 characters in chunks of 3
    assert events.index("content_block_start") < events.index("content_block_delta")
    assert events.index("message_delta") == len(events) - 2


def test_sdk_reads_stream_including_tool_json(fake: FakeClaude) -> None:
    fake.script([{"tool_use": {"name": "run_sql", "input": {"sql": "SELECT 42", "n": [1]}}}])
    with _sdk(fake).messages.stream(model="m", max_tokens=10,
                                    messages=[{"role": "user", "content": "x"}]) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "tool_use"
    assert final.content[0].input == {"sql": "SELECT 42", "n": [1]}
    assert final.usage.output_tokens > 0


def test_injected_status_fault_with_retry_after_is_used_once(fake: FakeClaude) -> None:
    fake.fail_next(status=429, count=2, retry_after=0.5)
    first, second, third = (_post(fake, _body("x")) for _ in range(3))
    assert first[0] == 429 and second[0] == 429 and third[0] == 200
    assert first[1]["retry-after"] == "0.5"
    assert json.loads(first[2])["error"]["type"] == "rate_limit_error"


def test_overloaded_and_server_errors_use_api_error_types(fake: FakeClaude) -> None:
    fake.fail_next(status=529)
    fake.fail_next(status=500)
    assert json.loads(_post(fake, _body("x"))[2])["error"]["type"] == "overloaded_error"
    assert json.loads(_post(fake, _body("x"))[2])["error"]["type"] == "api_error"


def test_dropped_connection_and_delay(fake: FakeClaude) -> None:
    fake.drop_next()
    with pytest.raises(anthropic.APIConnectionError):
        _sdk(fake).messages.create(model="m", max_tokens=5,
                                   messages=[{"role": "user", "content": "x"}])
    fake.delay_next(0.3)
    started = time.perf_counter()
    assert _post(fake, _body("x"))[0] == 200
    assert time.perf_counter() - started >= 0.3


def test_request_log_keeps_headers_and_body(fake: FakeClaude) -> None:
    _post(fake, _body("logged question"))
    entry = fake.message_requests[-1]
    assert entry["headers"]["x-api-key"] == "k"
    assert entry["body"]["messages"][0]["content"] == "logged question"


def test_models_list_for_the_sdk(fake: FakeClaude) -> None:
    ids = [m.id for m in _sdk(fake).models.list()]
    assert "claude-sonnet-4-6" in ids


def test_default_plans_group_by_from_the_schema_block(fake: FakeClaude) -> None:
    schema = {"tables": [{"table": "sales", "dataset": "Sales", "columns": [
        {"name": "order_date", "label": "Order date", "type": "date"},
        {"name": "region", "label": "Region", "type": "text"},
        {"name": "amount", "label": "Amount", "type": "number"}]}]}
    body = _body("Question: Which region grew fastest last year?",
                 system=ask_prompts.plan_system(schema),
                 tools=[{"name": "run_sql", "input_schema": {"type": "object"}}],
                 tool_choice={"type": "tool", "name": "run_sql"})
    tool = json.loads(_post(fake, body)[2])["content"][0]
    assert tool["name"] == "run_sql"
    assert tool["input"]["sql"] == ('SELECT "region", sum("amount") AS "total_amount" '
                                   'FROM "sales" GROUP BY 1 ORDER BY 2 DESC LIMIT 20')
    assert tool["input"]["chart"] == {"chart_type": "bar", "x": "region", "y": "total_amount"}
    other = json.loads(_post(fake, {**body, "messages": [
        {"role": "user", "content": "Question: show me the data"}]})[2])["content"][0]
    assert other["input"]["sql"] == 'SELECT * FROM "sales" LIMIT 5'
    schema["tables"][0]["columns"].insert(0, {"name": "city", "label": "City", "type": "text"})
    body["system"] = ask_prompts.plan_system(schema)
    named = json.loads(_post(fake, body)[2])["content"][0]
    assert named["input"]["sql"].startswith('SELECT "region"')  # the column the question names


def test_default_answer_quotes_the_first_result_row(fake: FakeClaude) -> None:
    data = ask_prompts.quote_data({"columns": ["region", "total"], "rows": [["North", 10]]})
    reply = json.loads(_post(fake, _body(f"Question: q\n\nResult:\n{data}"))[2])
    assert "North" in reply["content"][0]["text"]


def test_standalone_process_serves_a_script(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"match": "ping", "text": "pong"}]))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.claude_server", "--port", "0", "--script",
         str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        client = anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0, timeout=5)
        reply = client.messages.create(model="m", max_tokens=5,
                                       messages=[{"role": "user", "content": "ping"}])
        assert reply.content[0].type == "text" and reply.content[0].text == "pong"
    finally:
        process.terminate()
        process.wait(timeout=5)


def test_fail_fraction_refuses_about_that_share(fake: FakeClaude) -> None:
    fake.fail_fraction(0.5, 429, retry_after=0.01, seed=1)
    statuses = [_post(fake, _body("x"))[0] for _ in range(40)]
    assert 10 <= statuses.count(429) <= 30
    assert set(statuses) == {200, 429}
    fake.fail_fraction(0)
    assert _post(fake, _body("x"))[0] == 200
