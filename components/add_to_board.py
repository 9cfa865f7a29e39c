"""“Add to a board”, beside “Save to research item”: pick a board you may change or name a
new one, keep a chart fresh or pinned to its version, and get a link to the board."""

from collections.abc import Callable
from urllib.parse import urlsplit

import streamlit as st
from pydantic import BaseModel

from components.feedback import friendly_errors
from components.text import escape_markdown
from services.access.permissions import can
from services.access.users import UserView
from services.boards import adding
from services.boards.adding import BoardChoice
from services.boards.models import TileInput

NEW_BOARD = "➕ New board…"
FRESH, PINNED = "fresh", "pinned"


class Choice(BaseModel):
    """What the person chose besides the board: `fresh` (the chart follows the newest
    version) and `with_chart` (Ask: the answer's chart as well as its table)."""

    fresh: bool = True
    with_chart: bool = False


def board_link(board_id: int) -> str:
    """The Boards page's address as this person's browser reaches the app (pages live at
    /<file name>, under any base path the server has)."""
    parts = urlsplit(st.context.url or "")
    base = parts.path.rsplit("/", 1)[0] if parts.path else ""
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return f"{origin}{base}/boards?board={board_id}"


def show(user: UserView, *, key: str, make_tiles: Callable[[Choice], list[TileInput]],
         version: int | None = None, chart_choice: str = "") -> None:
    """A popover that adds `make_tiles(choice)` to a board. `version`: the dataset version
    shown, offered as "pinned" (None: no choice, e.g. a live table). `chart_choice`: the
    label of a tick box for adding a chart as well (empty: none)."""
    if not can(user.role, "build_boards"):
        return
    with st.popover("Add to a board", icon=":material/dashboard_customize:"):
        picked = st.session_state.pop(f"{key}_picked", None)
        if picked is not None:  # the board just made is now the one picked (no second copy)
            st.session_state[f"{key}_board"] = picked
            st.session_state[f"{key}_new_title"] = ""
        mine = adding.boards_to_add_to(user)
        labels: dict[int | str, str] = {b.id: b.title for b in mine}
        choice = st.selectbox(
            "Board", [NEW_BOARD, *labels], index=1 if mine else 0, key=f"{key}_board",
            format_func=lambda o: labels.get(o, NEW_BOARD),
            help="A board puts several charts, numbers and answers side by side.")
        new_title = ""
        if choice == NEW_BOARD:
            new_title = st.text_input("Title of the new board", key=f"{key}_new_title",
                                      max_chars=200)
        fresh = True
        if version is not None:
            kept = st.radio(
                "Which data the tile shows", [FRESH, PINNED], key=f"{key}_keep",
                format_func=lambda o: ("Fresh (follows the newest version)" if o == FRESH
                                       else f"Pinned to this version (version {version})"),
                help="A fresh tile updates when the dataset gets a new version; a pinned one "
                     "keeps showing this version.")
            fresh = kept == FRESH
        with_chart = bool(chart_choice) and st.checkbox(chart_choice, value=True,
                                                         key=f"{key}_with_chart")
        if st.button("Add", key=f"{key}_add", type="primary"):
            with friendly_errors(f"{key}_add"):
                target = BoardChoice(new_title=new_title) if choice == NEW_BOARD \
                    else BoardChoice(board_id=int(str(choice)))
                added = adding.add_tiles(user, target, make_tiles(
                    Choice(fresh=fresh, with_chart=with_chart)))
                st.session_state[f"{key}_picked"] = added.board_id
                st.success(f"Added to the board “{escape_markdown(added.board_title)}”.")
                st.link_button("Open the board", board_link(added.board_id),
                               icon=":material/dashboard:")
