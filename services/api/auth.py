"""Who is calling: a personal API token in the Authorization header, and nowhere else.

A token in the address (query string) is refused: addresses end up in server logs, proxies
and browser history. Limits, counted in the metadata store so that every server shares them
(services/access/rate_limits.py): a person may make `api_requests_per_minute` requests a
minute with all their tokens together; an address may send `api_bad_tokens_per_minute`
requests without a valid token, after which its requests wait before any token is checked.
Past either: 429 with Retry-After and one sentence.
"""

import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.access import api_tokens, rate_limits
from services.access.users import UserView
from services.api.problems import MSG_NO_TOKEN, RateLimited
from services.errors import AuthenticationFailed, StorageUnavailable
from services.settings import get_settings

MSG_TOKEN_IN_ADDRESS = ("Send the token in the Authorization header, never in the address: "
                        "addresses end up in logs and browser history.")
QUERY_TOKEN_NAMES = frozenset({"token", "access_token", "api_key", "apikey", "key", "auth",
                               "authorization", "bearer"})
WINDOW_S = 60.0

bearer = HTTPBearer(auto_error=False, bearerFormat="rdk_…",
                    description="A personal API token from your Account page.")


def _person(username: str) -> str:
    return f"api person {username}"


def _address(address: str) -> str:
    return f"api bad tokens from {address}"


def request_address(request: Request) -> str:
    peer = request.client.host if request.client else None
    forwarded = ",".join(request.headers.getlist("X-Forwarded-For"))
    return rate_limits.client_address(peer, forwarded)


def refuse_token_in_address(request: Request) -> None:
    for name, value in request.query_params.multi_items():
        if name.lower() in QUERY_TOKEN_NAMES or api_tokens.PREFIX in value:
            raise AuthenticationFailed(MSG_TOKEN_IN_ADDRESS)


def _token_owner(request: Request, credentials: HTTPAuthorizationCredentials | None,
                 ) -> UserView:
    refuse_token_in_address(request)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed(MSG_NO_TOKEN)
    return api_tokens.authenticate(credentials.credentials.strip()).user


def current_user(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None,
                                        Depends(bearer)]) -> UserView:
    """The token's owner as stored now (role and disabled flag read fresh), within limits."""
    settings = get_settings()
    address = _address(request_address(request))
    wait = rate_limits.peek(address)[address].wait_s(settings.api_bad_tokens_per_minute)
    if wait > 0:  # refused before any token is checked, so guessing gets nowhere
        raise _limited(wait, "Too many requests from this address came without a valid token")
    try:
        user = _token_owner(request, credentials)
    except AuthenticationFailed:
        rate_limits.hit({address: WINDOW_S})
        raise
    person = _person(user.username)
    count = rate_limits.hit({person: WINDOW_S})[person]
    wait = count.wait_s(settings.api_requests_per_minute + 1)  # this request counts already
    if wait > 0:
        raise _limited(wait, "You made too many requests in the last minute (all your tokens "
                             "together)")
    return user


def _limited(wait_s: float, why: str) -> RateLimited:
    seconds = max(1, math.ceil(wait_s))
    return RateLimited(seconds, f"{why}; wait {seconds} seconds, then try again.")


def current_user_for_health(request: Request,
                            credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                   Depends(bearer)]) -> UserView:
    """As `current_user`, but an outage of the counts themselves (Redis down) does not hide
    the health details that explain it: the token alone decides then (tokens are long
    random secrets, so a few uncounted guesses gain nothing)."""
    try:
        return current_user(request, credentials)
    except StorageUnavailable:
        return _token_owner(request, credentials)


Caller = Annotated[UserView, Depends(current_user)]
HealthCaller = Annotated[UserView, Depends(current_user_for_health)]
