"""AppTest: a success message written just before a rerun is shown after it (the flash)."""

from services.access import users
from services.access.permissions import Role
from tests.app.helpers import all_text, button, new_app, open_page, sign_in, text_input
from tests.factories import PASSWORD, make_admin, make_user


def test_the_first_admin_is_told_the_account_is_ready_on_the_sign_in_form() -> None:
    at = new_app()
    text_input(at, "Your name").input("Ada Lovelace")
    text_input(at, "Username").input("ada")
    text_input(at, "Password").input(PASSWORD)
    text_input(at, "Repeat the password").input(PASSWORD)
    button(at, "Create admin account").click().run()
    assert not at.exception
    assert "Sign in" in [b.label for b in at.button]
    assert "Your admin account is ready. Please sign in." in all_text(at)
    at.run()  # shown once, not on every later rerun
    assert "Your admin account is ready" not in all_text(at)


def test_adding_a_person_says_so_after_the_rerun() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/admin.py")
    text_input(at, "Name").input("Vic Viewer")
    text_input(at, "Username").input("vic")
    at.selectbox[0].select(Role.VIEWER)
    text_input(at, "First password").input(PASSWORD)
    button(at, "Add person").click().run()
    assert not at.exception
    assert "Vic Viewer can now sign in as “vic”." in all_text(at)
    assert "vic" in at.dataframe[0].value["Username"].tolist()  # the list shows them too


def test_saving_a_role_and_disabling_say_so_after_the_rerun() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    at = open_page(sign_in("ada"), "pages/admin.py")
    at.selectbox(key="admin_manage_user").select("bob").run()
    at.selectbox(key="admin_role_bob").select(Role.VIEWER).run()
    button(at, "Save role").click().run()
    assert not at.exception
    assert "bob is now viewer." in all_text(at)
    assert users.get_user("bob").role == Role.VIEWER  # type: ignore[union-attr]
    button(at, "Disable account").click().run()
    assert "bob's account is disabled: they can no longer sign in." in all_text(at)
