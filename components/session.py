"""The signed-in user for this browser session, and each page's own role check."""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from services.access import users
from services.access.permissions import can_open
from services.access.users import UserView

USER_KEY = "research_desk_user"
VERSION_KEY = "auth_session_version"  # the account's session_version this browser signed in at


def set_current_user(user: UserView | None) -> None:
    st.session_state[USER_KEY] = user


def _routed_by_the_app() -> None:
    """Until app.py has called st.navigation once in this process, Streamlit takes pages/ for
    its old multipage folder: a server's first visitor who opens a page's address (a shared
    board's link after a restart) got that file run on its own, with no sign-in form and a
    menu of file names. The page hands the visit back to app.py, which routes from then on
    (a signed-in visit has been through app.py already)."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def current_user() -> UserView:
    user = st.session_state.get(USER_KEY)
    if user is not None and not users.is_session_current(
            user.username, st.session_state.get(VERSION_KEY)):
        user = None  # signed out elsewhere, password changed or reset, or disabled
        set_current_user(None)
    if user is None:
        _routed_by_the_app()
        st.warning("Please sign in to continue.")
        st.stop()
    return user


def require_page(page: str) -> UserView:
    """Every page calls this first: navigation hides pages, but a typed URL must not work."""
    user = current_user()
    if can_open(user.role, page):
        return user
    st.title("This page is not available to you")
    st.info(
        f"Your role ({user.role.value}) does not include this page. If you need it, "
        "ask an admin to change your role.",
        icon=":material/lock:",
    )
    st.page_link("pages/home.py", label="Back to Home", icon=":material/home:")
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; this keeps type checkers calm
