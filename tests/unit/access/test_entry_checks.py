"""Every public entry point of the datasets, research, conversations, Ask and usage services
checks the caller's role (and access) first: a viewer, or a stranger to private data, is
refused before any work — no store opened by that service, no file read, no Claude request.

A meta-test keeps the table honest: a new public function taking an `actor` must be listed
here (as refused, or as open to every role with a reason)."""

import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from services.access.permissions import Role
from services.access.users import UserView
from services.claude import ask, ask_tables, ask_turns, conversations, usage
from services.claude.ask import AskResult, AskTable, SqlPlan
from services.claude.ask_turns import TurnRequest
from services.claude.conversations import NewMessage, NewTurn
from services.claude.usage import BudgetChange
from services.data import datasets
from services.data.added_columns import AddClaudeColumns
from services.data.dataset_models import DropDuplicates, ReadOptions
from services.errors import NotFound, PermissionDenied
from services.research import insights, items, saved_insights
from services.research.saved_insights import NewInsight
from tests.factories import make_admin, make_item, make_user
from tests.fakes.claude_server import FakeClaude

MODULES: list[ModuleType] = [datasets, saved_insights, conversations, ask, ask_tables, ask_turns,
                             usage]
# Open to every signed-in role: what they may see is filtered by the query itself.
OPEN_TO_ALL = {
    "datasets.list_datasets", "datasets.get_dataset", "datasets.list_versions",
    "datasets.get_version", "datasets.recipe_sql", "datasets.original_file",
}


class Touched(AssertionError):
    """A refused call reached the store, the sandbox or Claude."""


def _trap(*_: Any, **__: Any) -> Any:
    raise Touched("the call did work before checking who is calling")


@pytest.fixture
def people() -> dict[str, UserView]:
    ada = make_admin()
    return {"ada": ada, "vic": make_user(ada, "vic", Role.VIEWER),
            "bob": make_user(ada, "bob", Role.ANALYST)}


@pytest.fixture
def sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each service's own store, sandbox and file work raise `Touched` (the caller's role
    is still read from the accounts table, which the checks themselves use)."""
    for module in (datasets, saved_insights, items, conversations, usage):
        monkeypatch.setattr(module, "session_scope", _trap)
    monkeypatch.setattr(datasets, "ingest", _Trapped())
    monkeypatch.setattr(datasets, "cleaning", _Trapped())
    monkeypatch.setattr(ask, "run_sandboxed", _trap)
    monkeypatch.setattr(ask, "check_sql", _trap)
    monkeypatch.setattr(ask.claude, "structured", _trap)
    monkeypatch.setattr(ask.claude, "stream_text", _trap)
    monkeypatch.setattr(ask_tables, "datasets", _Trapped())
    monkeypatch.setattr(ask_turns, "conversations", _Trapped())


class _Trapped:
    def __getattr__(self, name: str) -> Callable[..., Any]:
        return _trap


def _table(tmp_path: Path) -> AskTable:
    return AskTable(sql_name="t", display_name="T", parquet_path=tmp_path / "t.parquet")


def _claude_columns() -> AddClaudeColumns:
    return AddClaudeColumns(template_id=1, template_version=1, model="m", inputs={},
                            columns=[], results_file="/nonexistent/results.parquet")


def _viewer_calls(tmp_path: Path) -> dict[str, Callable[[UserView], Any]]:
    """Every refused entry point, called as a viewer would call it."""
    table = _table(tmp_path)
    answered = AskResult(question="q", frame=pd.DataFrame({"a": [1]}))
    turn = NewTurn(dataset_ids=[1], question="q", answer=NewMessage(role="assistant"))
    return {
        "datasets.create_from_upload": lambda u: datasets.create_from_upload(
            u, tmp_path / "x.csv", original_name="x.csv"),
        "datasets.create_from_sample": lambda u: datasets.create_from_sample(u, "tips"),
        "datasets.create_from_copy": lambda u: datasets.create_from_copy(
            u, tmp_path / "x.parquet", name="x", source="snapshot", description=""),
        "datasets.reread_original": lambda u: datasets.reread_original(u, 1, ReadOptions()),
        "datasets.find_identical_upload": lambda u: datasets.find_identical_upload(
            u, tmp_path / "x.csv"),
        "datasets.apply_steps": lambda u: datasets.apply_steps(u, 1, [DropDuplicates()]),
        "datasets.restore_version": lambda u: datasets.restore_version(u, 1, 1),
        "datasets.add_claude_columns": lambda u: datasets.add_claude_columns(
            u, 1, _claude_columns(), base_version=1, note=""),
        "datasets.update_details": lambda u: datasets.update_details(
            u, 1, name="n", description=""),
        "datasets.set_shared": lambda u: datasets.set_shared(u, 1, True),
        "datasets.delete_dataset": lambda u: datasets.delete_dataset(u, 1),
        "items.create_item": lambda u: make_item(u, "Idea"),
        "saved_insights.save_insight": lambda u: saved_insights.save_insight(
            u, NewInsight(item_id=1, kind="answer", title="t", spec={}), pd.DataFrame()),
        "conversations.create_conversation": lambda u: conversations.create_conversation(
            u, "t", [1]),
        "conversations.list_conversations": conversations.list_conversations,
        "conversations.get_conversation": lambda u: conversations.get_conversation(u, 1),
        "conversations.rename_conversation": lambda u: conversations.rename_conversation(
            u, 1, "t"),
        "conversations.set_datasets": lambda u: conversations.set_datasets(u, 1, [1]),
        "conversations.delete_conversation": lambda u: conversations.delete_conversation(u, 1),
        "conversations.add_message": lambda u: conversations.add_message(
            u, 1, NewMessage(role="user", content="q")),
        "conversations.save_turn": lambda u: conversations.save_turn(u, turn),
        "conversations.list_messages": lambda u: conversations.list_messages(u, 1),
        "conversations.usage_totals": lambda u: conversations.usage_totals(u, 1),
        "ask.plan_query": lambda u: ask.plan_query("q", [table], actor=u),
        "ask.run_with_repairs": lambda u: ask.run_with_repairs(
            "q", SqlPlan(sql="SELECT 1"), [table], actor=u),
        "ask.stream_answer": lambda u: list(ask.stream_answer("q", answered, actor=u)),
        "ask.ask": lambda u: ask.ask("q", [table], actor=u),
        "ask.run_sql": lambda u: ask.run_sql("SELECT 1", [table], actor=u),
        "ask_tables.tables_for": lambda u: ask_tables.tables_for(u, [1]),
        "ask_turns.answer_turn": lambda u: ask_turns.answer_turn(
            u, TurnRequest(question="q", dataset_ids=[1])),
        "ask_turns.run_sql": lambda u: ask_turns.run_sql(u, "SELECT 1", [1]),
        "usage.set_budget": lambda u: usage.set_budget(u, BudgetChange(username="bob")),
        "usage.list_budgets": usage.list_budgets,
        "usage.set_send_sample_rows": lambda u: usage.set_send_sample_rows(u, False),
    }


def _entry_points() -> set[str]:
    """Public functions of the services above that take the caller (`actor`)."""
    found = set()
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[-1]
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            if "actor" in inspect.signature(function).parameters:
                found.add(f"{short}.{name}")
    return found


def test_every_entry_point_is_checked_here(tmp_path: Path) -> None:
    listed = set(_viewer_calls(tmp_path)) | OPEN_TO_ALL
    assert _entry_points() - listed == set(), "a new entry point needs a line in this test"


@pytest.mark.usefixtures("sealed")
@pytest.mark.parametrize("entry", sorted(_viewer_calls(Path("/nonexistent"))))
def test_a_viewer_is_refused_before_any_work(entry: str, people: dict[str, UserView],
                                             claude_at_fake: FakeClaude, tmp_path: Path) -> None:
    call = _viewer_calls(tmp_path)[entry]
    with pytest.raises(PermissionDenied):
        call(people["vic"])
    assert claude_at_fake.message_requests == []


def test_a_stranger_cannot_reach_private_data(people: dict[str, UserView],
                                              claude_at_fake: FakeClaude) -> None:
    ada, bob = people["ada"], people["bob"]
    private = datasets.create_from_sample(ada, "tips")
    shared = datasets.create_from_sample(ada, "iris")
    datasets.set_shared(ada, shared.id, True)
    thread = conversations.create_conversation(ada, "Mine", [private.id])
    item = make_item(ada, "My idea")
    before = (datasets.get_dataset(ada, private.id), conversations.list_messages(ada, thread.id))
    refused: list[Callable[[], Any]] = [
        lambda: datasets.get_dataset(bob, private.id),
        lambda: datasets.list_versions(bob, private.id),
        lambda: datasets.get_version(bob, private.id),
        lambda: datasets.original_file(bob, private.id),
        lambda: datasets.recipe_sql(bob, private.id, 1, [DropDuplicates()]),
        lambda: datasets.restore_version(bob, private.id, 1),
        lambda: datasets.update_details(bob, private.id, name="Mine now", description=""),
        lambda: datasets.set_shared(bob, private.id, True),
        lambda: datasets.delete_dataset(bob, private.id),
        lambda: datasets.apply_steps(bob, private.id, [DropDuplicates()]),
        lambda: datasets.add_claude_columns(bob, private.id, _claude_columns(),
                                            base_version=1, note=""),
        lambda: insights.list_insights(bob, item.id),
        lambda: saved_insights.save_insight(bob, NewInsight(item_id=item.id, kind="answer",
                                                            title="t", spec={}),
                                            pd.DataFrame()),
        lambda: conversations.get_conversation(bob, thread.id),
        lambda: conversations.rename_conversation(bob, thread.id, "Mine now"),
        lambda: conversations.set_datasets(bob, thread.id, []),
        lambda: conversations.delete_conversation(bob, thread.id),
        lambda: conversations.add_message(bob, thread.id, NewMessage(role="user", content="q")),
        lambda: conversations.list_messages(bob, thread.id),
        lambda: conversations.usage_totals(bob, thread.id),
        lambda: conversations.save_turn(bob, NewTurn(
            conversation_id=thread.id, dataset_ids=[], question="q",
            answer=NewMessage(role="assistant"))),
        lambda: ask_tables.tables_for(bob, [private.id]),
        lambda: ask_turns.answer_turn(bob, TurnRequest(question="q",
                                                       dataset_ids=[private.id])),
        lambda: ask_turns.run_sql(bob, 'SELECT * FROM "tips"', [private.id]),
        lambda: ask_turns.answer_turn(bob, TurnRequest(question="q", dataset_ids=[shared.id],
                                                       conversation_id=thread.id)),
    ]
    for call in refused:
        with pytest.raises((NotFound, PermissionDenied)):
            call()
    assert claude_at_fake.message_requests == []  # not one Claude token for a stranger
    after = (datasets.get_dataset(ada, private.id), conversations.list_messages(ada, thread.id))
    assert after == before
    assert conversations.list_conversations(bob) == []
    assert insights.list_insights(ada, item.id) == []
