"""Sign-in, first-run and sign-out, around streamlit-authenticator's cookie flow.

Our own form checks the password through `services.users.verify_login` (bcrypt, lock-out,
audit); streamlit-authenticator then owns the session state and the signed cookie, so a
browser refresh signs the person back in.
"""

import streamlit as st
import streamlit_authenticator as stauth
from streamlit.navigation.page import StreamlitPage
from streamlit_authenticator.utilities import LoginError

from components.feedback import friendly_errors
from components.session import set_current_user
from services import users
from services.auth_keys import cookie_key
from services.settings import get_settings
from services.users import NewUser, UserView

SIGN_OUT_KEY = "auth_sign_out_requested"
MOVED_KEY = "auth_sign_out_moved_to_front_door"


def build_authenticator() -> stauth.Authenticate:
    settings = get_settings()
    return stauth.Authenticate(
        users.authenticator_credentials(),
        cookie_name=settings.cookie_name,
        cookie_key=cookie_key(),
        cookie_expiry_days=settings.cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,  # our verify_login does its own throttling
    )


def first_run() -> None:
    st.title("Welcome to Research Desk")
    st.write(
        "Research Desk keeps your team's research questions and data in one place: upload a "
        "spreadsheet, check its quality, chart it without code and ask Claude about it."
    )
    st.header("Create the first admin account")
    st.caption("This account manages people and settings. You can add colleagues afterwards.")
    with st.form("first_admin"):
        name = st.text_input("Your name", max_chars=200)
        username = st.text_input("Username", help=f"{users.USERNAME_RULE}.", max_chars=64)
        email = st.text_input("Email (optional)")
        password = st.text_input("Password", type="password", help=f"{users.PASSWORD_RULE}.")
        repeat = st.text_input("Repeat the password", type="password")
        submitted = st.form_submit_button("Create admin account", type="primary")
    if not submitted:
        return
    with friendly_errors("first_run"):
        if password != repeat:
            st.error("The two passwords are not the same. Please type them again.")
            return
        new_user = NewUser.parse(
            username=username, name=name, email=email, password=password, role="admin"
        )
        users.create_first_admin(new_user)
        st.success("Your admin account is ready. Please sign in.")
        st.rerun()


def _sign_in_form(authenticator: stauth.Authenticate) -> UserView | None:
    form_area = st.empty()  # cleared on success so the app replaces the form in this run
    with form_area.container():
        st.title("Research Desk")
        st.write("Sign in to see your team's research, data and questions.")
        with st.form("sign_in"):
            username = st.text_input("Username", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return None
    if not username.strip() or not password:
        st.error("Enter your username and password.")
        return None
    with friendly_errors("sign_in"):
        user = users.verify_login(username, password)
        authenticator.authentication_controller.login(token={"username": user.username})
        authenticator.cookie_controller.set_cookie()
        form_area.empty()
        return user
    return None


def signed_in_user(authenticator: stauth.Authenticate) -> UserView | None:
    """The signed-in, enabled user, or None after showing the sign-in form."""
    if st.session_state.pop(SIGN_OUT_KEY, False):
        _sign_out(authenticator)
    try:
        authenticator.login(location="unrendered")  # restores the session from the cookie
    except LoginError:
        st.session_state["authentication_status"] = None  # cookie of a removed/disabled user
    username = st.session_state.get("username")
    if st.session_state.get("authentication_status") and username:
        user = users.get_user(username)
        if user is not None and not user.disabled:
            set_current_user(user)
            return user
        authenticator.logout(location="unrendered")
    set_current_user(None)
    user = _sign_in_form(authenticator)
    set_current_user(user)
    return user


def _sign_out(authenticator: stauth.Authenticate) -> None:
    username = st.session_state.get("username")
    if st.session_state.get("authentication_status") and username:
        users.record_sign_out(username)
        authenticator.logout(location="unrendered")  # clears the session and the cookie
    set_current_user(None)


def go_to_front_door_to_sign_out(front_door: StreamlitPage) -> None:
    """Signing out first moves to the front door (/), then signs out in that run, so the
    next person who signs in starts at Home, and the cookie is still deleted by the run
    that shows the sign-in form (a browser component does it after that run)."""
    if st.session_state.get(SIGN_OUT_KEY) and not st.session_state.pop(MOVED_KEY, False):
        st.session_state[MOVED_KEY] = True
        st.switch_page(front_door)


def _request_sign_out() -> None:
    st.session_state[SIGN_OUT_KEY] = True


def sign_out_button() -> None:
    """Signing out happens at the start of the next run, before anything is shown."""
    st.sidebar.button(
        "Sign out", icon=":material/logout:", key="sign_out", on_click=_request_sign_out
    )
