"""Accounts, roles, passwords, sign-in throttling and the audit trail they leave."""

import pytest

from services.access import audit, users
from services.access.audit import AuditFilter
from services.access.permissions import Role
from services.access.users import NewUser
from services.errors import AuthenticationFailed, Conflict, InvalidInput, PermissionDenied
from tests.factories import PASSWORD, make_admin, make_user


def test_fresh_install_has_no_users_and_first_admin_is_admin() -> None:
    assert users.has_users() is False
    admin = make_admin()
    assert users.has_users() is True
    assert admin.role == Role.ADMIN
    stored = users.get_user("ada")
    assert stored is not None and stored.is_admin


def test_first_admin_only_once() -> None:
    make_admin()
    with pytest.raises(Conflict):
        users.create_first_admin(NewUser(username="eve", name="Eve", password=PASSWORD))


def test_password_is_bcrypt_hashed_not_stored_plain() -> None:
    make_admin()
    credentials = users.authenticator_credentials()["usernames"]["ada"]
    assert credentials["password"].startswith("$2")
    assert PASSWORD not in credentials["password"]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"username": ""}, "Enter a username"),
        ({"username": "has space"}, "Usernames must be"),
        ({"username": "x" * 300}, "Usernames must be"),
        ({"username": "UPPER"}, "Usernames must be"),
        ({"name": "   "}, "Enter the person's name"),
        ({"name": "<script>alert(1)</script>"}, "cannot contain"),
        ({"password": "short1"}, "at least 12 characters"),
        ({"password": "onlyletterslong"}, "at least one letter and one digit"),
        ({"email": "not-an-email"}, "email address"),
        ({"role": "owner"}, "Choose one of the roles"),
    ],
)
def test_bad_new_user_input_is_refused_and_nothing_stored(fields: dict, fragment: str) -> None:
    admin = make_admin()
    candidate = {"username": "bob", "name": "Bob", "password": PASSWORD, "role": "analyst"}
    candidate.update(fields)
    with pytest.raises(InvalidInput, match=fragment):
        users.create_user(admin, NewUser.parse(**candidate))
    assert [u.username for u in users.list_users(admin)] == ["ada"]


def test_duplicate_username_is_refused() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    with pytest.raises(Conflict, match="taken"):
        make_user(admin, "bob")
    assert len(users.list_users(admin)) == 2


def test_only_admins_manage_users() -> None:
    admin = make_admin()
    analyst = make_user(admin, "bob")
    viewer = make_user(admin, "vic", Role.VIEWER)
    for actor in (analyst, viewer):
        with pytest.raises(PermissionDenied):
            users.list_users(actor)
        with pytest.raises(PermissionDenied):
            users.change_role(actor, "ada", Role.VIEWER)
        with pytest.raises(PermissionDenied):
            users.set_disabled(actor, "ada", True)
        with pytest.raises(PermissionDenied):
            users.reset_password(actor, "ada", "another-pass-1")
    assert users.get_user("ada").role == Role.ADMIN  # type: ignore[union-attr]


def test_last_active_admin_cannot_be_disabled_or_demoted() -> None:
    admin = make_admin()
    with pytest.raises(Conflict, match="last active admin"):
        users.set_disabled(admin, "ada", True)
    with pytest.raises(Conflict, match="last active admin"):
        users.change_role(admin, "ada", Role.ANALYST)
    second = make_user(admin, "grace", Role.ADMIN)
    users.change_role(second, "ada", Role.ANALYST)
    assert users.get_user("ada").role == Role.ANALYST  # type: ignore[union-attr]


def test_disabled_admin_does_not_count_as_active() -> None:
    admin = make_admin()
    make_user(admin, "grace", Role.ADMIN)
    users.set_disabled(admin, "grace", True)
    with pytest.raises(Conflict):
        users.change_role(admin, "ada", Role.VIEWER)


def test_sign_in_success_and_failure_are_audited() -> None:
    admin = make_admin()
    assert users.verify_login("ADA ", PASSWORD).username == "ada"
    with pytest.raises(AuthenticationFailed, match="do not match"):
        users.verify_login("ada", "wrong-password-1")
    with pytest.raises(AuthenticationFailed, match="do not match"):
        users.verify_login("nobody", "wrong-password-1")
    actions = [e.action for e in audit.list_entries(admin.role, AuditFilter())]
    assert actions[:3] == ["sign_in_failed", "sign_in_failed", "sign_in"]


def test_repeated_failures_lock_the_account(monkeypatch: pytest.MonkeyPatch) -> None:
    make_admin()
    for _ in range(5):
        with pytest.raises(AuthenticationFailed, match="do not match"):
            users.verify_login("ada", "wrong-password-1")
    with pytest.raises(AuthenticationFailed, match="Too many failed attempts"):
        users.verify_login("ada", PASSWORD)  # even the right password waits


def test_disabled_user_cannot_sign_in_and_is_not_offered_to_cookie_login() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    users.set_disabled(admin, "bob", True)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        users.verify_login("bob", PASSWORD)
    assert "bob" not in users.authenticator_credentials()["usernames"]
    users.set_disabled(admin, "bob", False)
    assert users.verify_login("bob", PASSWORD).username == "bob"


def test_change_password_checks_current_and_rule() -> None:
    make_admin()
    with pytest.raises(AuthenticationFailed):
        users.change_password("ada", "not-my-password-1", "brand-new-pass-9")
    with pytest.raises(InvalidInput):
        users.change_password("ada", PASSWORD, "weak")
    users.change_password("ada", PASSWORD, "brand-new-pass-9")
    assert users.verify_login("ada", "brand-new-pass-9").username == "ada"
    with pytest.raises(AuthenticationFailed):
        users.verify_login("ada", PASSWORD)


def test_admin_reset_password_and_role_changes_are_audited() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    users.reset_password(admin, "bob", "reset-by-admin-1")
    users.change_role(admin, "bob", Role.VIEWER)
    users.set_disabled(admin, "bob", True)
    entries = audit.list_entries(admin.role, AuditFilter(actor="ada"))
    assert [e.action for e in entries][:4] == [
        "user_disabled", "role_changed", "password_reset", "user_created",
    ]
    assert entries[1].detail == "analyst → viewer"
    assert users.verify_login  # the reset password works once re-enabled
    users.set_disabled(admin, "bob", False)
    assert users.verify_login("bob", "reset-by-admin-1").role == Role.VIEWER


def test_audit_filters_and_permission() -> None:
    admin = make_admin()
    viewer = make_user(admin, "vic", Role.VIEWER)
    with pytest.raises(PermissionDenied):
        audit.list_entries(viewer.role, AuditFilter())
    only_created = audit.list_entries(admin.role, AuditFilter(action="user_created"))
    assert {e.target for e in only_created} == {"ada", "vic"}
    assert [e.action for e in audit.my_activity("vic")] == []
