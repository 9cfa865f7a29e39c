"""Sign-in, first-run and sign-out, around streamlit-authenticator's session state.

Our own form checks the password through `services.access.users.verify_login` (bcrypt, throttling,
audit); streamlit-authenticator holds the session state, and its browser component writes
the signed cookie that signs the person back in after a refresh. The cookie's token is issued
and verified in `services.access.sign_in_cookie` (key, algorithm, `exp`, session version);
a cookie it refuses means signed out. Every run also compares the session version, so a
copied cookie stops working at once.

What a cookie can do here: it is written by page script (a Streamlit component), so it
cannot be HttpOnly; it is SameSite=Strict, and Secure when the page came over HTTPS.
"""

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import NamedTuple

import extra_streamlit_components as stx
import streamlit as st
import streamlit_authenticator as stauth
from extra_streamlit_components.CookieManager import _component_func as _cookie_component
from streamlit.delta_generator import DeltaGenerator
from streamlit.navigation.page import StreamlitPage
from streamlit_authenticator.models import cookie_model
from streamlit_authenticator.utilities import LoginError

from components.feedback import flash, friendly_errors, show_flash
from components.session import VERSION_KEY, set_current_user
from services.access import rate_limits, sign_in_cookie, users
from services.access.auth_keys import cookie_key
from services.access.users import NewUser, UserView
from services.settings import get_settings

SIGN_OUT_KEY = "auth_sign_out_requested"
MOVED_KEY = "auth_sign_out_moved_to_front_door"
REISSUE_KEY = "auth_reissue_cookie"  # after a password change here: a cookie with the new one
COOKIE_PENDING_KEY = "auth_cookie_pending"  # the cookie to write until the browser has written it


class _WriteOnlyCookieManager(stx.CookieManager):
    """streamlit-authenticator's cookie manager without its cookie reader. The reader is a
    browser component drawn on every run that reports all the page's cookies whenever it is
    drawn anew and they changed since its last report: once per new tab, and after signing in
    at the next change of the page's width (a scrollbar, a resize). Each report reruns the
    page, and a rerun that lands while a button's run is under way replaces that run, so the
    click is lost. This app reads its cookie from the request (`st.context.cookies`);
    writing (`_send_cookie`) and deleting (signing out) are the library's components."""

    def __init__(self, key: str = "init") -> None:  # noqa: ARG002 - the library calls it so
        self.cookie_manager = _cookie_component
        self.cookies: dict[str, str] = {}

    def get(self, cookie: str) -> str | None:
        return st.context.cookies.get(cookie)

    def delete(self, cookie: str, key: str = "delete") -> None:
        self.cookie_manager(method="delete", cookie=cookie, key=key, default=False)


# Only streamlit-authenticator's cookie model gets it (its module's own name for the package).
cookie_model.stx = SimpleNamespace(CookieManager=_WriteOnlyCookieManager)


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
        flash("Your admin account is ready. Please sign in.")
        st.rerun()


class _Slots(NamedTuple):
    """The sign-in form's and the cookie writer's places, taken on every run (empty when
    unused), so the page below them keeps its positions when they come and go: a rerun
    replaces each element in place instead of showing the old and the new one together."""

    form: DeltaGenerator
    cookie: DeltaGenerator


def _sign_in_form(authenticator: stauth.Authenticate, slots: _Slots) -> UserView | None:
    form_area = slots.form  # cleared on success so the app replaces the form in this run
    with form_area.container():
        st.title("Research Desk")
        st.write("Sign in to see your team's research, data and questions.")
        show_flash()
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
        user = users.verify_login(username, password, client=client_address())
        _start_session(authenticator, user)
        _write_cookie(authenticator, user, slots.cookie)
        form_area.empty()
        return user
    return None


def client_address() -> str | None:
    """Who is signing in, for throttling (the rule, proxies included, is in rate_limits)."""
    return rate_limits.client_address(st.context.ip_address,
                                      st.context.headers.get("X-Forwarded-For"))


def _is_https() -> bool:
    if get_settings().cookie_secure:
        return True
    url = st.context.url or ""
    proto = (st.context.headers.get("X-Forwarded-Proto") or "").lower()
    return url.startswith("https://") or proto == "https"


def _write_cookie(authenticator: stauth.Authenticate, user: UserView, slot: DeltaGenerator,
                  ) -> None:
    settings = get_settings()
    if not settings.cookie_expiry_days:
        return
    expires = datetime.now() + timedelta(days=settings.cookie_expiry_days)
    token = sign_in_cookie.issue(user, expires)
    st.session_state[COOKIE_PENDING_KEY] = {"token": token, "expires": expires.isoformat(),
                                            "secure": _is_https()}
    _send_cookie(authenticator, slot)


def _send_cookie(authenticator: stauth.Authenticate, slot: DeltaGenerator) -> None:
    """The browser component writes the cookie once its frame has loaded, then answers True.
    A rerun that comes first (one the page asked for a moment before) removes the frame and
    the write with it, so the same write is sent on each run until it has answered. It is
    always drawn in `slot`, at the same place, so the frame is kept, not loaded again."""
    pending = st.session_state.get(COOKIE_PENDING_KEY)
    if pending is None:
        return
    manager = authenticator.cookie_controller.cookie_model.cookie_manager
    with slot.container():  # CookieManager.set drops the answer: its component, called as it does
        written = manager.cookie_manager(
            method="set", cookie=get_settings().cookie_name, value=pending["token"],
            options={"path": "/", "expires": pending["expires"], "sameSite": "strict",
                     "secure": pending["secure"]}, key="set", default=False)
    if written:
        st.session_state.pop(COOKIE_PENDING_KEY, None)


def _raw_cookie() -> str | None:
    return st.context.cookies.get(get_settings().cookie_name)


def _start_session(authenticator: stauth.Authenticate, user: UserView) -> None:
    authenticator.authentication_controller.login(token={"username": user.username})
    st.session_state["logout"] = None
    st.session_state[VERSION_KEY] = user.session_version


def _restore_from_cookie(authenticator: stauth.Authenticate) -> None:
    """A refresh or a new tab: sign back in from the cookie if it is still current."""
    if st.session_state.get("authentication_status") or st.session_state.get("logout"):
        return
    user = sign_in_cookie.verify(_raw_cookie())
    if user is None:
        return
    try:
        _start_session(authenticator, user)
    except LoginError:  # not among the enabled accounts the authenticator was given
        return


def keep_signed_in_here(user: UserView) -> None:
    """After changing the password in this browser: stay signed in here (other browsers are
    signed out); the next run writes a cookie with the new session version."""
    st.session_state[VERSION_KEY] = user.session_version
    st.session_state[REISSUE_KEY] = True


def signed_in_user(authenticator: stauth.Authenticate) -> UserView | None:
    """The signed-in, enabled user whose session is still current (checked on every run),
    or None after showing the sign-in form."""
    if st.session_state.pop(SIGN_OUT_KEY, False):
        _sign_out(authenticator)
    _restore_from_cookie(authenticator)
    slots = _Slots(form=st.empty(), cookie=st.empty())
    username = st.session_state.get("username")
    if st.session_state.get("authentication_status") and username:
        user = users.get_user(username)
        version = st.session_state.get(VERSION_KEY)
        if user is not None and not user.disabled and version == user.session_version:
            if st.session_state.pop(REISSUE_KEY, False):
                _write_cookie(authenticator, user, slots.cookie)
            else:
                _send_cookie(authenticator, slots.cookie)
            set_current_user(user)
            return user
        _end_session(authenticator)  # signed out elsewhere, password changed, disabled
    set_current_user(None)
    user = _sign_in_form(authenticator, slots)
    set_current_user(user)
    return user


def _end_session(authenticator: stauth.Authenticate) -> None:
    authenticator.logout(location="unrendered")  # clears the session and the cookie
    st.session_state.pop(VERSION_KEY, None)
    st.session_state.pop(REISSUE_KEY, None)
    st.session_state.pop(COOKIE_PENDING_KEY, None)


def _sign_out(authenticator: stauth.Authenticate) -> None:
    username = st.session_state.get("username")
    if st.session_state.get("authentication_status") and username:
        users.record_sign_out(username)  # every cookie of this account stops working
        _end_session(authenticator)
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
