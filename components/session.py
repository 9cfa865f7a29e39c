"""The signed-in user for this browser session, and each page's own role check."""

import streamlit as st

from services.access import users
from services.access.permissions import can_open
from services.access.users import UserView

USER_KEY = "research_desk_user"
VERSION_KEY = "auth_session_version"  # the account's session_version this browser signed in at


def set_current_user(user: UserView | None) -> None:
    st.session_state[USER_KEY] = user


def current_user() -> UserView:
    user = st.session_state.get(USER_KEY)
    if user is not None and not users.is_session_current(
            user.username, st.session_state.get(VERSION_KEY)):
        user = None  # signed out elsewhere, password changed or reset, or disabled
        set_current_user(None)
    if user is None:
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
