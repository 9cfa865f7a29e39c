"""AppTest: Present mode — one tile at a time with its summary, Previous/Next (arrow keys),
“Tile 2 of N”, the whole board, and Exit back to the page (issue 22)."""

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from services.access.users import UserView
from services.boards import boards
from services.boards.adding import answer_tile
from services.boards.models import BoardInput, BoardView, TileInput
from services.data import datasets
from tests.app.helpers import TIMEOUT, as_read
from tests.factories import make_admin, make_user

# A stand-in for the Boards page: the one-line hook, then the page's own content.
SCRIPT = """
import streamlit as st
from components import board_present
from services.access import users

user = users.get_user("ana")
if not board_present.present_from_url(user):
    st.write("The board with its menus")
"""


@pytest.fixture
def board() -> BoardView:
    ana: UserView = make_user(make_admin(), "ana")
    tips = datasets.create_from_sample(ana, "tips")
    made = boards.create_board(ana, BoardInput(title="Tips <b>weekly</b>"))
    boards.add_tile(ana, made.id, TileInput(kind="chart", dataset_id=tips.id,
                                            spec={"chart_type": "bar", "x": "day"}))
    boards.add_tile(ana, made.id, TileInput(kind="note", note="Saturdays are busiest."))
    boards.add_tile(ana, made.id, answer_tile(
        ana, "Tips by day?", "SELECT day", pd.DataFrame({"day": ["Sat"], "n": [87]}),
        pd.Timestamp("2026-12-03", tz="UTC").to_pydatetime(), tips.id))
    return boards.get_board(ana, made.id)


def _present(board: BoardView) -> AppTest:
    at = AppTest.from_string(SCRIPT, default_timeout=TIMEOUT)
    at.query_params.update({"board": str(board.id), "present": "1"})
    at.run()
    assert not at.exception, at.exception
    return at


def _text(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.header]
    parts += [e.value for e in at.subheader]  # the whole board's tile headings
    return as_read("\n".join(str(p) for p in parts))


def test_next_previous_whole_board_and_exit(board: BoardView) -> None:
    at = _present(board)
    styles = " ".join(str(e.proto.body) for e in at.get("html"))
    assert 'data-testid="stSidebar"' in styles and "display: none" in styles
    assert "Tile 1 of 3" in _text(at)
    assert "Bar chart of" in _text(at)  # the chart's summary sentence, large
    assert len(at.get("plotly_chart")) == 1
    previous = at.button(key=f"board_present_{board.id}_previous")
    following = at.button(key=f"board_present_{board.id}_next")
    assert previous.disabled and not following.disabled
    assert (previous.proto.shortcut, following.proto.shortcut) == ("left", "right")

    following.click().run()
    assert "Tile 2 of 3" in _text(at) and "Saturdays are busiest." in _text(at)
    at.button(key=f"board_present_{board.id}_next").click().run()
    assert "Tile 3 of 3" in _text(at) and "The answer to “Tips by day?”" in _text(at)
    assert at.button(key=f"board_present_{board.id}_next").disabled
    at.button(key=f"board_present_{board.id}_previous").click().run()
    assert "Tile 2 of 3" in _text(at)

    at.button(key=f"board_present_{board.id}_whole").click().run()
    text = _text(at)
    assert "Tile 2 of" not in text and "Saturdays are busiest." in text
    assert "Tips by day?" in text and len(at.get("plotly_chart")) == 1
    assert "Tips <b>weekly</b>" in text  # the board's title, as text

    at.button(key=f"board_present_{board.id}_exit").click().run()
    assert not at.exception, at.exception
    assert "present" not in at.query_params
    assert "The board with its menus" in _text(at)


def test_a_board_that_cannot_be_opened_says_why(board: BoardView) -> None:
    at = AppTest.from_string(SCRIPT, default_timeout=TIMEOUT)
    at.query_params.update({"board": "999999", "present": "1"})
    at.run()
    assert "does not exist or is not shared" in " ".join(e.value for e in at.info)
    at.button(key="board_present_exit").click().run()
    assert "The board with its menus" in _text(at)


EXPORTS = """
from components import board_export_buttons
from services.access import users
from services.boards import boards, tiles

user = users.get_user("ana")
board = boards.get_board(user, BOARD_ID)
board_export_buttons.show(user, board, tiles.board_contents(user, board, [], []))
"""


def test_the_board_downloads_as_html_and_each_chart_as_a_picture(board: BoardView) -> None:
    at = AppTest.from_string(EXPORTS.replace("BOARD_ID", str(board.id)),
                             default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download the board (HTML)", "Download chart (PNG)"]  # one chart tile


def _title(chart: object) -> object:
    """The title text of a drawn plotly chart (None: it has none)."""
    layout = json.loads(chart.proto.spec)["layout"]  # type: ignore[attr-defined]
    return (layout.get("title") or {}).get("text")


def test_a_chart_says_what_it_is_in_the_heading_not_again_in_the_figure(
        board: BoardView) -> None:
    at = _present(board)
    (chart,) = at.get("plotly_chart")
    assert _title(chart) is None
    assert [as_read(h.value) for h in at.header] == ["Count of rows by day"]
    at.button(key=f"board_present_{board.id}_whole").click().run()
    (chart,) = at.get("plotly_chart")
    assert _title(chart) is None
    assert "Count of rows by day" in [as_read(h.value) for h in at.subheader]


FILTERED = """
import streamlit as st
from components import board_present
from services.access import users
from services.boards.filters import BarFilter
from services.charts.spec import Filter

user = users.get_user("ana")
saturday = BarFilter(filter=Filter(column="day", op="in", value=["Sat"]), kind="text")
board_present.present_from_url(user, bar=[saturday])
"""


def test_present_says_which_filters_the_tiles_keep(board: BoardView) -> None:
    at = AppTest.from_string(FILTERED, default_timeout=TIMEOUT)
    at.query_params.update({"board": str(board.id), "present": "1"})
    at.run()
    assert not at.exception, at.exception
    assert "Filtered to: day: Sat." in [as_read(c.value) for c in at.caption]
    assert "only one group, Sat (87)" in _text(at)  # the tile kept Saturdays
