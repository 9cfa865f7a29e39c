"""One tile of a board: a bordered box with its title, what it shows (a chart, a big number,
a table or a note), its summary, version and filters sentences, and — for those who may
change the board — a menu to move it, change its width or remove it."""

import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components import board_state, tables
from components.explore_chart import file_stem, plot_config
from components.feedback import flash, friendly_errors
from components.text import escape_markdown
from services.access.users import UserView
from services.boards import boards
from services.boards.models import MAX_COLUMNS, BoardView, TileView
from services.boards.tiles import TileContent, selection_from_event
from services.charts.chart_png import can_render_png

MOVES = {"up": ("Move up", ":material/arrow_upward:"),
         "down": ("Move down", ":material/arrow_downward:"),
         "left": ("Move left", ":material/arrow_back:"),
         "right": ("Move right", ":material/arrow_forward:")}
SCREEN_TOP_MARGIN = 32  # px above the plot once the title is gone: room for the toolbar


def chart_key(board_id: int, tile_id: int) -> str:
    return f"board_{board_id}_chart_{tile_id}"


def _move(user: UserView, board_id: int, tile_id: int, direction: str) -> None:
    with friendly_errors("board_move_tile"):
        boards.move_tile(user, board_id, tile_id, direction)  # type: ignore[arg-type]


def _width(user: UserView, board_id: int, tile_id: int, before: int) -> None:
    width = st.session_state.get(f"board_{board_id}_width_{tile_id}")
    if width is None:  # the chosen width clicked again: it stays chosen
        st.session_state[f"board_{board_id}_width_{tile_id}"] = before
        return
    with friendly_errors("board_tile_width"):
        boards.set_width(user, board_id, tile_id, int(width))


def _remove(user: UserView, board_id: int, tile_id: int, title: str) -> None:
    with friendly_errors("board_remove_tile"):
        boards.remove_tile(user, board_id, tile_id)
        flash(f"“{title}” is removed from the board.")


def menu(user: UserView, board: BoardView, tile: TileView, title: str) -> None:
    """Buttons and a width choice in a popover: all reachable with Tab and Enter."""
    with st.popover("Tile menu", icon=":material/more_vert:",
                    help="Move this tile, change its width or remove it."):
        for direction, (label, icon) in MOVES.items():
            st.button(label, key=f"board_{board.id}_move_{direction}_{tile.id}", icon=icon,
                      on_click=_move, args=(user, board.id, tile.id, direction),
                      width="stretch")
        widths = list(range(1, min(MAX_COLUMNS, board.columns) + 1))
        st.session_state.setdefault(f"board_{board.id}_width_{tile.id}",
                                    min(tile.width, board.columns))
        st.segmented_control("Width (columns)", widths, key=f"board_{board.id}_width_{tile.id}",
                             on_change=_width,
                             args=(user, board.id, tile.id, min(tile.width, board.columns)),
                             help="How many of the board's columns this tile spans.")
        st.button("Remove from board", key=f"board_{board.id}_remove_{tile.id}",
                  icon=":material/delete:", on_click=_remove,
                  args=(user, board.id, tile.id, title), width="stretch",
                  help="Takes the tile off this board; the saved chart or data stays.")


def _take_selection(board: BoardView, content: TileContent, event: Any) -> None:  # noqa: ANN401
    """A new selection on this chart becomes a chip that filters the other tiles of its
    data; clearing the selection on the chart removes its chip."""
    seen_key = f"board_{board.id}_chart_seen_{content.tile_id}"
    picked = dict(event).get("selection") if event else None
    signature = json.dumps(picked or {}, sort_keys=True, default=str)
    if st.session_state.get(seen_key, signature) == signature:
        st.session_state[seen_key] = signature
        return  # nothing new: the chart shows what it showed on the last run
    st.session_state[seen_key] = signature
    made = selection_from_event(content, event)
    chips = board_state.selections(board.id)
    mine = [i for i, s in enumerate(chips) if s["tile_id"] == content.tile_id]
    if made is None:
        if mine:
            board_state.remove_selection(board.id, mine[0])
            st.rerun()
        return
    board_state.add_selection(board.id, made.model_dump(mode="json"))
    st.rerun()


def figure_of(content: TileContent) -> go.Figure:
    """The tile's figure. It was built and checked by plotly when the tile was computed
    (services.boards.tiles), so it is not checked again on every rerun (~10 ms a chart)."""
    return go.Figure(content.figure, _validate=False)


def on_screen(content: TileContent) -> go.Figure:
    """The figure as a tile draws it: without its own title, which the tile's heading
    already says as text (read by screen readers). The PNG and the HTML export draw
    `content.figure` with its title: a picture on its own must say what it is."""
    fig = figure_of(content)
    fig.layout.title = None
    fig.update_layout(margin_t=SCREEN_TOP_MARGIN)
    return fig


def screen_config(content: TileContent) -> dict:
    """The chart's toolbar in a tile. Its camera would save the untitled picture on screen,
    so it is left out when "Download chart (PNG)" can make the picture with its title."""
    config = plot_config(file_stem(content.title))
    if can_render_png():
        config["modeBarButtonsToRemove"] = ["toImage"]
    return config


def _chart(board: BoardView, content: TileContent) -> None:
    event = st.plotly_chart(
        on_screen(content), theme="streamlit", alt=content.summary, width="stretch",
        config=screen_config(content), key=chart_key(board.id, content.tile_id),
        on_select="rerun", selection_mode=("points", "box"))
    _take_selection(board, content, event)


def _table(content: TileContent, *, label: str) -> None:
    frame = pd.DataFrame(content.table_rows, columns=content.table_columns)
    if label:
        with st.expander(label):
            tables.dataframe(frame, hide_index=True)
    else:
        tables.dataframe(frame, hide_index=True)
    if content.table_note:
        st.caption(escape_markdown(content.table_note))


def _delta(change_text: str) -> tuple[str | None, bool]:
    """The change as st.metric reads its direction (it looks for an ASCII "-"; the words use
    a true minus sign), and whether there was no change (no arrow, no colour)."""
    if not change_text:
        return None, False
    if change_text.startswith("−"):
        return "-" + change_text.removeprefix("−"), False
    return change_text, not change_text.startswith("+")


def big_number(content: TileContent) -> None:
    """A number tile's big number and its change; its label is the tile's heading."""
    change, steady = _delta(content.change_text)
    st.metric(escape_markdown(content.title), content.number_text, delta=change,
              label_visibility="collapsed", delta_color="off" if steady else "normal",
              delta_arrow="off" if steady else "auto")


def body(board: BoardView, content: TileContent) -> None:
    """What the tile shows, by its kind (no menu)."""
    if content.problem:
        st.warning(escape_markdown(content.problem), icon=":material/warning:")
        return
    if content.kind == "note":
        st.markdown(content.note_html)  # sanitised when the note was saved and when read
        return
    if content.kind == "number":
        big_number(content)
    elif content.kind == "chart" and content.figure:
        _chart(board, content)
    if content.kind == "table":
        _table(content, label="")
    st.caption(escape_markdown(content.summary))
    if content.kind == "chart" and content.table_rows:
        _table(content, label="View the data behind this chart")


def show(user: UserView, board: BoardView, tile: TileView, content: TileContent) -> None:
    with st.container(border=True):
        st.subheader(escape_markdown(content.title), anchor=False)
        body(board, content)
        notes = [content.version_sentence, content.filters_sentence]
        if any(notes):
            st.caption(escape_markdown(" ".join(n for n in notes if n)))
        if board.can_edit:  # last in the tile: read it first, then change it
            menu(user, board, tile, content.title)
