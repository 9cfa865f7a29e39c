"""/api/docs works on a machine without internet: Swagger UI's files come from the server."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import Server, print_log_if_failed, shoot, start_streamlit, stop


@pytest.fixture
def asgi_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    started = start_streamlit(tmp_path / "data", asgi=True)
    yield started
    stop(started)
    print_log_if_failed(request, started)


def test_api_docs_render_with_the_network_blocked(asgi_server: Server, page: Page) -> None:
    blocked: list[str] = []

    def offline(route: Route) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
            return
        blocked.append(route.request.url)
        route.abort("internetdisconnected")

    page.route("**/*", offline)
    page.goto(f"{asgi_server.url}/api/docs")
    expect(page.get_by_role("heading", name="Research Desk API")).to_be_visible()
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 10
    expect(page.locator(".opblock-summary-path", has_text="/v1/health").first).to_be_visible()
    shoot(page, "api-docs-offline")
    assert blocked == []  # the page asked for nothing outside this server
