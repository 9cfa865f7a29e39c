"""Boards: the list of boards I may read and "New board"; one board opened with ?board=ID —
its tiles in a grid, one filter bar, chart selections as chips, Back, and for those who may
change it: edit, delete, add a note and the tile menus."""

import json

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import (
    board_export_buttons,
    board_filter_bar,
    board_form,
    board_number_form,
    board_present,
    board_state,
    board_tile,
    role_note,
)
from components.feedback import empty_state, flash, friendly_errors, show_flash
from components.session import require_page
from components.text import escape_markdown, when
from services.access.permissions import can
from services.boards import boards, freshness, sharing, tiles
from services.boards.filters import BarFilter
from services.boards.models import BoardInput, BoardView, TileInput, TileView
from services.boards.tiles import Selection, TileContent
from services.data import datasets
from services.data.display_text import counted
from services.errors import ResearchDeskError

user = require_page("boards")
may_build = can(user.role, "build_boards")


def _board_id() -> int | None:
    raw = st.query_params.get("board")
    if raw is None:
        return None
    text = str(raw)
    is_id = text.isascii() and text.isdigit() and len(text) <= 12
    return int(text) if is_id else 0  # 0 is never a board: "does not exist"


# --- the list -----------------------------------------------------------------------------

def _create() -> None:
    with st.expander("New board", icon=":material/add:"):
        changes = board_form.show(key="boards_new", submit_label="Create board")
        if changes is None:
            return
        with friendly_errors("boards_create"):
            board = boards.create_board(user, BoardInput(
                title=changes.title or "", description=changes.description or "",
                visibility=changes.visibility or "private", columns=changes.columns or 2))
            flash(f"“{board.title}” is created. Add a note here, or add charts from Explore, "
                  "Ask or a research item with “Add to a board”.")
            st.query_params["board"] = str(board.id)
            st.rerun()


def _tiles_words(count: int) -> str:
    return f"{count:,} tile{'s' if count != 1 else ''}"


def _row(board: BoardView) -> None:
    with st.container(border=True):
        title_column, facts_column = st.columns([5, 4])
        title_column.page_link("pages/boards.py", label=escape_markdown(board.title),
                               icon=":material/dashboard:",
                               query_params={"board": str(board.id)})
        if board.description:
            title_column.caption(escape_markdown(board.description[:200]))
        badge = (":green-badge[:material/group: Shared]" if board.visibility == "shared"
                 else ":gray-badge[:material/lock: Private]")
        facts_column.markdown(f"{badge}  \n:gray[{escape_markdown(board.owner)} · "
                              f"{_tiles_words(board.tile_count)} · updated "
                              f"{when(board.updated_at)}]")


def _list() -> None:
    st.title("Boards")
    st.write("A board puts several charts, numbers, answers and notes on one page, with one "
             "filter bar for all of them. Open one to read it, filter it, or share its link.")
    role_note.show(user, page="boards")
    show_flash()
    if may_build:
        _create()
    found = boards.list_boards(user)
    if not found:
        empty_state("There are no boards yet.",
                    hint="Create one with “New board”." if may_build else
                    "When a colleague shares a board, it shows here.")
        return
    for board in found:
        _row(board)


# --- one board ----------------------------------------------------------------------------

def _edit(board: BoardView) -> None:
    with st.popover("Edit board", icon=":material/edit:",
                    help="Change the title, description, columns or who can see it."):
        changes = board_form.show(key=f"board_{board.id}_edit", board=board)
        if changes is not None:
            with friendly_errors("boards_edit"):
                boards.update_board(user, board.id, changes)
                flash(f"“{changes.title}” is saved.")
                st.rerun()


def _delete(board: BoardView) -> None:
    with st.popover("Delete board…", icon=":material/delete:"):
        st.warning(f"This deletes “{escape_markdown(board.title)}” and its "
                   f"{_tiles_words(len(board.tiles))} for everyone. The datasets, charts and "
                   "research items they came from stay.", icon=":material/warning:")
        if st.button("Delete for good", key=f"board_{board.id}_delete", type="primary"):
            with friendly_errors("boards_delete"):
                boards.delete_board(user, board.id)
                board_state.forget(board.id)
                flash(f"“{board.title}” is deleted.")
                del st.query_params["board"]
                st.rerun()


def _add_note(board: BoardView) -> None:
    with st.popover("Add a note", icon=":material/sticky_note_2:",
                    help="A short text on the board, with Markdown formatting."):
        with st.form(f"board_{board.id}_note", border=False):
            text = st.text_area("Note", key=f"board_{board.id}_note_text", height=120,
                                help="Markdown works: **bold**, lists, headings. Links and "
                                     "pictures are shown as plain text.")
            if st.form_submit_button("Add note", type="primary"):
                with friendly_errors("boards_add_note"):
                    boards.add_tile(user, board.id, TileInput(kind="note", note=text))
                    flash("The note is added at the end of the board.")
                    st.rerun()


def _add_number(board: BoardView) -> None:
    board_number_form.show(user, board)


def _share(board: BoardView) -> None:
    with st.popover("Share", icon=":material/share:", help="Copy a link to this board."):
        page = (st.context.url or "").rstrip("/")
        st.write("Send colleagues this link (the copy button is at its right):")
        st.code(f"{page}?board={board.id}", language=None, wrap_lines=True)
        if board.visibility == "shared":
            st.caption("Everyone who signs in can open it; only its owner and admins change it.")
            _private_data(board)
        else:
            st.warning("This board is private: colleagues who open the link are told it is "
                       "not shared with them. Edit the board to share it.",
                       icon=":material/lock:")


def _private_data(board: BoardView) -> None:
    """A shared board's tiles on private datasets, which colleagues cannot read: said, and
    shared in one click by whoever may share those datasets."""
    private = sharing.private_data(user, board)
    if not private.tiles:
        return
    names = [f"“{escape_markdown(d.name)}”" for d in private.shareable]
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)
    one_tile = private.tiles == 1
    tiles_shown = (f"{counted(private.tiles, 'tile')} of this board "
                   f"{'shows' if one_tile else 'show'} private data, so colleagues see "
                   f"{'it' if one_tile else 'them'} as not shared with them")
    remedy = (f": {listed}. Share {'it' if len(names) == 1 else 'them'} too, or remove "
              f"{'that tile' if one_tile else 'those tiles'}.")
    st.warning(tiles_shown + (remedy if names else "."), icon=":material/visibility_off:")
    if names and st.button(f"Share {'this dataset' if len(names) == 1 else 'these datasets'}",
                           key=f"board_{board.id}_share_data", icon=":material/group:"):
        with friendly_errors("boards_share_data"):
            shared = sharing.share_its_data(user, board.id)
            one = len(shared) == 1
            flash(f"{counted(len(shared), 'dataset')} of this board {'is' if one else 'are'} "
                  f"now shared: everyone who signs in can read {'it' if one else 'them'}.")
            st.rerun()


def _actions(board: BoardView) -> DeltaGenerator:
    """The board's row of actions at the top, each button as wide as its words (the row
    wraps on a narrow screen); returns the place kept at its end for the export buttons,
    filled once the tiles are computed."""
    actions = [board_present.present_button, _share]
    if board.can_edit:
        actions += [_add_number, _add_note, _edit, _delete]
    with st.container(horizontal=True, gap="small"):
        for action in actions:
            action(board)
        return st.container(horizontal=True, gap="small", width="content")


def _filters_sentence(board: BoardView) -> str:
    """The filters and selections the exported tiles were computed with, in words."""
    return board_filter_bar.filters_sentence(board.id)


def _changed_banner(board: BoardView, contents: dict[int, TileContent]) -> None:
    """What changed since this person last opened the board: worked out once per visit (the
    visit itself then counts as seen)."""
    seen_key = f"board_{board.id}_changed"
    if seen_key not in st.session_state:
        versions = freshness.tile_versions(user, board.id, mark_seen=True)
        st.session_state[seen_key] = [(v.tile_id, v.sentence) for v in versions
                                      if v.changed_since_seen]
    changed = [(contents[t].title if t in contents else "A tile", sentence)
               for t, sentence in st.session_state[seen_key]]
    if not changed:
        return
    lines = "  \n".join(f"“{escape_markdown(title)}”: {escape_markdown(sentence)}"
                        for title, sentence in changed)
    st.info(f"**What changed since you last opened this board:** the data of "
            f"{len(changed):,} tile{'s' if len(changed) != 1 else ''} has a newer version.  \n"
            f"{lines}", icon=":material/update:")


def _rows(board: BoardView) -> list[list[TileView]]:
    """Tiles in reading order, packed into rows of the board's columns by their widths."""
    rows: list[list[TileView]] = []
    used = board.columns
    for tile in board.tiles:
        width = min(tile.width, board.columns)
        if used + width > board.columns:
            rows.append([])
            used = 0
        rows[-1].append(tile)
        used += width
    return rows


def _grid(board: BoardView, contents: dict[int, TileContent]) -> None:
    for row in _rows(board):
        widths = [min(t.width, board.columns) for t in row]
        spare = board.columns - sum(widths)
        places = st.columns(widths + ([spare] if spare else []))
        for place, tile in zip(places, row, strict=False):
            with place:
                board_tile.show(user, board, tile, contents[tile.id])


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def _cached_contents(username: str, role: str, board_json: str, bar_json: str,
                     selections_json: str, versions: str) -> list[TileContent]:
    """Every tile's content, kept while nothing it depends on changes: the person (their
    role), the board and its layout, the filters, the selections and the versions of the
    data (a fresh tile follows a new version at once); a minute at most, for live tables."""
    board = BoardView.model_validate_json(board_json)
    bar = [BarFilter.model_validate(f) for f in json.loads(bar_json)]
    chosen = [Selection.model_validate(s) for s in json.loads(selections_json)]
    return tiles.board_contents(user, board, bar, chosen)


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def _cached_columns(username: str, role: str, board_json: str,
                    versions: str) -> dict[str, str]:
    """The columns the filter bar offers, kept like the tiles' contents."""
    return tiles.shared_columns(user, BoardView.model_validate_json(board_json))


def _versions(board: BoardView) -> str:
    """Which version each data tile draws now, and which of their datasets this person may
    still see (one sharing change reaches the tiles at once): part of the cache keys above."""
    versions = freshness.tile_versions(user, board.id, mark_seen=False)
    visible = {d.id for d in datasets.list_datasets(user)}
    return json.dumps([(v.tile_id, v.version, v.dataset_id in visible) for v in versions])


def _contents(board: BoardView, versions: str) -> list[TileContent]:
    bar = [f.model_dump(mode="json") for f in board_state.bar(board.id)]
    return _cached_contents(
        user.username, user.role.value, board.model_dump_json(), json.dumps(bar),
        json.dumps(board_state.selections(board.id), sort_keys=True, default=str), versions)


def _board(board_id: int) -> None:
    try:
        board = boards.get_board(user, board_id)
    except ResearchDeskError as refused:
        st.title("Boards")
        st.info(escape_markdown(str(refused)), icon=":material/lock:")
        return
    if board_present.requested():  # full screen for a meeting: nothing else on the page
        board_present.present_board(board, _contents(board, _versions(board)))
        return
    st.page_link("pages/boards.py", label="All boards", icon=":material/arrow_back:",
                 query_params={})
    st.title(escape_markdown(board.title))
    if board.description:
        st.write(escape_markdown(board.description))
    sharing = "shared with everyone" if board.visibility == "shared" else "private"
    st.caption(f"{escape_markdown(board.owner)}'s board · {sharing} · "
               f"{_tiles_words(len(board.tiles))} · updated {when(board.updated_at)}")
    if not board.can_edit:
        role_note.show(user, page="boards")
    show_flash()
    exports = _actions(board)
    banner = st.container()
    if not board.tiles:
        empty_state("This board has no tiles yet.",
                    hint="Add a note here, or add charts from Explore, Ask or a research item "
                         "with “Add to a board”." if board.can_edit else "")
        return
    versions = _versions(board)
    board_filter_bar.show(user, board, _cached_columns(
        user.username, user.role.value, board.model_dump_json(), versions))
    with st.spinner("Drawing the board…", show_time=True):
        found = _contents(board, versions)
    contents = {c.tile_id: c for c in found}
    with banner:
        _changed_banner(board, contents)
    with exports:
        board_export_buttons.show(user, board, found, filters_sentence=_filters_sentence(board))
    _grid(board, contents)


board_id = _board_id()
# A page link to this same page changes the query on the server but not the browser's address;
# the next rerun would send the old address back (a board's popover reopening the list), so
# the address is set to what is shown.
if board_id is None:
    st.query_params.clear()
    _list()
else:
    st.query_params["board"] = str(board_id)
    with friendly_errors("boards_page"):
        _board(board_id)
