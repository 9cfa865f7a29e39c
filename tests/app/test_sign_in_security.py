"""AppTest: cookies that no longer count, cookies this app cannot read, and sign-in guessing
(issue 9, points 8, 9 and 10). AppTest cannot send cookies, so the gate's one cookie reader
(`_raw_cookie`) is pointed at a token made here; the rest of the flow is the real one."""

from datetime import datetime, timedelta

import jwt
import pytest
from streamlit.testing.v1 import AppTest

from components import auth_gate
from services.access import users
from services.access.auth_keys import cookie_key
from tests.app.helpers import all_text, button, new_app, open_page, sign_in, text_input
from tests.factories import PASSWORD, make_admin


def _token(username: str = "ada", *, version: int | None = None, key: str | None = None,
           algorithm: str = "HS256", days: float = 7) -> str:
    user = users.get_user(username)
    payload = {"username": username,
               "exp": int((datetime.now() + timedelta(days=days)).timestamp()),
               "sv": user.session_version if version is None and user else version}
    return jwt.encode(payload, key or cookie_key(), algorithm=algorithm)


def _browser_with(token: str | None, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setattr(auth_gate, "_raw_cookie", lambda: token)
    return new_app()


def _next_run(at: AppTest) -> AppTest:
    """The next run (AppTest reruns only the page, whose first line checks the session)."""
    return at.run()


def _refused(at: AppTest) -> bool:
    """Signed out: the gate's sign-in form, or a page's own "Please sign in"."""
    labels = [b.label for b in at.button]
    return "Sign in" in labels or "Please sign in to continue." in [w.value for w in at.warning]


def _signed_in(at: AppTest) -> bool:
    return "Welcome" in all_text(at) and "Sign in" not in [b.label for b in at.button]


def test_a_current_cookie_signs_back_in(monkeypatch: pytest.MonkeyPatch) -> None:
    make_admin()
    at = _browser_with(_token(), monkeypatch)
    assert not at.exception
    assert _signed_in(at)


@pytest.mark.parametrize("case", ["other algorithm", "other key", "garbage", "expired",
                                  "no version", "none algorithm"])
def test_a_cookie_this_app_cannot_trust_means_signed_out(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make_admin()
    token = {
        "other algorithm": lambda: _token(algorithm="HS512"),
        "other key": lambda: _token(key="x" * 64),
        "garbage": lambda: "not.a.jwt",
        "expired": lambda: _token(days=-1),
        "no version": lambda: jwt.encode({"username": "ada", "exp": 4e9}, cookie_key(),
                                         algorithm="HS256"),
        "none algorithm": lambda: jwt.encode({"username": "ada", "exp": 4e9, "sv": 0},
                                             None, algorithm="none"),
    }[case]()
    at = _browser_with(token, monkeypatch)
    assert not at.exception
    assert "Sorry, something went wrong" not in all_text(at)
    assert "Sign in" in [b.label for b in at.button]  # the form, not an apology
    text_input(at, "Username").input("ada")
    text_input(at, "Password").input(PASSWORD)
    button(at, "Sign in").click().run()
    assert _signed_in(at)


def test_sign_out_makes_a_copied_cookie_useless(monkeypatch: pytest.MonkeyPatch) -> None:
    make_admin()
    copied = _token()
    assert _signed_in(_browser_with(copied, monkeypatch))
    monkeypatch.setattr(auth_gate, "_raw_cookie", lambda: None)  # this browser has none
    at = sign_in("ada")
    assert _signed_in(at)
    users.record_sign_out("ada")  # what the Sign out button records, here from elsewhere
    _next_run(at)
    assert _refused(at)  # this browser too, at its next run
    other = _browser_with(copied, monkeypatch)
    assert not _signed_in(other)
    assert "Sign in" in [b.label for b in other.button]


def test_a_password_change_signs_out_other_browsers_but_not_this_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_admin()
    elsewhere = sign_in("ada")
    here = open_page(sign_in("ada"), "pages/account.py")
    text_input(here, "Current password").input(PASSWORD)
    text_input(here, "New password").input("kettle-orbit-7-lantern")
    text_input(here, "Repeat the new password").input("kettle-orbit-7-lantern")
    button(here, "Change password").click().run()
    assert "Your password is changed" in all_text(here)
    _next_run(here)
    assert not _refused(here) and "My account" in all_text(here)  # still signed in here
    _next_run(elsewhere)
    assert _refused(elsewhere)  # at once, on its next run


def test_a_disabled_account_is_signed_out_on_its_next_run() -> None:
    admin = make_admin()
    users.create_user(admin, users.NewUser(username="bob", name="Bob", password=PASSWORD))
    bob = sign_in("bob")
    assert _signed_in(bob)
    users.set_disabled(admin, "bob", True)
    _next_run(bob)
    assert _refused(bob)


def _attempt(at: AppTest, username: str, password: str) -> str:
    text_input(at, "Username").input(username)
    text_input(at, "Password").input(password)
    button(at, "Sign in").click().run()
    return "\n".join(e.value for e in at.error)


def test_guessing_cannot_lock_the_admin_out_nor_reveal_usernames(
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_admin()
    monkeypatch.setattr(auth_gate, "client_address", lambda: "203.0.113.9")
    attacker = new_app()
    real = [_attempt(attacker, "ada", "wrong-password-1") for _ in range(6)]
    unknown = [_attempt(attacker, "root", "wrong-password-1") for _ in range(6)]
    digits = str.maketrans("0123456789", "##########")
    assert [m.translate(digits) for m in real] == [m.translate(digits) for m in unknown]
    assert "Too many failed attempts" in real[-1]
    monkeypatch.setattr(auth_gate, "client_address", lambda: "198.51.100.7")
    owner = new_app()
    _attempt(owner, "ada", PASSWORD)
    assert _signed_in(owner)


def _cookie_components(at: AppTest) -> list[str]:
    return [element.key for element in at.get("component_instance")]


def test_no_cookie_reader_is_drawn_only_the_writer_until_it_answers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every browser component reruns the page when it reports, and a rerun that lands
    during a button's run loses the click. The cookie reader streamlit-authenticator drew
    on every run reported on each redraw after the cookies changed (a resize, a scrollbar)."""
    make_admin()
    restored = _browser_with(_token(), monkeypatch)
    assert _signed_in(restored)
    assert _cookie_components(restored) == []
    monkeypatch.setattr(auth_gate, "_raw_cookie", lambda: None)
    at = sign_in("ada")
    assert _signed_in(at)
    assert _cookie_components(at) == ["set"]  # until the browser answers that it wrote it
