"""AppTest: the Ask page with a live dataset (issue 21) — picked like a file, answered from
its database and charted with the table's values; files and live tables not mixed."""

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from services import settings
from services.access.users import UserView
from services.claude import ask_live
from services.claude import client as claude
from services.data import datasets, live_datasets
from services.data.datasets import DatasetView
from services.sources import door
from tests.app.helpers import all_text, as_read, open_page, sign_in
from tests.app.test_ask_page import _bars
from tests.factories import make_admin
from tests.fakes.claude_server import FakeClaude, point_claude_at
from tests.live_source import LiveSource, add_reader_source

PAGE = "pages/ask.py"
COUNT_SQL = ('SELECT "species", count(*) AS "Penguins" FROM "penguins" '
             'GROUP BY "species" ORDER BY "species"')


@pytest.fixture
def admin() -> Iterator[UserView]:
    yield make_admin()
    door.dispose_engines()


@pytest.fixture
def penguins(admin: UserView, live: LiveSource) -> DatasetView:
    source = add_reader_source(admin, live)
    return live_datasets.create_live_dataset(admin, source.id, "public", "penguins")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch, max_retries=1)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


def _ask_page(picked: list[int]) -> AppTest:
    at = open_page(sign_in("ada"), PAGE)
    at.multiselect(key="ask_datasets").set_value(picked).run()
    assert not at.exception, at.exception
    return at


def test_a_live_dataset_is_asked_and_charted_like_a_file(
        admin: UserView, penguins: DatasetView, fake: FakeClaude) -> None:
    at = _ask_page([penguins.id])
    names = at.dataframe[0].value
    assert names["Table name in SQL"].tolist() == ["penguins"]
    assert "body_mass_g" in names["Columns (name in SQL)"][0]
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": COUNT_SQL, "chart": {"chart_type": "bar", "x": "species", "y": "Penguins"},
        "explanation": "Counts the penguins of each species."}}})
    at.chat_input(key="ask_input").set_value("How many penguins per species?").run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value
    assert dict(zip(table["species"], table["Penguins"], strict=True)) == {
        "Adelie": 152, "Chinstrap": 68, "Gentoo": 124}
    assert _bars(at) == {"Adelie": 152, "Chinstrap": 68, "Gentoo": 124}
    assert "Adelie" in all_text(at)


def test_a_file_and_a_live_dataset_together_get_one_sentence(
        admin: UserView, penguins: DatasetView, fake: FakeClaude) -> None:
    tips = datasets.create_from_sample(admin, "tips")
    at = _ask_page([tips.id, penguins.id])
    assert [as_read(e.value) for e in at.error] == [ask_live.MSG_MIXED]
    assert not at.chat_input and fake.requests == []
