"""A shared board's link opened as a server's very first visit (the morning after a restart):
the sign-in form, then the board. Its owner, told in Share that the board shows private data,
shares that dataset in the same popover; the popover passes axe in light and dark mode."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.access.users import UserView
from services.boards import boards
from services.boards.models import BoardInput, TileInput
from services.data import datasets
from tests.e2e.conftest import (
    Server,
    assert_accessible,
    print_log_if_failed,
    shoot,
    start_streamlit,
    stop,
    wait_ready,
)
from tests.e2e.helpers import open_signed_in, prepare_data_dir


def _board_on_private_tips(admin: UserView) -> None:
    tips = datasets.create_from_sample(admin, "tips")  # an upload's data: private at first
    board = boards.create_board(admin, BoardInput(title="Tips review", visibility="shared"))
    boards.add_tile(admin, board.id, TileInput(kind="chart", dataset_id=tips.id, spec={
        "chart_type": "bar", "x": "day", "agg": "count"}))


@pytest.fixture
def fresh_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    prepare_data_dir(tmp_path / "data", seed=_board_on_private_tips)
    started = start_streamlit(tmp_path / "data")
    yield started
    stop(started)
    print_log_if_failed(request, started)


def test_a_board_link_as_the_first_visit_signs_in_then_shares_its_data(
        fresh_server: Server, page: Page) -> None:
    # nobody has opened this server yet: Streamlit would run pages/boards.py on its own
    open_signed_in(page, f"{fresh_server.url}/boards?board=1")
    expect(page.get_by_role("heading", name="Tips review")).to_be_visible()
    expect(page.get_by_text("Please sign in to continue.")).to_have_count(0)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Boards")).to_be_visible()  # the app's menu,
    expect(nav.get_by_role("link", name="app", exact=True)).to_have_count(0)  # not file names
    expect(page.get_by_test_id("stPlotlyChart").locator("svg.main-svg").first).to_be_visible()

    page.get_by_role("button", name="Share").click()
    wait_ready(page)
    share = page.get_by_test_id("stPopoverBody").filter(has_text="Send colleagues this link")
    expect(share.get_by_text(
        "1 tile of this board shows private data, so colleagues see it as not shared with "
        "them: “Restaurant tips”. Share it too, or remove that tile.")).to_be_visible()
    shoot(page, "66_board_share_private_data")
    assert_accessible(page, "share, private data")
    share.get_by_role("button", name="Share this dataset").click()
    wait_ready(page)
    expect(page.get_by_text("1 dataset of this board is now shared: everyone who signs in "
                            "can read it.")).to_be_visible()
