"""Served as `make run` serves it (uvicorn + asgi.py): the UI works and the API answers on
the same port."""

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.access import api_tokens
from tests.e2e.conftest import Server, print_log_if_failed, start_streamlit, stop
from tests.e2e.helpers import open_in_menu, open_signed_in, prepare_data_dir


@pytest.fixture
def asgi_server(tmp_path: Path, request: pytest.FixtureRequest,
                ) -> Iterator[tuple[Server, str]]:
    data_dir = tmp_path / "data"
    secrets: list[str] = []  # the admin's API token, made with the admin
    prepare_data_dir(data_dir, seed=lambda admin: secrets.append(
        api_tokens.create_token(admin, "e2e").secret))
    started = start_streamlit(data_dir, asgi=True)
    yield started, secrets[0]
    stop(started)
    print_log_if_failed(request, started)


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_ui_and_the_api_share_one_port(asgi_server: tuple[Server, str],
                                           page: Page) -> None:
    server, secret = asgi_server
    assert _get(f"{server.url}/api/v1/health") == (200, {"status": "ok", "api_version": "1",
        "parts": {"store": "ok", "data_folder": "ok", "runner": "ok", "queue": "not_configured"}})
    status, body = _get(f"{server.url}/api/v1/datasets")
    assert status == 401 and body["detail"].startswith("Send your API token")
    status, body = _get(f"{server.url}/api/v1/datasets", secret)
    assert status == 200 and body["total"] == 0

    open_signed_in(page, server.url)
    expect(page.get_by_role("heading", name="Welcome, Ada Lovelace").first).to_be_visible()
    open_in_menu(page, "Account")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(page.get_by_text("e2e", exact=True)).to_be_visible()
    open_in_menu(page, "Datasets")
    expect(page.get_by_role("heading", name="Datasets").first).to_be_visible()
