"""AppTest: “Add to a board” in Explore, Ask and on a research item's saved chart (issue 22)."""

from collections.abc import Iterator

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from services import settings
from services.access.permissions import Role
from services.access.users import UserView
from services.boards import boards
from services.charts.spec import ChartSpec
from services.claude import client as claude
from services.data import datasets
from services.data.datasets import DatasetView
from services.research import items
from services.research import saved_insights as research
from services.research.saved_insights import NewInsight
from tests.app.helpers import all_text, open_page, sign_in
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude, point_claude_at

QUESTION = "Which continent has the biggest pop?"


@pytest.fixture
def admin() -> UserView:
    return make_admin()


@pytest.fixture
def tips(admin: UserView) -> DatasetView:
    sample = datasets.create_from_sample(admin, "tips")
    datasets.set_shared(admin, sample.id, True)
    return sample


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch, max_retries=1)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


def _page(username: str, page: str, params: dict[str, str] | None = None) -> AppTest:
    at = sign_in(username)
    at.query_params.update(params or {})
    open_page(at, page)
    assert not at.exception, at.exception
    return at


def _popovers(at: AppTest) -> list:
    return [p for p in at.get("popover") if "Add to a board" in str(p.proto)]


def _by_key_end(elements: object, end: str):  # noqa: ANN202 - AppTest element
    return next(e for e in elements if str(e.key).endswith(end))  # type: ignore[attr-defined]


def test_explore_chart_goes_on_a_new_board_then_pinned_on_the_same_one(
        admin: UserView, tips: DatasetView) -> None:
    ana = make_user(admin, "ana")
    at = _page("ana", "pages/explore.py")
    assert len(_popovers(at)) == 1
    at.button(key="explore_board_add").click().run()  # no title for the new board
    assert "Please give the board a title." in all_text(at)
    assert boards.list_boards(ana) == []  # bad input changes nothing
    at.text_input(key="explore_board_new_title").input("Tips at a glance")
    at.button(key="explore_board_add").click().run()
    assert not at.exception, at.exception
    assert "Added to the board “Tips at a glance”." in all_text(at)
    [board] = boards.list_boards(ana)
    [link] = at.get("link_button")
    assert link.proto.url.endswith(f"/boards?board={board.id}")
    [tile] = boards.get_board(ana, board.id).tiles
    assert (tile.kind, tile.dataset_id, tile.dataset_version) == ("chart", tips.id, None)
    assert tile.spec is not None and tile.spec["x"] == "sex" and tile.spec["y"] == "total_bill"

    at.radio(key="explore_board_keep").set_value("pinned").run()  # the board is now picked
    at.button(key="explore_board_add").click().run()
    tiles = boards.get_board(ana, board.id).tiles
    assert [(t.kind, t.dataset_version) for t in tiles] == [("chart", None), ("chart", 1)]


def test_a_viewer_sees_no_add_to_a_board(admin: UserView, tips: DatasetView) -> None:
    make_user(admin, "vic", Role.VIEWER)
    at = _page("vic", "pages/explore.py")
    assert at.get("plotly_chart")  # the chart is there, the control is not
    assert _popovers(at) == []
    assert "Add to a board" not in all_text(at)


def test_an_ask_answer_table_becomes_a_table_tile(admin: UserView, fake: FakeClaude) -> None:
    gapminder = datasets.create_from_sample(admin, "gapminder")
    at = _page("ada", "pages/ask.py")
    at.chat_input(key="ask_input").set_value(QUESTION).run()
    assert not at.exception, at.exception
    assert len(_popovers(at)) == 1
    # its chart names the answer's own column (total_pop), so it is not offered as a tile
    assert not [c for c in at.checkbox if str(c.key).endswith("_board_with_chart")]
    _by_key_end(at.text_input, "_board_new_title").input("Population")
    _by_key_end(at.button, "_board_add").click().run()
    assert not at.exception, at.exception
    assert "Added to the board “Population”." in all_text(at)
    [board] = boards.list_boards(admin)
    [tile] = boards.get_board(admin, board.id).tiles
    assert (tile.kind, tile.dataset_id, tile.dataset_version) == ("table", gapminder.id, 1)
    assert tile.spec is not None
    assert tile.spec["question"] == QUESTION and "GROUP BY" in tile.spec["sql"]
    assert tile.spec["columns"] == ["continent", "total_pop"] and len(tile.spec["rows"]) == 5


def test_an_ask_chart_drawn_from_the_dataset_goes_on_the_board_too(
        admin: UserView, fake: FakeClaude) -> None:
    gapminder = datasets.create_from_sample(admin, "gapminder")
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": 'SELECT "continent", "pop" FROM "gapminder" LIMIT 40',
        "chart": {"chart_type": "bar", "x": "continent", "y": "pop", "agg": "sum"},
        "explanation": "Population rows by continent."}}})
    at = _page("ada", "pages/ask.py")
    at.chat_input(key="ask_input").set_value(QUESTION).run()
    assert not at.exception, at.exception
    assert _by_key_end(at.checkbox, "_board_with_chart").value is True
    _by_key_end(at.text_input, "_board_new_title").input("Population")
    _by_key_end(at.button, "_board_add").click().run()
    assert not at.exception, at.exception
    [board] = boards.list_boards(admin)
    table, chart = boards.get_board(admin, board.id).tiles
    assert (table.kind, chart.kind, chart.dataset_id, chart.dataset_version) == (
        "table", "chart", gapminder.id, None)
    assert chart.spec is not None and (chart.spec["x"], chart.spec["agg"]) == ("continent", "sum")


def test_a_saved_chart_on_a_research_item_becomes_a_chart_tile(
        admin: UserView, tips: DatasetView) -> None:
    item = items.create_item(admin, items.ItemInput(title="Tips"))
    spec = ChartSpec(chart_type="bar", x="day", agg="count")
    saved = research.save_insight(admin, NewInsight(
        item_id=item.id, kind="chart", title="Rows by day", summary="Saturday has most rows.",
        spec=spec.model_dump(mode="json"), dataset_id=tips.id, dataset_version=1),
        pd.DataFrame({"day": ["Sat", "Sun"], "Count of rows": [87, 76]}))
    at = _page("ada", "pages/research_item.py", {"id": str(item.id)})
    assert len(_popovers(at)) == 1
    key = f"research_item_board_{saved.id}"
    at.text_input(key=f"{key}_new_title").input("From research")
    at.radio(key=f"{key}_keep").set_value("pinned").run()
    at.button(key=f"{key}_add").click().run()
    assert not at.exception, at.exception
    [board] = boards.list_boards(admin)
    [tile] = boards.get_board(admin, board.id).tiles
    assert (tile.kind, tile.dataset_id, tile.dataset_version) == ("chart", tips.id, 1)
    assert tile.spec is not None and tile.spec["x"] == "day"
