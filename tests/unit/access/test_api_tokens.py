"""Personal API tokens: shown once, stored hashed, revocable, dead with a disabled account."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.access import api_tokens, audit, users
from services.access.audit import AuditFilter
from services.access.permissions import Role
from services.errors import AuthenticationFailed, InvalidInput, NotFound
from services.store.db import session_scope
from services.store.models import ApiToken, utcnow
from tests.factories import make_admin, make_user


def test_a_token_is_shown_once_stored_hashed_and_acts_as_its_owner() -> None:
    admin = make_admin()
    new = api_tokens.create_token(admin, "  nightly   export ")
    assert new.secret.startswith("rdk_") and len(new.secret) > 40
    assert new.token.name == "nightly export" and new.token.is_active
    with session_scope() as session:
        stored = session.scalars(select(ApiToken)).one()
    assert stored.token_hash == api_tokens.hash_secret(new.secret)
    assert new.secret not in (stored.token_hash, stored.hint)
    caller = api_tokens.authenticate(new.secret)
    assert caller.user.username == "ada" and caller.token_id == new.token.id
    listed = api_tokens.list_tokens(admin)
    assert [t.name for t in listed] == ["nightly export"]
    assert listed[0].last_used_at is not None
    assert "secret" not in listed[0].model_dump() and "token_hash" not in listed[0].model_dump()
    actions = [e.action for e in audit.list_entries("admin", AuditFilter())]
    assert "api_token_created" in actions


@pytest.mark.parametrize("bad", ["", "rdk_", "Bearer x", "rdk_" + "a" * 43, "x" * 500])
def test_unknown_or_malformed_tokens_are_refused(bad: str) -> None:
    make_admin()
    with pytest.raises(AuthenticationFailed, match="not valid"):
        api_tokens.authenticate(bad)


def test_revoked_and_expired_tokens_stop_working() -> None:
    admin = make_admin()
    first = api_tokens.create_token(admin, "one")
    second = api_tokens.create_token(admin, "two", expires_in_days=1)
    api_tokens.revoke_token(admin, first.token.id)
    with pytest.raises(AuthenticationFailed, match="not valid"):
        api_tokens.authenticate(first.secret)
    api_tokens.authenticate(second.secret)
    with session_scope(write=True) as session:
        session.get(ApiToken, second.token.id).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(AuthenticationFailed, match="expired"):
        api_tokens.authenticate(second.secret)


def test_a_disabled_accounts_tokens_stop_working_at_once() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    token = api_tokens.create_token(bob, "bob's script")
    assert api_tokens.authenticate(token.secret).user.username == "bob"
    users.set_disabled(admin, "bob", True)
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate(token.secret)


def test_enabling_an_account_again_does_not_bring_its_old_tokens_back() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    old = [api_tokens.create_token(bob, name).secret for name in ("laptop", "server")]
    users.set_disabled(admin, "bob", True)
    users.set_disabled(admin, "bob", False)
    for secret in old:
        with pytest.raises(AuthenticationFailed):
            api_tokens.authenticate(secret)
    assert all(not t.is_active for t in api_tokens.list_tokens(bob))  # shown as revoked
    entry = audit.list_entries("admin", AuditFilter(action="user_disabled"))[0]
    assert entry.detail == "2 API token(s) revoked"
    fresh = api_tokens.create_token(bob, "new laptop")
    assert api_tokens.authenticate(fresh.secret).user.username == "bob"


def test_a_role_change_counts_on_the_next_call() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    token = api_tokens.create_token(bob, "t")
    users.change_role(admin, "bob", Role.VIEWER)
    assert api_tokens.authenticate(token.secret).user.role == Role.VIEWER


def test_admins_revoke_anyones_tokens_others_cannot_see_them() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    eve = make_user(admin, "eve")
    token = api_tokens.create_token(bob, "t")
    with pytest.raises(NotFound):
        api_tokens.revoke_token(eve, token.token.id)
    assert api_tokens.list_tokens(eve, "bob") == []
    api_tokens.authenticate(token.secret)  # eve changed nothing
    api_tokens.revoke_token(admin, token.token.id)
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate(token.secret)
    again = api_tokens.create_token(bob, "u")
    assert api_tokens.revoke_all(admin, "bob") == 1
    with pytest.raises(AuthenticationFailed):
        api_tokens.authenticate(again.secret)
    with pytest.raises(NotFound):
        api_tokens.revoke_all(eve, "bob")
    actions = [e.action for e in audit.list_entries("admin", AuditFilter())]
    assert "api_token_revoked" in actions and "api_tokens_revoked" in actions


@pytest.mark.parametrize(("name", "days"), [("", None), ("x" * 101, None), ("ok", 0),
                                            ("ok", 99999)])
def test_bad_token_requests_change_nothing(name: str, days: int | None) -> None:
    admin = make_admin()
    with pytest.raises(InvalidInput):
        api_tokens.create_token(admin, name, expires_in_days=days)
    assert api_tokens.list_tokens(admin) == []


def test_sql_looking_names_are_kept_as_text() -> None:
    admin = make_admin()
    name = "x'); DROP TABLE api_tokens; --"
    new = api_tokens.create_token(admin, name)
    assert api_tokens.list_tokens(admin)[0].name == name
    api_tokens.authenticate(new.secret)
