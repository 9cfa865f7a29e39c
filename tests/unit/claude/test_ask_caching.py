"""Ask against the fake with prompt caching: writes on turn 1, reads after, cheaper input."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.access.users import UserView
from services.claude import ask
from services.claude import client as claude
from services.claude.ask import AskTable, AskTurn
from services.claude.client import CallUsage
from services.data.dataset_models import ColumnInfo
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude

pytestmark = pytest.mark.usefixtures("claude_at_fake")
SQL = 'SELECT count(*) AS "rows" FROM "wide"'


@pytest.fixture(autouse=True)
def ann() -> UserView:
    return make_user(make_admin(), "ann")


def _table(tmp: Path, columns: int) -> AskTable:
    names = [f"measure_with_a_long_descriptive_name_{i:02d}" for i in range(columns)]
    frame = pd.DataFrame({n: [float(i), float(i + 1)] for i, n in enumerate(names)})
    path = tmp / f"wide{columns}.parquet"
    with duckdb.connect() as con:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{path}' (FORMAT parquet)")
    infos = [ColumnInfo(name=n.replace("_", " ").title(), sql_name=n, dtype="number")
             for n in names]
    return AskTable(sql_name="wide", display_name="Wide", parquet_path=path, columns=infos)


def _plan_reply() -> dict[str, object]:
    return {"when_tools": True, "tool_use": {"name": "run_sql", "input": {
        "sql": SQL, "chart": None, "explanation": "Counts rows."}}}


def _input_cost(usage: CallUsage) -> float:
    only_input = usage.model_copy(update={"output_tokens": 0})
    return claude.estimate_cost(usage.model, only_input) or 0.0


def test_a_conversation_writes_the_cache_once_then_reads_it(
        fake: FakeClaude, tmp_path: Path) -> None:
    table = _table(tmp_path, 40)
    fake.script([_plan_reply(), {"when_tools": False, "text": "There are 2 rows."}])
    history: list[AskTurn] = []
    plans: list[CallUsage] = []
    for question in ["How many rows?", "And now?", "Once more?", "Last one?"]:
        result = ask.ask(question, [table], history, user="ann")
        assert result.status == "answered"
        plans.append(next(u for u in result.usage if u.feature == ask.FEATURE_PLAN))
        history.append(result.as_turn())
    body = fake.message_requests[0]["body"]
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert plans[0].cache_write_tokens > 0 and plans[0].cache_read_tokens == 0
    assert all(p.cache_read_tokens >= plans[0].cache_write_tokens for p in plans[1:])
    uncached = plans[-1].model_copy(update={
        "input_tokens": plans[-1].input_tokens + plans[-1].cache_read_tokens
        + plans[-1].cache_write_tokens, "cache_read_tokens": 0, "cache_write_tokens": 0})
    assert _input_cost(plans[-1]) < 0.35 * _input_cost(uncached)


def test_a_repair_reads_the_cached_prefix(fake: FakeClaude, tmp_path: Path) -> None:
    table = _table(tmp_path, 40)
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": 'SELECT "missing" FROM "wide"', "chart": None, "explanation": "x"}}},
        _plan_reply(), {"text": "There are 2 rows."})
    result = ask.ask("How many rows?", [table], user="ann")
    plans = [u for u in result.usage if u.feature == ask.FEATURE_PLAN]
    assert len(plans) == 2 and plans[1].cache_read_tokens >= plans[0].cache_write_tokens > 0


def test_a_short_prompt_is_sent_without_cache_control(fake: FakeClaude, tmp_path: Path) -> None:
    fake.script([_plan_reply(), {"when_tools": False, "text": "There are 2 rows."}])
    ask.ask("How many rows?", [_table(tmp_path, 1)], user="ann")
    body = fake.message_requests[0]["body"]
    assert isinstance(body["system"], str)
    assert "cache_control" not in str(body["messages"])


def _marks(body: dict) -> int:
    blocks = [*body.get("tools", []), *(body["system"] if isinstance(body["system"], list)
                                        else [])]
    for message in body["messages"]:
        if isinstance(message["content"], list):
            blocks += message["content"]
    return sum(1 for b in blocks if "cache_control" in b)


def test_the_answer_call_reads_the_planning_prefix(fake: FakeClaude, tmp_path: Path) -> None:
    table = _table(tmp_path, 40)
    fake.script([_plan_reply(), {"when_tools": False, "text": "There are 2 rows."}])
    first = ask.ask("How many rows?", [table], user="ann")
    second = ask.ask("And now?", [table], [first.as_turn()], user="ann")
    assert first.answer_text == second.answer_text == "There are 2 rows."
    plan_body, answer_body = (r["body"] for r in fake.message_requests[:2])
    # the same tools, system and conversation as the planning call, then the answer request
    assert answer_body["tools"] == plan_body["tools"]
    assert answer_body["tool_choice"] == {"type": "none"}
    assert answer_body["system"] == plan_body["system"]
    question = answer_body["messages"][0]
    assert question == plan_body["messages"][0]  # marked: the turn's history ends here
    assert answer_body["messages"][1]["content"] == f"I ran this SQL:\n{first.sql}"
    assert "<data>" in answer_body["messages"][2]["content"]
    assert all(_marks(r["body"]) <= 4 for r in fake.message_requests)
    answers = [[u for u in r.usage if u.feature == ask.FEATURE_ANSWER][0]
               for r in (first, second)]
    plan = next(u for u in first.usage if u.feature == ask.FEATURE_PLAN)
    # tool_choice differs from the planning call's: the tools + system prefix is read
    assert answers[0].cache_read_tokens > 0.9 * plan.cache_write_tokens > 0
    # the second turn's answer also reads the first turn's conversation (answer calls cache it)
    assert answers[1].cache_read_tokens > answers[0].cache_read_tokens
    uncached = answers[1].model_copy(update={
        "input_tokens": answers[1].input_tokens + answers[1].cache_read_tokens
        + answers[1].cache_write_tokens, "cache_read_tokens": 0, "cache_write_tokens": 0})
    assert _input_cost(answers[1]) < 0.5 * _input_cost(uncached)


def test_a_repaired_answer_repeats_the_repair_conversation(
        fake: FakeClaude, tmp_path: Path) -> None:
    table = _table(tmp_path, 40)
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": 'SELECT "missing" FROM "wide"', "chart": None, "explanation": "x"}}},
        _plan_reply(), {"text": "There are 2 rows."})
    result = ask.ask("How many rows?", [table], user="ann")
    repair_body, answer_body = (r["body"] for r in fake.message_requests[1:3])
    sent = len(repair_body["messages"])
    assert [m["role"] for m in answer_body["messages"][sent:]] == ["assistant", "user"]
    assert str(answer_body["messages"][:sent - 1]) == str(repair_body["messages"][:sent - 1])
    answer = next(u for u in result.usage if u.feature == ask.FEATURE_ANSWER)
    assert answer.cache_read_tokens > 0


def test_a_short_prompt_answers_as_before(fake: FakeClaude, tmp_path: Path) -> None:
    fake.script([_plan_reply(), {"when_tools": False, "text": "There are 2 rows."}])
    ask.ask("How many rows?", [_table(tmp_path, 1)], user="ann")
    body = fake.message_requests[-1]["body"]
    assert "tools" not in body and isinstance(body["system"], str)
