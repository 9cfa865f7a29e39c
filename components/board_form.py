"""A board's title, description, columns and sharing: one form for "New board" and for
editing one."""

import streamlit as st

from services.boards.models import MAX_COLUMNS, MIN_COLUMNS, BoardChanges, BoardView

SHARING = {"private": "Only me (private)", "shared": "Everyone who signs in (shared)"}


def show(*, key: str, board: BoardView | None = None,
         submit_label: str = "Save changes") -> BoardChanges | None:
    """The filled-in fields when the person presses the button, else None."""
    with st.form(key, border=False):
        title = st.text_input("Title", value=board.title if board else "", key=f"{key}_title",
                              max_chars=200, placeholder="e.g. Weekly sales",
                              help="What the board is about, in a few words.")
        description = st.text_area("Description", value=board.description if board else "",
                                   key=f"{key}_description", max_chars=2_000, height=80,
                                   help="Optional: who it is for, what to look at first.")
        columns_column, sharing_column = st.columns(2)
        columns = columns_column.number_input(
            "Columns", min_value=MIN_COLUMNS, max_value=MAX_COLUMNS, step=1,
            value=board.columns if board else 2, key=f"{key}_columns",
            help="How many tiles fit side by side; a tile can span several columns.")
        visibility = sharing_column.radio(
            "Who can see it", list(SHARING), format_func=SHARING.__getitem__,
            index=list(SHARING).index(board.visibility) if board else 0,
            key=f"{key}_visibility", horizontal=True,
            help="A shared board can be read by everyone; only you and admins change it.")
        if not st.form_submit_button(submit_label, type="primary"):
            return None
    return BoardChanges(title=title, description=description, columns=int(columns),
                        visibility=visibility)
