"""The sign-in cookie's token (services.access.sign_in_cookie): issued with the standard
`exp` claim and the cookie key, verified with both (issue 20)."""

from datetime import datetime, timedelta

import jwt
import pytest

from services.access import sign_in_cookie, users
from services.access.auth_keys import cookie_key
from tests.factories import make_admin, make_user

LATER = timedelta(days=7)


def test_a_valid_token_gives_the_user() -> None:
    ada = make_admin()
    token = sign_in_cookie.issue(ada, datetime.now() + LATER)
    user = sign_in_cookie.verify(token)
    assert user is not None and user.username == "ada"
    claims = jwt.decode(token, cookie_key(), algorithms=["HS256"])
    assert claims["exp"] == pytest.approx((datetime.now() + LATER).timestamp(), abs=120)


def test_an_expired_token_is_refused() -> None:
    ada = make_admin()
    assert sign_in_cookie.verify(sign_in_cookie.issue(ada, datetime.now() - LATER)) is None
    assert sign_in_cookie.verify(
        sign_in_cookie.issue(ada, datetime.now() - timedelta(seconds=5))) is None


def test_a_token_signed_with_another_key_is_refused() -> None:
    make_admin()
    forged = jwt.encode({"username": "ada", "sv": 0,
                         "exp": int((datetime.now() + LATER).timestamp())},
                        "another-key-" + "x" * 40, algorithm="HS256")
    assert sign_in_cookie.verify(forged) is None


@pytest.mark.parametrize("claims", [
    {"username": "ada", "sv": 0},  # no exp: never expires, so never trusted
    {"username": "ada", "sv": 0, "exp_date": 4e9},  # the old home-made expiry claim
    {"username": "ada", "exp": 4_000_000_000},  # from before session versions
    {"username": "ada", "sv": True, "exp": 4_000_000_000},
])
def test_a_token_without_the_claims_it_needs_is_refused(claims: dict) -> None:
    make_admin()
    assert sign_in_cookie.verify(jwt.encode(claims, cookie_key(), algorithm="HS256")) is None


@pytest.mark.parametrize("token", [None, "", "not.a.jwt"])
def test_no_token_or_garbage_is_refused(token: str | None) -> None:
    make_admin()
    assert sign_in_cookie.verify(token) is None


def test_other_algorithms_are_refused() -> None:
    make_admin()
    claims = {"username": "ada", "sv": 0, "exp": 4_000_000_000}
    assert sign_in_cookie.verify(jwt.encode(claims, cookie_key(), algorithm="HS512")) is None
    assert sign_in_cookie.verify(jwt.encode(claims, None, algorithm="none")) is None


def test_signing_out_or_disabling_makes_an_issued_token_useless() -> None:
    ada = make_admin()
    bob = make_user(ada, "bob")
    ada_token = sign_in_cookie.issue(ada, datetime.now() + LATER)
    bob_token = sign_in_cookie.issue(bob, datetime.now() + LATER)
    users.record_sign_out("ada")
    users.set_disabled(ada, "bob", True)
    assert sign_in_cookie.verify(ada_token) is None
    assert sign_in_cookie.verify(bob_token) is None
