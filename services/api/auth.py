"""Who is calling: a personal API token in the Authorization header, and nowhere else.

A token in the address (query string) is refused: addresses end up in server logs, proxies
and browser history. Each token may make `api_requests_per_minute` requests a minute; past
that it gets 429 with Retry-After.
"""

import math
import threading
import time
from collections import deque
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.access import api_tokens
from services.access.users import UserView
from services.api.problems import MSG_NO_TOKEN, RateLimited
from services.errors import AuthenticationFailed
from services.settings import get_settings

MSG_TOKEN_IN_ADDRESS = ("Send the token in the Authorization header, never in the address: "
                        "addresses end up in logs and browser history.")
QUERY_TOKEN_NAMES = frozenset({"token", "access_token", "api_key", "apikey", "key", "auth",
                               "authorization", "bearer"})
WINDOW_S = 60.0

bearer = HTTPBearer(auto_error=False, bearerFormat="rdk_…",
                    description="A personal API token from your Account page.")


class _Window:
    """Request times per token within the last minute (this process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: dict[int, deque[float]] = {}

    def wait_s(self, token_id: int, limit: int, now: float) -> float:
        """0 if this request may go ahead (and counts it), else seconds until one may."""
        with self.lock:
            hits = self.hits.setdefault(token_id, deque())
            while hits and hits[0] <= now - WINDOW_S:
                hits.popleft()
            if len(hits) >= limit:
                return hits[0] + WINDOW_S - now
            hits.append(now)
            return 0.0

    def reset(self) -> None:
        with self.lock:
            self.hits.clear()


window = _Window()


def refuse_token_in_address(request: Request) -> None:
    for name, value in request.query_params.multi_items():
        if name.lower() in QUERY_TOKEN_NAMES or api_tokens.PREFIX in value:
            raise AuthenticationFailed(MSG_TOKEN_IN_ADDRESS)


def current_user(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None,
                                        Depends(bearer)]) -> UserView:
    """The token's owner as stored now (role and disabled flag read fresh)."""
    refuse_token_in_address(request)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed(MSG_NO_TOKEN)
    caller = api_tokens.authenticate(credentials.credentials.strip())
    wait = window.wait_s(caller.token_id, get_settings().api_requests_per_minute,
                         time.monotonic())
    if wait > 0:
        raise RateLimited(max(1, math.ceil(wait)))
    return caller.user


Caller = Annotated[UserView, Depends(current_user)]
