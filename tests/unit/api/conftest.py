"""The API driven through httpx's ASGI transport: people of every role, each with a token."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from services.access import api_tokens
from services.access.permissions import Role
from services.access.users import UserView
from services.api.app import create_api
from services.data import datasets
from tests.factories import make_admin, make_user

CSV = "species,island,mass\nAdelie,Torgersen,3750\nGentoo,Biscoe,5000\nAdelie,Dream,3800\n"


class Api:
    """Synchronous calls into the ASGI app (one event loop per call, like a script)."""

    def __init__(self) -> None:
        self.app = Starlette(routes=[Mount("/api", app=create_api())])  # as asgi.py mounts it

    def request(self, method: str, url: str, *, token: str | None = None,
                headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver/api") as client:
                response = await client.request(method, url, headers=sent, **kwargs)
                await response.aread()
                return response

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


class People:
    def __init__(self) -> None:
        self.admin = make_admin("ada")
        self.analyst = make_user(self.admin, "bob")
        self.other = make_user(self.admin, "eve")
        self.viewer = make_user(self.admin, "vic", Role.VIEWER)
        self.tokens = {u.username: api_tokens.create_token(u, "tests").secret
                       for u in (self.admin, self.analyst, self.other, self.viewer)}

    def token(self, user: UserView) -> str:
        return self.tokens[user.username]


@pytest.fixture
def api() -> Api:
    return Api()  # its limits are counted in this test's own store


@pytest.fixture
def people() -> People:
    return People()


def upload_csv(owner: UserView, tmp_path: Path, name: str = "penguins",
               text: str = CSV) -> int:
    source = tmp_path / f"{name}.csv"
    source.write_text(text)
    view, _ = datasets.create_from_upload(owner, source, original_name=source.name)
    return view.id


def problem_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"]
    detail = body["detail"]
    assert detail and "Traceback" not in detail
    return detail
