"""The board's one filter bar: choose a column the tiles share, set its range or values the
way Explore does (components.explore_filters.value_filter), and see every active filter and
chart selection as a removable chip, with Back to undo the last change."""

from collections.abc import Callable

import streamlit as st

from components import board_state, explore_data
from components.explore_filters import describe, value_filter
from components.feedback import friendly_errors
from components.text import escape_markdown
from services.access.users import UserView
from services.boards.filters import BarFilter
from services.boards.models import BoardView, TileView
from services.charts.where import Place
from services.data import datasets, live_datasets
from services.errors import ResearchDeskError


def _keys(board_id: int) -> Callable[[str], str]:
    return lambda name: f"board_{board_id}_bar_{name}"


def _place(user: UserView, tile: TileView) -> tuple[int, int, Place] | None:
    """Where a data tile's rows are (as Explore reads them), or None when it cannot be read."""
    if tile.dataset_id is None:
        return None
    try:
        target = live_datasets.live_target(user, tile.dataset_id)
        if target is not None:
            return tile.dataset_id, 0, target
        found = datasets.get_version(user, tile.dataset_id, tile.dataset_version)
    except ResearchDeskError:
        return None  # the tile itself says what is wrong with its data
    return tile.dataset_id, found.version, found.parquet_path


def _source(user: UserView, board: BoardView, column: str,
            kind: str) -> tuple[int, int, Place] | None:
    """The first tile's data that has this column with this kind: its values fill the
    controls (the range or the most common values)."""
    for tile in board.tiles:
        where = _place(user, tile)
        if where is None:
            continue
        try:
            kinds = explore_data.column_kinds(*where)
        except ResearchDeskError:
            continue
        if kinds.get(column) == kind:
            return where
    return None


def add_control(user: UserView, board: BoardView, columns: dict[str, str]) -> None:
    """The "Add a filter" popover; `columns` are the tiles' shared columns (name → kind)."""
    keys = _keys(board.id)
    # A key of its own: the browser keeps the popover open by it through a rerun that draws
    # it at another place on the page (a message above it shows once, then is gone);
    # without one, choosing a column there closed the popover.
    with st.popover("Add a filter", icon=":material/filter_alt:", key=keys("popover"),
                    help="Keep only some rows in every tile that has this column."):
        if not columns:
            st.write("None of this board's tiles has data to filter yet.")
            return
        column = st.selectbox("Column", sorted(columns, key=str.lower), key=keys("column"),
                              index=None, placeholder="Choose a column the tiles share",
                              help="Tiles whose data has this column are filtered; the others "
                                   "say they ignore it.")
        if column is None:
            return
        kind = columns[column]
        where = _source(user, board, column, kind)
        if where is None:
            st.write("The data behind this column cannot be read just now.")
            return
        item = value_filter(*where[:2], column, kind, where[2], keys=keys)
        if item is not None and st.button("Add filter", key=keys("add"), type="primary"):
            board_state.add_to_bar(board.id, item, kind)
            st.rerun()


def _drop_bar_chip(board_id: int) -> None:
    chosen = st.session_state.get(f"board_{board_id}_bar_chips")
    if chosen is not None:
        board_state.remove_from_bar(board_id, chosen)
    st.session_state[f"board_{board_id}_bar_chips"] = None


def _drop_selection_chip(board_id: int) -> None:
    chosen = st.session_state.get(f"board_{board_id}_selection_chips")
    if chosen is not None:
        board_state.remove_selection(board_id, chosen)
    st.session_state[f"board_{board_id}_selection_chips"] = None


def chips(board_id: int) -> None:
    """The active filters and selections, each removable, and Back."""
    bar = board_state.bar(board_id)
    chosen = board_state.selections(board_id)
    if bar:
        st.pills("Board filters (click one to remove it)", list(range(len(bar))),
                 key=f"board_{board_id}_bar_chips",
                 format_func=lambda i: f"{escape_markdown(describe(bar[i].filter))}  ✕",
                 on_change=_drop_bar_chip, args=(board_id,),
                 help="Each filter keeps only some rows in the tiles that have its column.")
    if chosen:
        st.pills("Selections on charts (click one to remove it)", list(range(len(chosen))),
                 key=f"board_{board_id}_selection_chips",
                 format_func=lambda i: f"{escape_markdown(chosen[i]['label'])}  ✕",
                 on_change=_drop_selection_chip, args=(board_id,),
                 help="What you selected on a chart filters the other tiles of the same data.")
    if board_state.can_go_back(board_id):
        st.button("Back", key=f"board_{board_id}_back", icon=":material/undo:",
                  on_click=board_state.back, args=(board_id,),
                  help="Undo the last change to the filters or selections.")


def sentence_of(bar: list[BarFilter], selection_labels: list[str]) -> str:
    """Filters and chart selections in the chips' words, for what is shown without the
    chips (Present, the HTML export): "Filtered to: date: 1 Jan 2013 to 30 Jun 2013."
    or "" when there are none."""
    words = [describe(f.filter) for f in bar] + selection_labels
    return f"Filtered to: {'; '.join(words)}." if words else ""


def filters_sentence(board_id: int) -> str:
    """`sentence_of` the filters and selections set on this board in this session."""
    return sentence_of(board_state.bar(board_id),
                       [str(s["label"]) for s in board_state.selections(board_id)])


def show(user: UserView, board: BoardView, columns: dict[str, str]) -> None:
    with friendly_errors("board_filter_bar"), st.container(border=True):
        add_column, chips_column = st.columns([1, 4], vertical_alignment="center")
        with add_column:
            add_control(user, board, columns)
        with chips_column:
            if not board_state.bar(board.id) and not board_state.selections(board.id):
                st.caption("No filters: every tile shows all its rows. Add a filter, or "
                           "select bars or points on a chart to filter the other tiles.")
            chips(board.id)
