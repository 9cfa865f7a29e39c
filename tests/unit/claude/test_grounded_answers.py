"""The number check travels with an Ask answer: computed on the rows Claude was given, stored
with the turn, counted for the usage report; and its marks render safely (the answer's text
never becomes markup)."""

from datetime import timedelta

import pytest

from services.access.permissions import Role
from services.access.users import UserView
from services.claude import ask_turns, conversations
from services.claude.ask_turns import TurnRequest
from services.claude.grounded import ONE_FLAGGED, flagged_answers
from services.data import datasets
from services.data.datasets import DatasetView
from services.research.safe_markdown import (
    MARK_CLOSE,
    MARK_OPEN,
    marked_html,
    marked_markdown,
    safe_markdown,
)
from services.store.models import utcnow
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude

SQL = ('SELECT "continent", count(*) AS "rows" FROM "gapminder" GROUP BY 1 '
       'ORDER BY 2 DESC, 1')


@pytest.fixture
def ada() -> UserView:
    return make_admin()


@pytest.fixture
def gapminder(ada: UserView) -> DatasetView:
    return datasets.create_from_sample(ada, "gapminder")


def _turn(fake: FakeClaude, user: UserView, dataset: DatasetView, answer: str) -> None:
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": SQL, "explanation": "Counts the rows of each continent."}}}, {"text": answer})
    ask_turns.answer_turn(user, TurnRequest(question="Rows per continent?",
                                            dataset_ids=[dataset.id]))


@pytest.mark.usefixtures("claude_at_fake")
def test_the_check_is_stored_with_the_answer_and_counted_for_usage(
        ada: UserView, gapminder: DatasetView, claude_at_fake: FakeClaude) -> None:
    _turn(claude_at_fake, ada, gapminder, "Africa has 624 rows and Asia 396.")
    _turn(claude_at_fake, ada, gapminder, "Africa has 642 rows, about 37% of 1,704.")
    answers = [m for thread in reversed(conversations.list_conversations(ada))
               for m in conversations.list_messages(ada, thread.id) if m.role == "assistant"]
    first, second = (a.details.grounded for a in answers)
    assert first is not None and first.flagged == [] and first.sentence == ""
    assert second is not None and [n.text for n in second.flagged] == ["642"]
    assert {n.text: n.verdict for n in second.numbers} == {
        "642": "not_found", "37%": "derived", "1,704": "derived"}
    assert second.sentence == ONE_FLAGGED

    today = utcnow().date()
    counts = flagged_answers(ada, today - timedelta(days=1), today)
    assert (counts.answers_checked, counts.answers_flagged, counts.numbers_flagged) == (2, 1, 1)
    ann = make_user(ada, "ann", Role.ANALYST)  # not an admin: only her own answers
    assert flagged_answers(ann, today, today).answers_checked == 0


def test_marks_wrap_only_the_spans_and_the_text_stays_text() -> None:
    text = "Sales were **1,234** and :red[9,999] <b>x</b> `5,555` \ue0007\ue001."
    spans = [(text.index("1,234"), text.index("1,234") + 5),
             (text.index("9,999"), text.index("9,999") + 5),
             (text.index("5,555"), text.index("5,555") + 5)]
    rendered = marked_markdown(text, spans, before=":orange-background[", after="]")
    assert "**:orange-background[1,234]**" in rendered
    assert "\\:red\\[:orange-background[9,999]\\]" in rendered  # their markup stays escaped
    assert "\\<b\\>" in rendered and "`5,555`" in rendered  # code shows plain
    assert MARK_OPEN not in rendered and MARK_CLOSE not in rendered
    assert rendered.count(":orange-background[") == 2
    html = marked_html(text, spans)
    assert "<strong><mark class=\"unchecked\">1,234</mark></strong>" in html
    assert "&lt;b&gt;" in html and "<code>5,555</code>" in html
    plain = text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
    assert marked_markdown(text, [], before="<", after=">") == safe_markdown(plain)
