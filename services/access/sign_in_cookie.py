"""The sign-in cookie's token: issued at sign-in, verified on every refresh or new tab.

A JWT signed with the cookie key (HS256 only, so a token naming another algorithm or
`none` is refused). It carries the standard `exp` claim, which PyJWT checks on verify, and
the account's `session_version`: signing out, changing or resetting the password and
disabling the account raise it, so a copied cookie stops working at once.
"""

from datetime import datetime

import jwt

from services.access import users
from services.access.auth_keys import cookie_key
from services.access.users import UserView

ALGORITHM = "HS256"


def issue(user: UserView, expires: datetime) -> str:
    """The token for `user`'s cookie, valid until `expires` (a naive time is local time)."""
    claims = {"username": user.username, "sv": user.session_version,
              "exp": int(expires.timestamp())}
    return jwt.encode(claims, cookie_key(), algorithm=ALGORITHM)


def verify(token: str | None) -> UserView | None:
    """The enabled user a token signs in, or None for no token and any token this app
    cannot trust: another key or algorithm, garbled, expired or without `exp`, from before
    session versions, or for a session that was signed out since."""
    if not token:
        return None
    try:
        claims = jwt.decode(token, cookie_key(), algorithms=[ALGORITHM],
                            options={"require": ["exp"]})
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    username, version = claims.get("username"), claims.get("sv")
    if not isinstance(username, str) or type(version) is not int:
        return None
    if not users.is_session_current(username, version):
        return None
    return users.get_user(username)
