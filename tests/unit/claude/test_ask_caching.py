"""Ask against the fake with prompt caching: writes on turn 1, reads after, cheaper input."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services.access.users import UserView
from services.claude import ask, ask_prompts
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



def test_the_answer_call_is_sent_on_its_own_because_that_costs_less(
        fake: FakeClaude, tmp_path: Path) -> None:
    """The answer call never carried the schema. Repeating the planning prefix would save
    only the answer's own short system prompt, and reading the prefix costs more than that."""
    table = _table(tmp_path, 40)
    fake.script([_plan_reply(), {"when_tools": False, "text": "There are 2 rows."}])
    first = ask.ask("How many rows?", [table], user="ann")
    second = ask.ask("And now?", [table], [first.as_turn()], user="ann")
    for result in (first, second):
        plan = next(u for u in result.usage if u.feature == ask.FEATURE_PLAN)
        answer = next(u for u in result.usage if u.feature == ask.FEATURE_ANSWER)
        prefix = plan.cache_read_tokens + plan.cache_write_tokens
        reading_it = plan.model_copy(update={
            "input_tokens": 0, "cache_read_tokens": prefix, "cache_write_tokens": 0})
        saved = answer.model_copy(update={
            "input_tokens": len(ask_prompts.ANSWER_SYSTEM) // 4, "cache_read_tokens": 0})
        assert prefix > 0 and answer.cache_read_tokens == answer.cache_write_tokens == 0
        assert _input_cost(saved) < _input_cost(reading_it)
    body = fake.message_requests[-1]["body"]
    assert "tools" not in body and isinstance(body["system"], str)
    assert "cache_control" not in str(body["messages"])


def test_a_repair_repeats_the_planning_prompt_without_reading_samples_again(
        fake: FakeClaude, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = _table(tmp_path, 40)
    reads: list[str] = []
    original = ask._sample_rows
    monkeypatch.setattr(ask, "_sample_rows", lambda t: reads.append(t.sql_name) or original(t))
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": 'SELECT "missing" FROM "wide"', "chart": None, "explanation": "x"}}},
        _plan_reply(), {"text": "There are 2 rows."})
    ask.ask("How many rows?", [table], user="ann")
    plan_body, repair_body = (r["body"] for r in fake.message_requests[:2])
    assert repair_body["system"] == plan_body["system"] and reads == ["wide"]
