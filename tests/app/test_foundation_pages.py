"""AppTest: first run, sign-in, every foundation page for every role, admin actions."""

import pytest

from services.access import users
from services.access.permissions import Role
from tests.app.helpers import all_text, button, new_app, open_page, sign_in, text_input
from tests.factories import PASSWORD, make_admin, make_user

PAGES = ["pages/home.py", "pages/account.py", "pages/admin.py"]


def test_fresh_install_asks_for_the_first_admin_then_requires_sign_in() -> None:
    at = new_app()
    assert "Create the first admin account" in all_text(at)
    text_input(at, "Your name").input("Ada Lovelace")
    text_input(at, "Username").input("ada")
    text_input(at, "Password").input(PASSWORD)
    text_input(at, "Repeat the password").input(PASSWORD)
    button(at, "Create admin account").click().run()
    assert not at.exception
    assert users.get_user("ada").role == Role.ADMIN  # type: ignore[union-attr]
    assert "Sign in" in [b.label for b in at.button]


def test_first_run_refuses_a_weak_password_and_stores_nothing() -> None:
    at = new_app()
    text_input(at, "Your name").input("Ada")
    text_input(at, "Username").input("ada")
    text_input(at, "Password").input("weak")
    text_input(at, "Repeat the password").input("weak")
    button(at, "Create admin account").click().run()
    assert "stronger password" in all_text(at)
    assert users.has_users() is False


def test_wrong_password_shows_a_clear_message() -> None:
    make_admin()
    at = sign_in("ada", "not-the-password-1")
    assert "do not match" in all_text(at)
    assert "Welcome" not in all_text(at)


@pytest.mark.parametrize("role", list(Role))
def test_every_page_renders_for_every_role(role: Role) -> None:
    admin = make_admin()
    username = "ada" if role == Role.ADMIN else f"{role.value}1"
    if role != Role.ADMIN:
        make_user(admin, username, role)
    at = sign_in(username)
    assert not at.exception
    assert "Welcome" in all_text(at)
    for page in PAGES:
        open_page(at, page)
        assert not at.exception, page
        refused = "This page is not available to you" in all_text(at)
        assert refused == (page == "pages/admin.py" and role != Role.ADMIN), page


def test_home_says_whether_claude_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    make_admin()
    at = sign_in("ada")
    assert "Claude is not set up yet" in all_text(at)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-123456789")
    from services.settings import reset_settings_cache

    reset_settings_cache()
    at.run()
    assert "Claude is ready" in all_text(at)
    assert "sk-ant-test-key-123456789" not in all_text(at)


def test_admin_creates_a_viewer_from_the_page() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/admin.py")
    text_input(at, "Name").input("Vic Viewer")
    text_input(at, "Username").input("vic")
    at.selectbox[0].select(Role.VIEWER)
    text_input(at, "First password").input(PASSWORD)
    button(at, "Add person").click().run()
    assert not at.exception
    assert users.get_user("vic").role == Role.VIEWER  # type: ignore[union-attr]


def test_admin_page_refuses_a_duplicate_username() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/admin.py")
    text_input(at, "Name").input("Another Ada")
    text_input(at, "Username").input("ada")
    text_input(at, "First password").input(PASSWORD)
    button(at, "Add person").click().run()
    assert "taken" in all_text(at)


def test_account_page_changes_the_password() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/account.py")
    text_input(at, "Current password").input(PASSWORD)
    text_input(at, "New password").input("a-brand-new-pass-7")
    text_input(at, "Repeat the new password").input("a-brand-new-pass-7")
    button(at, "Change password").click().run()
    assert "Your password is changed" in all_text(at)
    assert users.verify_login("ada", "a-brand-new-pass-7").username == "ada"
