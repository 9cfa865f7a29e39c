"""Ask conversations: owner-only threads, messages with SQL, snapshots and usage per turn."""

import pandas as pd
import pytest

from services.access.permissions import Role
from services.charts.spec import ChartSpec
from services.claude import conversations as conv
from services.claude.ask import SqlAttempt
from services.claude.conversations import NewMessage, TurnDetails
from services.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import make_admin, make_user


def _answer(frame: pd.DataFrame) -> NewMessage:
    return NewMessage(
        role="assistant", content="Asia grew fastest.", sql='SELECT 1 FROM "t"',
        status="answered", row_count=len(frame), result=frame, input_tokens=120,
        output_tokens=30,
        details=TurnDetails(chart=ChartSpec(chart_type="bar", x="continent", y="pop", agg="sum"),
                            chart_source="claude", tables={"t": "Gapminder"},
                            attempts=[SqlAttempt(sql="SELECT x", error="no column x"),
                                      SqlAttempt(sql='SELECT 1 FROM "t"')]))


def test_a_thread_round_trips_with_snapshot_chart_and_usage() -> None:
    ada = make_admin()
    thread = conv.create_conversation(ada, "  Growth   by region ", [3, 1])
    assert thread.title == "Growth by region" and thread.dataset_ids == [3, 1]
    conv.add_message(ada, thread.id, NewMessage(role="user", content="Which grew fastest?"))
    frame = pd.DataFrame({"continent": [f"c{i}" for i in range(500)], "pop": range(500),
                          "when": pd.date_range("2020-01-01", periods=500)})
    saved = conv.add_message(ada, thread.id, _answer(frame))
    messages = conv.list_messages(ada, thread.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    answer = messages[1]
    assert answer.id == saved.id and answer.row_count == 500
    assert len(answer.rows) == conv.MAX_SNAPSHOT_ROWS  # snapshot capped
    snap = answer.snapshot_frame()
    assert list(snap.columns) == ["continent", "pop", "when"]
    # dates come back as dates (stored as ISO text), so the stored chart draws as it did
    assert pd.api.types.is_datetime64_any_dtype(snap["when"])
    assert snap["when"].iloc[0] == pd.Timestamp("2020-01-01")
    assert answer.details.chart is not None and answer.details.chart.x == "continent"
    assert answer.details.attempts[0].error == "no column x"
    assert conv.usage_totals(ada, thread.id) == (120, 30)


def test_history_pairs_questions_with_answers() -> None:
    ada = make_admin()
    thread = conv.create_conversation(ada, "t", [])
    conv.add_message(ada, thread.id, NewMessage(role="user", content="First?"))
    conv.add_message(ada, thread.id, _answer(pd.DataFrame({"a": [1]})))
    conv.add_message(ada, thread.id, NewMessage(role="user", content="Second?"))
    turns = conv.history(conv.list_messages(ada, thread.id))
    assert [t.question for t in turns] == ["First?", "Second?"]
    assert turns[0].sql == 'SELECT 1 FROM "t"' and turns[0].answer == "Asia grew fastest."
    assert turns[1].answer is None


def test_list_rename_delete_are_owner_only() -> None:
    ada = make_admin()
    bob = make_user(ada, "bob")
    mine = conv.create_conversation(bob, "Bob's thread", [1])
    conv.add_message(bob, mine.id, NewMessage(role="user", content="secret question"))
    conv.create_conversation(ada, "Ada's thread", [1])
    assert [c.title for c in conv.list_conversations(bob)] == ["Bob's thread"]
    # an admin is not the owner: bob's conversation stays invisible to her
    for action in (lambda: conv.get_conversation(ada, mine.id),
                   lambda: conv.list_messages(ada, mine.id),
                   lambda: conv.rename_conversation(ada, mine.id, "mine now"),
                   lambda: conv.delete_conversation(ada, mine.id),
                   lambda: conv.add_message(ada, mine.id,
                                            NewMessage(role="user", content="hi"))):
        with pytest.raises(NotFound):
            action()
    assert conv.get_conversation(bob, mine.id).title == "Bob's thread"
    renamed = conv.rename_conversation(bob, mine.id, "Renamed")
    assert renamed.title == "Renamed"
    conv.delete_conversation(bob, mine.id)
    assert conv.list_conversations(bob) == []
    with pytest.raises(NotFound):
        conv.list_messages(bob, mine.id)


def test_bad_input_changes_nothing() -> None:
    ada = make_admin()
    with pytest.raises(InvalidInput, match="name"):
        conv.create_conversation(ada, "   ", [])
    thread = conv.create_conversation(ada, "ok", [])
    with pytest.raises(InvalidInput, match="at most"):
        conv.rename_conversation(ada, thread.id, "x" * 301)
    with pytest.raises(InvalidInput, match="question"):
        conv.add_message(ada, thread.id, NewMessage(role="user", content="  "))
    with pytest.raises(InvalidInput, match="at most"):
        conv.add_message(ada, thread.id, NewMessage(role="user", content="q" * 5000))
    with pytest.raises(NotFound):
        conv.get_conversation(ada, 9999)
    assert conv.get_conversation(ada, thread.id).title == "ok"
    assert conv.list_messages(ada, thread.id) == []


def test_viewers_cannot_start_conversations() -> None:
    ada = make_admin()
    vic = make_user(ada, "vic", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        conv.create_conversation(vic, "t", [])


def test_title_from_question_is_short_and_cut_at_a_word() -> None:
    assert conv.title_from_question("  Which   region? ") == "Which region?"
    long = conv.title_from_question("word " * 40)
    assert len(long) <= conv.DEFAULT_TITLE_CHARS + 1 and long.endswith("…")
    assert conv.title_from_question("") == "New conversation"


def test_snapshot_handles_empty_and_odd_values() -> None:
    assert conv.snapshot_rows(None) == []
    rows = conv.snapshot_rows(pd.DataFrame({"x": [1.5, float("nan")], "y": ["a", None]}))
    assert rows == [{"x": 1.5, "y": "a"}, {"x": None, "y": None}]
