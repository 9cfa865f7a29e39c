"""Boards: roles, tile validation, layout, filters across tiles, selections, fresh vs pinned."""

import pytest

from services.access.permissions import Role
from services.boards import boards, filters, freshness
from services.boards.models import BoardChanges, BoardInput, TileInput
from services.charts.spec import Filter
from services.data import datasets
from services.errors import InvalidInput, NotFound, PermissionDenied
from tests.factories import make_admin, make_user

TIPS_BAR = {"chart_type": "bar", "x": "day", "agg": "count"}


def _note(text: str = "Hello") -> TileInput:
    return TileInput(kind="note", note=text)


def test_roles_viewer_reads_shared_analyst_builds_own_admin_all() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    vic = make_user(admin, "vic", Role.VIEWER)
    private = boards.create_board(ana, BoardInput(title="Mine"))
    shared = boards.create_board(ana, BoardInput(title="Team", visibility="shared"))
    with pytest.raises(PermissionDenied, match="Your role does not allow"):
        boards.create_board(vic, BoardInput(title="Nope"))
    for other in (bob, vic, admin):
        with pytest.raises(NotFound, match="does not exist or is not shared"):
            boards.get_board(other, private.id)
        assert [b.id for b in boards.list_boards(other)] == [shared.id]
    assert boards.get_board(vic, shared.id).can_edit is False
    with pytest.raises(PermissionDenied, match="Your role"):
        boards.add_tile(vic, shared.id, _note())
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        boards.add_tile(bob, shared.id, _note())
    boards.add_tile(admin, shared.id, _note("From the admin"))
    assert boards.get_board(admin, shared.id).can_edit is True
    boards.add_tile(ana, private.id, _note())
    assert len(boards.get_board(ana, private.id).tiles) == 1
    assert len(boards.get_board(vic, shared.id).tiles) == 1
    assert boards.get_board(bob, shared.id).tiles[0].note == "From the admin"


def test_bad_input_gets_one_sentence_and_changes_nothing() -> None:
    ana = make_user(make_admin(), "ana")
    tips = datasets.create_from_sample(ana, "tips")
    cases = [
        (BoardInput(title="  "), "give the board a title"),
        (BoardInput(title="x", columns=5), "between 1 and 4 columns"),
        (BoardInput(title="x", visibility="public"), "private or shared"),
    ]
    for board, words in cases:
        with pytest.raises(InvalidInput, match=words):
            boards.create_board(ana, board)
    board = boards.create_board(ana, BoardInput(title="Tips"))
    tiles = [
        (TileInput(kind="note", width=0, note="x"), InvalidInput, "between 1 and 4 columns"),
        (TileInput(kind="picture"), InvalidInput, "chart, a number, a table or a note"),
        (TileInput(kind="chart", spec=TIPS_BAR), InvalidInput, "choose the dataset"),
        (TileInput(kind="chart", dataset_id=999_999, spec=TIPS_BAR), NotFound,
         "does not exist"),
        (TileInput(kind="chart", dataset_id=tips.id, spec={"x": "weather"}), InvalidInput,
         "weather"),
        (TileInput(kind="chart", dataset_id=tips.id, spec={"shape": "round"}), InvalidInput,
         "choose its columns again"),
        (TileInput(kind="chart", dataset_id=tips.id, dataset_version=7, spec=TIPS_BAR),
         NotFound, "Version 7"),
        (TileInput(kind="note", note="   "), InvalidInput, "write something"),
    ]
    for tile, error, words in tiles:
        with pytest.raises(error, match=words):
            boards.add_tile(ana, board.id, tile)
    assert boards.get_board(ana, board.id).tiles == []
    with pytest.raises(InvalidInput, match="between 1 and 4"):
        boards.update_board(ana, board.id, BoardChanges(columns=0))
    assert boards.get_board(ana, board.id).columns == 2


def test_note_is_sanitised_like_research_notes() -> None:
    ana = make_user(make_admin(), "ana")
    board = boards.create_board(ana, BoardInput(title="Notes"))
    tile = boards.add_tile(ana, board.id, _note("Hi <script>alert(1)</script> [x](javascript:y)"))
    assert "<script>" not in tile.note and "javascript:" not in tile.note


def test_chart_tile_stored_checked_and_layout_moves_in_reading_order() -> None:
    ana = make_user(make_admin(), "ana")
    tips = datasets.create_from_sample(ana, "tips")
    board = boards.create_board(ana, BoardInput(title="Tips", columns=2))
    chart = boards.add_tile(ana, board.id, TileInput(kind="chart", dataset_id=tips.id,
                                                     spec=TIPS_BAR, width=2))
    assert chart.spec is not None and chart.spec["x"] == "day" and chart.is_fresh
    a, b, c = (boards.add_tile(ana, board.id, _note(n)).id for n in "abc")
    assert [t.id for t in boards.get_board(ana, board.id).tiles] == [chart.id, a, b, c]
    assert boards.move_tile(ana, board.id, c, "left") == [chart.id, a, c, b]
    assert boards.move_tile(ana, board.id, b, "up") == [chart.id, b, c, a]
    assert boards.move_tile(ana, board.id, chart.id, "up") == [chart.id, b, c, a]  # edge
    assert boards.move_tile(ana, board.id, chart.id, "down") == [c, b, chart.id, a]
    assert boards.move_tile(ana, board.id, a, "right") == [c, b, chart.id, a]
    assert boards.set_width(ana, board.id, a, 3).width == 3
    with pytest.raises(InvalidInput, match="between 1 and 4"):
        boards.set_width(ana, board.id, a, 5)
    assert boards.remove_tile(ana, board.id, b) == [c, chart.id, a]
    with pytest.raises(NotFound, match="no longer on this board"):
        boards.remove_tile(ana, board.id, b)
    positions = [t.position for t in boards.get_board(ana, board.id).tiles]
    assert positions == [0, 1, 2]


def test_filter_bar_applies_where_the_column_and_kind_match() -> None:
    bar = [filters.BarFilter(filter=Filter(column="day", op="in", value=["Sun"]), kind="text"),
           filters.BarFilter(filter=Filter(column="tip", op="between", value=[1, 5]),
                             kind="number"),
           filters.BarFilter(filter=Filter(column="region", op="eq", value="EU"), kind="text")]
    mapped = filters.filters_for_tiles(bar, {
        1: {"day": "text", "tip": "number", "region": "text"},
        2: {"day": "text", "tip": "text"},
        3: {},
    })
    assert [f.column for f in mapped[1].applied] == ["day", "tip", "region"]
    assert mapped[1].sentence == "Every filter on the board applies to this tile."
    assert [f.column for f in mapped[2].applied] == ["day"]
    assert mapped[2].sentence == ("This tile ignores the filters on “tip” and “region”: its "
                                  "data has no column of that name and kind.")
    assert mapped[3].ignored == ["day", "tip", "region"]
    assert filters.filters_for_tile([], {"day": "text"}).sentence == ""


def test_plotly_selection_becomes_a_filter() -> None:
    clicked = {"selection": {"points": [{"x": "Sun", "y": 3, "curve_number": 0},
                                        {"x": "Sat", "y": 2}, {"x": "Sun", "y": 1}],
                             "box": [], "lasso": [], "point_indices": [0, 1, 2]}}
    assert filters.selection_filter(clicked, "day", "text") == Filter(
        column="day", op="in", value=["Sun", "Sat"])
    one = {"selection": {"points": [{"x": "Thur"}], "box": [], "lasso": []}}
    assert filters.selection_filter(one, "day", "text") == Filter(column="day", op="eq",
                                                                  value="Thur")
    boxed = {"selection": {"points": [{"x": 12.0}], "box": [{"x": [30.5, 10.0],
                                                             "y": [0, 9], "xref": "x"}]}}
    assert filters.selection_filter(boxed, "total_bill", "number") == Filter(
        column="total_bill", op="between", value=[10.0, 30.5])
    assert filters.selection_filter({"selection": {"points": [], "box": []}}, "d", "text") is None
    assert filters.selection_filter(None, "d", "text") is None


def test_fresh_tile_says_its_version_and_what_changed_since_last_seen() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    vic = make_user(admin, "vic", Role.VIEWER)
    tips = datasets.create_from_sample(ana, "tips")
    board = boards.create_board(ana, BoardInput(title="Tips", visibility="shared"))
    fresh = boards.add_tile(ana, board.id, TileInput(kind="chart", dataset_id=tips.id,
                                                     spec=TIPS_BAR))
    pinned = boards.add_tile(ana, board.id, TileInput(kind="table", dataset_id=tips.id,
                                                      dataset_version=1))
    first = freshness.tile_versions(vic, board.id)
    assert [(t.tile_id, t.version, t.fresh, t.changed_since_seen) for t in first] == [
        (fresh.id, 1, True, False), (pinned.id, 1, False, False)]
    assert first[0].sentence.startswith("Updated to version 1 on ")
    assert first[1].sentence == "Pinned to version 1."
    from services.data.dataset_models import DropColumns  # noqa: PLC0415
    datasets.apply_steps(ana, tips.id, [DropColumns(columns=["size"])])
    again = freshness.tile_versions(vic, board.id)
    assert [(t.version, t.changed_since_seen) for t in again] == [(2, True), (1, False)]
    assert [t.changed_since_seen for t in freshness.tile_versions(vic, board.id)] == [False,
                                                                                     False]
    assert freshness.tile_versions(ana, board.id)[0].changed_since_seen is False


def test_a_viewer_or_stranger_is_refused_before_the_dataset_is_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    bob = make_user(admin, "bob")
    vic = make_user(admin, "vic", Role.VIEWER)
    tips = datasets.create_from_sample(ana, "tips")
    board = boards.create_board(ana, BoardInput(title="Tips", visibility="shared"))

    def no_reading(*_args: object) -> None:
        raise AssertionError("the dataset was read before the refusal")

    monkeypatch.setattr(boards, "dataset_columns", no_reading)
    tile = TileInput(kind="chart", dataset_id=tips.id, spec=TIPS_BAR)
    for who, error in ((vic, PermissionDenied), (bob, PermissionDenied)):
        with pytest.raises(error):
            boards.add_tile(who, board.id, tile)
    with pytest.raises(NotFound):
        boards.add_tile(bob, 999_999, tile)
