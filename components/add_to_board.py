"""“Add to a board”, beside “Save to research item” in Explore, Ask and on a research item's
saved chart: pick a board you may change or name a new one, keep a chart fresh or pinned to
its version, and get a link to the board."""

from collections.abc import Callable
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st
from pydantic import BaseModel

from components.feedback import friendly_errors
from components.text import escape_markdown
from services.access.permissions import can
from services.access.users import UserView
from services.boards import adding
from services.boards.adding import BoardChoice
from services.boards.models import TileInput
from services.charts.spec import ChartSpec
from services.claude.conversations import MessageView
from services.data import datasets
from services.research.insights import InsightCard, stored_chart_spec

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


# --- where it is offered: an Ask answer and a research item's saved chart -------------------


def _answer_chart(user: UserView, key: str, chart: ChartSpec | None,
                  dataset_id: int | None) -> tuple[TileInput, int | None] | None:
    """The answer's chart as a chart tile and the version it would pin, when the chart can
    be drawn from the dataset itself (Ask's charts usually name the answer's own columns).
    Checked once per answer and session; adding checks it again."""
    if chart is None or dataset_id is None:
        return None
    known: dict[str, tuple[TileInput, int | None] | None] = st.session_state.setdefault(
        "add_to_board_answer_charts", {})
    if key not in known:
        tile = adding.chart_tile(chart, dataset_id, None)
        dataset = datasets.get_dataset(user, dataset_id)
        version = None if dataset.is_live else dataset.current_version
        known[key] = (tile, version) if adding.chart_fits(user, tile) else None
    return known[key]


def for_answer(user: UserView, message: MessageView, question: str, data: pd.DataFrame, *,
               key: str, dataset_id: int | None) -> None:
    """An Ask answer: its table (question, SQL, at most 500 rows) and, when it can be drawn
    from the dataset, its chart."""
    if not can(user.role, "build_boards"):
        return
    found = _answer_chart(user, key, message.details.chart, dataset_id)

    def make_tiles(choice: Choice) -> list[TileInput]:
        tiles = [adding.answer_tile(user, question, message.sql, data, message.created_at,
                                    dataset_id)]
        if found is not None and choice.with_chart:
            tile, version = found
            tiles.append(tile.model_copy(
                update={"dataset_version": None if choice.fresh else version}))
        return tiles

    show(user, key=f"{key}_board", make_tiles=make_tiles,
         version=found[1] if found else None,
         chart_choice="Add the chart too, drawn from the whole dataset" if found else "")


def for_insight(user: UserView, card: InsightCard) -> None:
    """A research item's saved chart of a dataset the reader may see, as a chart tile (a
    live table's is always fresh: it has no versions)."""
    spec = stored_chart_spec(card.spec) if card.kind == "chart" else None
    visible = card.parquet_path is not None or card.live is not None
    if spec is None or card.dataset_id is None or card.is_data_gone or not visible:
        return
    dataset_id = card.dataset_id
    version = None if card.live is not None else card.dataset_version
    show(user, key=f"research_item_board_{card.id}", version=version,
         make_tiles=lambda choice: [adding.chart_tile(
             spec, dataset_id, None if choice.fresh else version)])
