"""One Ask turn is one service call and one transaction: real SDK → fake Messages API, real
guard and sandbox, real metadata store."""

import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from services.access.permissions import Role
from services.access.users import UserView
from services.claude import ask_turns, conversations
from services.claude.ask_turns import STEP_PLAN, STEP_RUN, TurnRequest
from services.claude.client import ClaudeCancelled
from services.data import datasets
from services.data.datasets import DatasetView
from services.errors import ClaudeUnavailable, InvalidInput, PermissionDenied, UnsafeQuery
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude

QUESTION = "Which continent has the biggest pop?"
BAD_PLAN = {"when_tools": True, "tool_use": {"name": "run_sql", "input": {
    "sql": 'SELECT "no_such_column" FROM "gapminder"', "explanation": "x"}}}

pytestmark = pytest.mark.usefixtures("claude_at_fake")


@pytest.fixture
def ada() -> UserView:
    return make_admin()


@pytest.fixture
def gapminder(ada: UserView) -> DatasetView:
    return datasets.create_from_sample(ada, "gapminder")


@pytest.fixture
def transactions() -> Iterator[list[set[str]]]:
    """The tables each committed transaction wrote to, in order."""
    committed: list[set[str]] = []
    pending: dict[int, set[str]] = {}

    def flushed(session: Session, _: Any) -> None:
        touched = [*session.new, *session.dirty, *session.deleted]
        pending.setdefault(id(session), set()).update(o.__tablename__ for o in touched)

    def done(session: Session) -> None:
        committed.append(pending.pop(id(session), set()))

    event.listen(Session, "after_flush", flushed)
    event.listen(Session, "after_commit", done)
    yield committed
    event.remove(Session, "after_flush", flushed)
    event.remove(Session, "after_commit", done)


def _turn_writes(committed: list[set[str]]) -> list[set[str]]:
    return [tables for tables in committed if tables & {"conversations", "messages"}]


def test_a_turn_is_answered_and_stored_in_one_transaction(
        ada: UserView, gapminder: DatasetView, transactions: list[set[str]]) -> None:
    steps: list[str] = []
    words: list[str] = []
    turn = ask_turns.answer_turn(ada, TurnRequest(question=QUESTION, dataset_ids=[gapminder.id]),
                                 on_step=steps.append, on_text=words.append)
    assert _turn_writes(transactions) == [{"conversations", "messages"}]
    assert steps == [STEP_PLAN, STEP_RUN, ""]
    assert "".join(words) == turn.answer.content and "The result has 5 rows" in "".join(words)
    stored = conversations.list_messages(ada, turn.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[0].content == QUESTION
    answer = stored[1]
    assert answer.status == "answered" and answer.row_count == 5
    assert answer.input_tokens > 0 and answer.output_tokens > 0  # plan + answer
    assert answer.details.tables == {"gapminder": gapminder.name}
    assert answer.details.chart == turn.answer.details.chart is not None  # chosen once
    assert answer.readable_sql and "GROUP BY" in answer.readable_sql
    assert turn.frame is not None and len(turn.frame) == 5
    [thread] = conversations.list_conversations(ada)
    assert thread.title == QUESTION and thread.dataset_ids == [gapminder.id]

    transactions.clear()
    follow_up = ask_turns.answer_turn(ada, TurnRequest(
        question="And by country?", dataset_ids=[gapminder.id],
        conversation_id=turn.conversation_id))
    assert follow_up.conversation_id == turn.conversation_id
    assert _turn_writes(transactions) == [{"conversations", "messages"}]
    assert len(conversations.list_messages(ada, turn.conversation_id)) == 4


def test_when_the_last_write_fails_nothing_of_the_turn_is_stored(
        ada: UserView, gapminder: DatasetView, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ask_turns.answer_turn(ada, TurnRequest(question=QUESTION,
                                                   dataset_ids=[gapminder.id]))
    real = conversations.snapshot_rows

    def failing(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
        if frame is not None:  # the answer's snapshot: written after the question
            raise OSError("disk full")
        return real(frame)

    monkeypatch.setattr(conversations, "snapshot_rows", failing)
    with pytest.raises(OSError):
        ask_turns.answer_turn(ada, TurnRequest(question="A second question?",
                                               dataset_ids=[gapminder.id]))
    other = datasets.create_from_sample(ada, "iris")
    with pytest.raises(OSError):  # a follow-up on other data: the thread keeps its datasets
        ask_turns.answer_turn(ada, TurnRequest(question="A follow-up?", dataset_ids=[other.id],
                                               conversation_id=first.conversation_id))
    assert [c.id for c in conversations.list_conversations(ada)] == [first.conversation_id]
    assert len(conversations.list_messages(ada, first.conversation_id)) == 2
    assert conversations.get_conversation(ada, first.conversation_id).dataset_ids == \
        [gapminder.id]


def test_a_repaired_query_is_stored_with_the_turn(ada: UserView, gapminder: DatasetView,
                                                   claude_at_fake: FakeClaude) -> None:
    claude_at_fake.enqueue(BAD_PLAN)  # then the default responder writes a working query
    turn = ask_turns.answer_turn(ada, TurnRequest(question=QUESTION,
                                                  dataset_ids=[gapminder.id]))
    stored = conversations.list_messages(ada, turn.conversation_id)[1]
    assert stored.status == "answered"
    attempts = stored.details.attempts
    assert len(attempts) == 2
    assert "no_such_column" in attempts[0].sql and attempts[0].error
    assert attempts[1].error is None and stored.sql is not None
    assert "no_such_column" not in stored.sql


def test_could_not_answer_is_stored_honestly(ada: UserView, gapminder: DatasetView,
                                             claude_at_fake: FakeClaude) -> None:
    claude_at_fake.enqueue(BAD_PLAN, BAD_PLAN, BAD_PLAN)
    turn = ask_turns.answer_turn(ada, TurnRequest(question=QUESTION,
                                                  dataset_ids=[gapminder.id]))
    assert turn.answer.status == "could_not_answer" and not turn.offer_retry
    assert turn.answer.content.startswith("I could not answer that")
    assert len(turn.answer.details.attempts) == 3 and turn.answer.details.chart is None


def test_a_viewer_is_refused_before_claude_is_called(ada: UserView, gapminder: DatasetView,
                                                     claude_at_fake: FakeClaude) -> None:
    datasets.set_shared(ada, gapminder.id, True)
    vic = make_user(ada, "vic", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        ask_turns.answer_turn(vic, TurnRequest(question=QUESTION, dataset_ids=[gapminder.id]))
    assert claude_at_fake.message_requests == []
    assert conversations.list_conversations(ada) == []


def test_a_dataset_i_cannot_see_is_refused_before_claude_is_called(
        ada: UserView, gapminder: DatasetView, claude_at_fake: FakeClaude) -> None:
    bob = make_user(ada, "bob")
    with pytest.raises(PermissionDenied):
        ask_turns.answer_turn(bob, TurnRequest(question=QUESTION, dataset_ids=[gapminder.id]))
    assert claude_at_fake.message_requests == []


@pytest.mark.parametrize("question", ["", "   ", "x" * (conversations.MAX_QUESTION + 1)])
def test_a_bad_question_changes_nothing(ada: UserView, gapminder: DatasetView,
                                        claude_at_fake: FakeClaude, question: str) -> None:
    with pytest.raises(InvalidInput):
        ask_turns.answer_turn(ada, TurnRequest(question=question, dataset_ids=[gapminder.id]))
    assert claude_at_fake.message_requests == []
    assert conversations.list_conversations(ada) == []


def test_claude_down_before_a_query_ran_stores_nothing(ada: UserView, gapminder: DatasetView,
                                                       claude_at_fake: FakeClaude) -> None:
    claude_at_fake.fail_next(status=500, count=10)
    with pytest.raises(ClaudeUnavailable):
        ask_turns.answer_turn(ada, TurnRequest(question=QUESTION, dataset_ids=[gapminder.id]))
    assert conversations.list_conversations(ada) == []


def test_stopping_while_the_answer_streams_stores_nothing(ada: UserView,
                                                          gapminder: DatasetView) -> None:
    cancel = threading.Event()
    with pytest.raises(ClaudeCancelled):
        ask_turns.answer_turn(ada, TurnRequest(question=QUESTION, dataset_ids=[gapminder.id]),
                              on_text=lambda _: cancel.set(), cancel_event=cancel)
    assert conversations.list_conversations(ada) == []


def test_the_sql_tab_runs_a_query_over_the_picked_datasets(ada: UserView,
                                                           gapminder: DatasetView) -> None:
    ran = ask_turns.run_sql(ada, 'SELECT continent, count(*) AS n FROM "gapminder" '
                                 "GROUP BY 1 ORDER BY 1", [gapminder.id])
    assert ran.total_rows == 5 and list(ran.frame.columns) == ["continent", "n"]
    with pytest.raises(UnsafeQuery):
        ask_turns.run_sql(ada, "DROP TABLE gapminder", [gapminder.id])
    with pytest.raises(InvalidInput):
        ask_turns.run_sql(ada, "   ", [gapminder.id])
