"""Result snapshots kept with Ask answers and insights are capped in rows and bytes; the
full results a browser session holds are capped too."""

import json

import pandas as pd
import pytest

from services.claude import conversations as conv
from services.claude.conversations import NewMessage
from services.data import snapshots
from services.research import saved_insights as research
from services.research.saved_insights import NewInsight
from services.settings import reset_settings_cache
from tests.factories import make_admin, make_item


def _huge_cells(rows: int = 60, width: int = 1_000_000) -> pd.DataFrame:
    return pd.DataFrame({"id": range(rows), "text": ["x" * width] * rows})


def test_an_answer_with_huge_cells_stores_a_bounded_snapshot() -> None:
    """One answer once added 191 MB to the metadata store."""
    ada = make_admin()
    thread = conv.create_conversation(ada, "Huge", [1])
    saved = conv.add_message(ada, thread.id, NewMessage(
        role="assistant", content="Here.", sql="SELECT 1", status="answered", row_count=60,
        result=_huge_cells()))
    stored = conv.list_messages(ada, thread.id)[0]
    assert stored.id == saved.id and stored.row_count == 60
    size = len(json.dumps(stored.rows).encode())
    assert size <= 1_000_000  # the default RESEARCH_DESK_SNAPSHOT_MAX_BYTES
    assert len(stored.rows) == 0  # not even one 1 MB row fits


def test_snapshot_caps_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_SNAPSHOT_MAX_ROWS", "50")
    monkeypatch.setenv("RESEARCH_DESK_SNAPSHOT_MAX_BYTES", "20000")
    reset_settings_cache()
    frame = pd.DataFrame({"id": range(10_000), "text": ["abc" * 30] * 10_000})
    rows = snapshots.snapshot_records(frame)
    assert 0 < len(rows) <= 50
    assert len(json.dumps(rows).encode()) <= 20_000
    wide_text = pd.DataFrame({"id": range(500), "text": ["y" * 1000] * 500})
    rows = snapshots.snapshot_records(wide_text)
    assert len(rows) < 20 and len(json.dumps(rows).encode()) <= 20_000
    assert rows[0] == {"id": 0, "text": "y" * 1000}


def test_a_saved_insight_snapshot_is_capped_in_bytes() -> None:
    ada = make_admin()
    item = make_item(ada, "Notes")
    saved = research.save_insight(ada, NewInsight(item_id=item.id, kind="answer",
                                                  title="Big", summary="s", spec={}),
                                  _huge_cells(rows=300, width=100_000))
    assert len(json.dumps(saved.data_snapshot).encode()) <= 1_000_000
    assert 0 < len(saved.data_snapshot) < 300


def test_the_page_says_how_many_rows_are_saved() -> None:
    assert snapshots.kept_rows_note(250_000, 1_000) == (
        "The conversation saves the first 1,000 of 250,000 rows.")
    assert snapshots.kept_rows_note(12, 12) == ""


def test_a_session_keeps_only_the_most_recent_results(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_ASK_SESSION_MAX_RESULTS", "3")
    monkeypatch.setenv("RESEARCH_DESK_ASK_SESSION_MAX_MB", "1")
    reset_settings_cache()
    store: dict[int, pd.DataFrame] = {}
    for message_id in range(1, 6):
        snapshots.remember_result(store, message_id, pd.DataFrame({"x": range(10)}))
    assert list(store) == [3, 4, 5]
    snapshots.remember_result(store, 6, pd.DataFrame({"t": ["z" * 1000] * 2000}))  # ~2 MB
    assert list(store) == [6]  # the newest always stays, older ones make room
