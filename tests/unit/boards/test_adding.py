"""Adding to a board: an answer's table tile (≤ 500 rows), checks before writing, roles."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from services.access.permissions import Role
from services.boards import adding, boards
from services.boards.adding import BoardChoice
from services.boards.answer_table import TABLE_ROWS_MAX
from services.boards.models import BoardInput, TileInput
from services.charts.spec import ChartSpec
from services.data import datasets
from services.errors import InvalidInput, PermissionDenied
from tests.factories import make_admin, make_user

WHEN = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def test_an_answer_keeps_at_most_500_rows_with_dates_as_text() -> None:
    ana = make_user(make_admin(), "ana")
    frame = pd.DataFrame({"day": pd.date_range("2026-01-01", periods=600),
                          "n": range(600)})
    tile = adding.answer_tile(ana, "How many a day?", "SELECT 1", frame, WHEN, None)
    added = adding.add_tiles(ana, BoardChoice(new_title="Daily"), [tile])
    [stored] = boards.get_board(ana, added.board_id).tiles
    assert stored.kind == "table" and stored.dataset_id is None and stored.spec is not None
    assert stored.spec["columns"] == ["day", "n"] and len(stored.spec["rows"]) == TABLE_ROWS_MAX
    assert stored.spec["rows"][0] == ["2026-01-01T00:00:00.000", 0]
    assert stored.spec["answered_at"].startswith("2026-12-03T09:30")


def test_bad_tiles_and_refusals_change_nothing() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    vic = make_user(admin, "vic", Role.VIEWER)
    tips = datasets.create_from_sample(ana, "tips")
    good = adding.chart_tile(ChartSpec(chart_type="bar", x="day"), tips.id, None)
    wrong = adding.chart_tile(ChartSpec(chart_type="bar", x="continent"), tips.id, None)
    assert adding.chart_fits(ana, good) and not adding.chart_fits(ana, wrong)
    with pytest.raises(InvalidInput, match="continent"):
        adding.add_tiles(ana, BoardChoice(new_title="Never made"), [good, wrong])
    ragged = {"question": "Q", "columns": ["a"], "rows": [[1, 2]],
              "answered_at": WHEN.isoformat()}
    with pytest.raises(InvalidInput, match="do not match its columns"):
        adding.add_tiles(ana, BoardChoice(new_title="Never made"),
                         [TileInput(kind="table", spec=ragged)])
    assert boards.list_boards(ana) == []
    shared = boards.create_board(ana, BoardInput(title="Team", visibility="shared"))
    with pytest.raises(PermissionDenied, match="Your role"):
        adding.add_tiles(vic, BoardChoice(board_id=shared.id), [good])
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        adding.add_tiles(bob, BoardChoice(board_id=shared.id), [good])
    assert [b.id for b in adding.boards_to_add_to(bob)] == []
    assert [b.id for b in adding.boards_to_add_to(admin)] == [shared.id]
    assert boards.get_board(ana, shared.id).tiles == []
