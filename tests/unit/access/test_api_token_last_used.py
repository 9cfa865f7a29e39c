"""A token's "last used" is recorded on first use and then at most once a minute, and the
caller a token acts for is its owner exactly as stored now."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from services.access import api_tokens, users
from services.access.permissions import Role
from services.errors import AuthenticationFailed
from services.store.db import session_scope
from services.store.models import ApiToken, User, utcnow
from tests.factories import make_admin, make_user


def _last_used(token_id: int):  # noqa: ANN202 - a datetime or None
    admin = users.get_user("ada")
    assert admin is not None
    return next(t for t in api_tokens.list_tokens(admin) if t.id == token_id).last_used_at


def test_last_used_is_written_once_a_minute_at_most() -> None:
    admin = make_admin()
    new = api_tokens.create_token(admin, "notebook")
    assert _last_used(new.token.id) is None
    api_tokens.authenticate(new.secret)
    first = _last_used(new.token.id)
    assert first is not None  # the first use is recorded
    api_tokens.authenticate(new.secret)
    assert _last_used(new.token.id) == first  # a second later: not written again
    long_ago = utcnow() - timedelta(seconds=api_tokens.LAST_USED_EVERY_S + 1)
    with session_scope(write=True) as session:
        session.execute(update(ApiToken).where(ApiToken.id == new.token.id)
                        .values(last_used_at=long_ago))
    api_tokens.authenticate(new.secret)
    assert _last_used(new.token.id) > long_ago  # a minute on: recorded again


def test_the_caller_is_the_owner_as_stored_now() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    new = api_tokens.create_token(ana, "script")
    caller = api_tokens.authenticate(new.secret)
    assert caller.user == users.get_user("ana") and caller.token_id == new.token.id
    with session_scope(write=True) as session:
        session.execute(update(User).where(User.username == "ana").values(role="viewer"))
    assert api_tokens.authenticate(new.secret).user.role == Role.VIEWER
    with session_scope(write=True) as session:
        session.execute(update(User).where(User.username == "ana").values(disabled=True))
    with pytest.raises(AuthenticationFailed, match="not valid"):
        api_tokens.authenticate(new.secret)
    with session_scope(write=True) as session:
        session.execute(update(User).where(User.username == "ana").values(disabled=False))
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(AuthenticationFailed, match="expired"):
        api_tokens.authenticate(new.secret)
