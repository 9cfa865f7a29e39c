"""Issue 18, point 3, in Chromium: another person opens a shared item whose notes, Claude
answer and chart caption hold every form of image, link and address pointing at a local
sink. Nothing reaches the sink and nothing from that text is a link on the page."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    Server,
    print_log_if_failed,
    start_streamlit,
    stop,
    wait_for_charts,
    wait_for_sign_in_cookie,
    wait_ready,
)
from tests.e2e.helpers import open_signed_in, prepare_data_dir
from tests.markdown_checks import SECRET, save_hostile_item


class Sink:
    """An HTTP server on 127.0.0.1 that counts every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                sink.requests.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    started = Sink()
    yield started
    started.close()


@pytest.fixture
def hostile_server(tmp_path: Path, sink: Sink,
                   request: pytest.FixtureRequest) -> Iterator[tuple[Server, int]]:
    data_dir = tmp_path / "data"
    item_ids: list[int] = []
    prepare_data_dir(data_dir, seed=lambda admin: item_ids.append(
        save_hostile_item(admin, sink.url)))
    started = start_streamlit(data_dir)
    yield started, item_ids[0]
    stop(started)
    print_log_if_failed(request, started)


def test_a_shared_item_with_hostile_text_fetches_and_links_nothing(
        hostile_server: tuple[Server, int], sink: Sink, page: Page) -> None:
    server, item_id = hostile_server
    open_signed_in(page, server.url)
    wait_for_sign_in_cookie(page)
    page.goto(f"{server.url}/research_item?id={item_id}")
    wait_ready(page)
    expect(page.get_by_role("heading", name="Hostile text")).to_be_visible()
    wait_for_charts(page)
    page.wait_for_load_state("networkidle")
    assert sink.requests == []
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    assert not [h for h in hrefs if "sink.test" in h or SECRET in h or sink.url in h], hrefs
    assert page.locator(f"img[src*='{SECRET}'], img[src*='sink']").count() == 0
    # the addresses are on the page, as code a person can read and copy
    expect(page.locator("code", has_text=f"{sink.url}/b?{SECRET}").first).to_be_visible()
    expect(page.locator("code", has_text=f"{sink.url}/cell?{SECRET}").first).to_be_attached()
