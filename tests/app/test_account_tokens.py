"""The Account page's API tokens: create (shown once), list, revoke."""

import pytest

from services.access import api_tokens, users
from services.access.permissions import Role
from services.errors import AuthenticationFailed
from tests.app.helpers import all_text, button, open_page, sign_in, text_input
from tests.factories import make_admin, make_user


def test_create_show_once_list_and_revoke_a_token() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/account.py")
    assert "API tokens" in all_text(at) and "no API tokens yet" in all_text(at)
    text_input(at, "Token name").input("notebook")
    button(at, "Create token").click().run()
    secret = at.code[0].value
    assert secret.startswith("rdk_")
    assert "shown only once" in all_text(at) and "notebook" in all_text(at)
    assert api_tokens.authenticate(secret).user.username == "ada"
    at.run()  # the next run no longer shows the secret
    assert not any(c.value == secret for c in at.code)
    button(at, "Revoke").click().run()
    assert "revoked" in all_text(at)
    ada = users.get_user("ada")
    assert ada is not None and not api_tokens.list_tokens(ada)[0].is_active


def test_an_empty_token_name_is_refused_politely() -> None:
    make_admin()
    at = open_page(sign_in("ada"), "pages/account.py")
    button(at, "Create token").click().run()
    assert "Please enter a token name." in all_text(at)
    assert not at.code


def test_an_admin_revokes_someone_elses_tokens_on_the_admin_page() -> None:
    admin = make_admin()
    make_user(admin, "bob", Role.ANALYST)
    bob = users.get_user("bob")
    assert bob is not None
    secret = api_tokens.create_token(bob, "bob's script").secret
    at = open_page(sign_in("ada"), "pages/admin.py")
    at.selectbox(key="admin_manage_user").select("bob").run()
    assert "bob has 1 active API token." in all_text(at)
    button(at, "Revoke every API token of bob").click().run()
    assert "1 API token of bob no longer works." in all_text(at)
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate(secret)
