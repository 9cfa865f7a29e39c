"""AppTest: a number in Claude's answer that is not in its result is marked (not removed) in
Ask and on the research item page, with one sentence under the answer; the answer's own text
never becomes markup."""

from collections.abc import Iterator

import pandas as pd
import pytest

from services import settings
from services.access.users import UserView
from services.claude import client as claude
from services.claude import conversations
from services.claude.grounded import ONE_FLAGGED, check_answer
from services.data import datasets
from services.research import items
from services.research import saved_insights as research
from services.research.items import ItemInput
from services.research.saved_insights import NewInsight
from tests.app.helpers import open_page, sign_in
from tests.factories import make_admin
from tests.fakes.claude_server import FakeClaude, point_claude_at

SQL = ('SELECT "continent", count(*) AS "rows" FROM "gapminder" GROUP BY 1 '
       'ORDER BY 2 DESC, 1')
ANSWER = "Africa has the most rows (624); Europe has 9,999 :red[rows] <b>here</b>."


@pytest.fixture
def admin() -> UserView:
    ada = make_admin()
    datasets.create_from_sample(ada, "gapminder")
    return ada


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch, max_retries=1)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


def _answer_markdown(at: object) -> list[str]:
    return [m.value for m in at.markdown if "Africa has the most rows" in m.value]  # type: ignore[attr-defined]


def test_an_invented_number_is_marked_in_ask_with_one_sentence_and_stored(
        admin: UserView, fake: FakeClaude) -> None:
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": SQL, "explanation": "Counts the rows of each continent."}}},
        {"text": ANSWER})
    at = open_page(sign_in("ada"), "pages/ask.py")
    at.chat_input(key="ask_input").set_value("Which continent has the most rows?").run()
    assert not at.exception, at.exception
    shown = _answer_markdown(at)
    assert shown and ":orange-background[9,999]" in shown[-1]
    assert ":orange-background[624]" not in shown[-1]  # in the result: not marked
    assert "\\:red\\[rows\\]" in shown[-1] and "\\<b\\>" in shown[-1]  # text stays text
    assert [c.value for c in at.caption if ONE_FLAGGED in c.value]

    thread = conversations.list_conversations(admin)[0]
    stored = conversations.list_messages(admin, thread.id)[1].details.grounded
    assert stored is not None and [n.text for n in stored.flagged] == ["9,999"]
    assert {n.text: n.verdict for n in stored.numbers} == {"624": "found",
                                                           "9,999": "not_found"}

    at.run()  # the thread drawn again from the store: the mark and sentence stay
    assert ":orange-background[9,999]" in _answer_markdown(at)[-1]
    assert [c.value for c in at.caption if ONE_FLAGGED in c.value]


def test_the_research_item_page_shows_the_mark_and_the_sentence(admin: UserView) -> None:
    item = items.create_item(admin, ItemInput(title="Continents", visibility="private"))
    frame = pd.DataFrame({"continent": ["Africa", "Europe"], "rows": [624, 360]})
    check = check_answer(ANSWER, frame)
    research.save_insight(admin, NewInsight(
        item_id=item.id, kind="answer", title="Which continent has the most rows?",
        summary=ANSWER, spec={"question": "Which continent has the most rows?", "sql": SQL,
                              "chart": None, "tables": {}, "row_count": 2,
                              "grounded": check.model_dump(mode="json")}), frame)
    at = sign_in("ada")
    at.query_params["id"] = str(item.id)
    open_page(at, "pages/research_item.py")
    assert not at.exception, at.exception
    shown = _answer_markdown(at)
    assert shown and ":orange-background[9,999]" in shown[0] and "\\<b\\>" in shown[0]
    assert [c.value for c in at.caption if ONE_FLAGGED in c.value]
