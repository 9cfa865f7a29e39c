"""One line that tells a viewer why some controls are not there, once per page."""

import streamlit as st

from services.access.permissions import Role
from services.access.users import UserView

# What a viewer misses on each page, and who has it. Pages without controls a viewer misses
# have no line.
VIEWER_NOTES: dict[str, str] = {
    "home": "You are a viewer: you read and chart what colleagues share. Adding data, "
            "starting research items and asking Claude are for analysts and admins; ask an "
            "admin if you need them.",
    "datasets": "You are a viewer: you read the datasets colleagues share; adding data (a "
                "file, a sample or a database table) is for analysts and admins.",
    "explore": "You are a viewer: you can chart shared datasets and download what you see; "
               "saving a chart to a research item is for analysts and admins.",
    "research": "You are a viewer: you can read and export the research items colleagues "
                "share; starting a new one is for analysts and admins.",
    "boards": "You are a viewer: you can open, filter and share the boards colleagues "
              "share; making and changing boards is for analysts and admins.",
    "usage": "You are a viewer: viewers do not use Claude, so there are no calls or budgets "
             "of yours here; analysts and admins see theirs on this page.",
}


def is_viewer(user: UserView) -> bool:
    return user.role == Role.VIEWER


def show(user: UserView, *, page: str) -> None:
    """The page's line for a viewer; nothing for anyone else."""
    if not is_viewer(user) or page not in VIEWER_NOTES:
        return
    st.caption(VIEWER_NOTES[page], help="Roles are set by an admin on the Admin page.")
