"""Present mode for a board, for meetings: full screen without the app's menus, one tile at a
time with its one-sentence summary in large type (arrow keys move, Escape leaves), or the
whole board at once.

The Boards page opens it with `?board=ID&present=1` (`present_button` sets that), and calls
`present_if_asked` with the tiles it computed (its filters and selections apply); a page
without them calls `present_from_url`, which computes the tiles itself.
"""

import pandas as pd
import streamlit as st

from components import board_filter_bar, board_tile, tables
from components.params import id_from_text
from components.text import escape_markdown
from services.access.users import UserView
from services.boards import boards, tiles
from services.boards.filters import BarFilter
from services.boards.models import BoardView
from services.boards.tiles import Selection, TileContent
from services.errors import ResearchDeskError

PARAM = "present"
SUMMARY_KEY = "board_present_summary"
# Streamlit's own chrome, hidden while presenting (CSS only: nothing runs in the page).
_FULL_SCREEN = f"""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"]
{{ display: none !important; }}
.block-container, [data-testid="stMainBlockContainer"]
{{ padding-top: 1.5rem; max-width: 100%; }}
.st-key-{SUMMARY_KEY} p {{ font-size: 2.1rem; line-height: 1.35; font-weight: 500; }}
</style>"""


def requested() -> bool:
    return st.query_params.get(PARAM) == "1"


def _start() -> None:
    st.query_params[PARAM] = "1"


def present_button(board: BoardView, *, key: str = "board_present_start") -> None:
    """"Present" for the board's row of actions."""
    st.button("Present", key=f"{key}_{board.id}", icon=":material/slideshow:", on_click=_start,
              help="Full screen for a meeting: one tile at a time in large type, moved "
                   "with the arrow keys, or the whole board without menus.")


def _index_key(board_id: int) -> str:
    return f"board_present_state_{board_id}_index"


def _whole_key(board_id: int) -> str:
    return f"board_present_state_{board_id}_whole"


def _step(board_id: int, step: int, count: int) -> None:
    here = st.session_state.get(_index_key(board_id), 0)
    st.session_state[_index_key(board_id)] = min(max(here + step, 0), max(count - 1, 0))


def _toggle_whole(board_id: int) -> None:
    st.session_state[_whole_key(board_id)] = not st.session_state.get(_whole_key(board_id))


def _exit(board_id: int) -> None:
    st.query_params.pop(PARAM, None)
    st.session_state.pop(_index_key(board_id), None)
    st.session_state.pop(_whole_key(board_id), None)


def _body(board_id: int, content: TileContent, *, large: bool) -> None:
    """What a tile shows, read-only (no menu, no selections)."""
    if content.problem:
        st.warning(escape_markdown(content.problem), icon=":material/warning:")
        return
    if content.kind == "note":
        st.markdown(content.note_html)  # sanitised when saved and again when read
        return
    if content.kind == "number":
        board_tile.big_number(content)
    elif content.kind == "chart" and content.figure:
        st.plotly_chart(board_tile.on_screen(content), theme="streamlit", alt=content.summary,
                        key=f"board_present_{board_id}_chart_{content.tile_id}_{large}",
                        config=board_tile.screen_config(content),
                        height=560 if large else "content")
    elif content.kind == "table":
        frame = pd.DataFrame(content.table_rows, columns=content.table_columns)
        tables.dataframe(frame, hide_index=True)
    if content.kind == "table" and content.table_note:
        st.caption(escape_markdown(content.table_note))


def _sentences(content: TileContent) -> None:
    words = [s for s in (content.version_sentence, content.filters_sentence) if s]
    if words and not content.problem:
        st.caption(escape_markdown(" ".join(words)))


def _one(board: BoardView, contents: list[TileContent], index: int) -> None:
    content = contents[index]
    st.header(escape_markdown(content.title), anchor=False)
    if content.problem:
        _body(board.id, content, large=True)
        return
    with st.container(key=SUMMARY_KEY):  # large type; a note is its own summary
        st.markdown(content.note_html if content.kind == "note"
                    else escape_markdown(content.summary))
    if content.kind != "note":
        _body(board.id, content, large=True)
    _sentences(content)


def _whole(board: BoardView, contents: list[TileContent]) -> None:
    """Every tile, in reading order, packed into rows of the board's columns."""
    widths = {t.id: min(t.width, board.columns) for t in board.tiles}
    row: list[TileContent] = []
    used = 0
    rows: list[list[TileContent]] = []
    for content in contents:
        width = widths.get(content.tile_id, 1)
        if row and used + width > board.columns:
            rows.append(row)
            row, used = [], 0
        row.append(content)
        used += width
    if row:
        rows.append(row)
    for packed in rows:
        spans = [widths.get(c.tile_id, 1) for c in packed]
        spare = board.columns - sum(spans)
        places = st.columns(spans + ([spare] if spare > 0 else []))
        for place, content in zip(places, packed, strict=False):
            with place, st.container(border=True):
                st.subheader(escape_markdown(content.title), anchor=False)
                _body(board.id, content, large=False)
                st.caption(escape_markdown(content.summary))
                _sentences(content)


def present_board(board: BoardView, contents: list[TileContent],
                  filters_sentence: str | None = None) -> None:
    """The board in present mode; Exit (or Escape) goes back to the board as it was.
    `filters_sentence` names the filters `contents` were computed with; None: those set on
    the board in this session (the Boards page's filter bar)."""
    if filters_sentence is None:
        filters_sentence = board_filter_bar.filters_sentence(board.id)
    st.html(_FULL_SCREEN)
    count = len(contents)
    whole = bool(st.session_state.get(_whole_key(board.id)))
    index = min(st.session_state.get(_index_key(board.id), 0), max(count - 1, 0))
    st.session_state[_index_key(board.id)] = index
    title, previous, position, following, view, leave = st.columns(
        [4, 1.3, 1.2, 1.2, 1.6, 1], vertical_alignment="center")
    title.markdown(f"**{escape_markdown(board.title)}**")
    if filters_sentence:  # the audience sees no filter bar: say what the tiles keep
        title.caption(escape_markdown(filters_sentence))
    if count and not whole:
        previous.button("Previous", key=f"board_present_{board.id}_previous",
                        icon=":material/arrow_back:", shortcut="left", disabled=index == 0,
                        on_click=_step, args=(board.id, -1, count),
                        help="The tile before this one (left arrow key).")
        position.markdown(f"Tile {index + 1} of {count}")
        following.button("Next", key=f"board_present_{board.id}_next",
                         icon=":material/arrow_forward:", shortcut="right",
                         disabled=index >= count - 1, on_click=_step, args=(board.id, 1, count),
                         help="The tile after this one (right arrow key).")
    view.button("One tile at a time" if whole else "Whole board",
                key=f"board_present_{board.id}_whole", on_click=_toggle_whole, args=(board.id,),
                icon=":material/crop_square:" if whole else ":material/grid_view:",
                help="Switch between one tile in large type and every tile at once.")
    leave.button("Exit", key=f"board_present_{board.id}_exit", icon=":material/close:",
                 shortcut="escape", on_click=_exit, args=(board.id,),
                 help="Back to the board with its menus (Escape key).")
    if not count:
        st.info("This board has no tiles to present yet.", icon=":material/lightbulb:")
    elif whole:
        _whole(board, contents)
    else:
        _one(board, contents, index)


def present_if_asked(board: BoardView, contents: list[TileContent]) -> bool:
    """The Boards page's hook: presents and returns True when the address asks for it
    (`?board=ID&present=1`); then the page draws nothing else."""
    if not requested():
        return False
    present_board(board, contents)
    return True


def present_from_url(user: UserView, bar: list[BarFilter] | None = None,
                     selections: list[Selection] | None = None) -> bool:
    """Like `present_if_asked` for a page that has not read the board: reads the board in
    `?board=ID` and computes its tiles. A board that cannot be opened says why."""
    if not requested():
        return False
    board_id = id_from_text(st.query_params.get("board"))
    try:
        if board_id is None:
            raise ResearchDeskError("No board was chosen to present.")
        board = boards.get_board(user, board_id)
    except ResearchDeskError as refused:
        st.info(escape_markdown(str(refused)), icon=":material/lock:")
        st.button("Exit", key="board_present_exit", on_click=_exit, args=(board_id or 0,))
        return True
    bar, selections = bar or [], selections or []
    present_board(board, tiles.board_contents(user, board, bar, selections),
                  board_filter_bar.sentence_of(bar, [s.label for s in selections]))
    return True
