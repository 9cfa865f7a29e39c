"""The usage report counts Ask answers whose numbers were checked and flagged: in the report,
on the Usage page's sentence and in /v1/usage."""

import pytest

from services.access.users import UserView
from services.claude import ask_turns, usage_report
from services.claude.ask_turns import TurnRequest
from services.claude.grounded import GroundedCounts
from services.data import datasets
from services.store.models import utcnow
from tests.fakes.claude_server import FakeClaude
from tests.unit.api.conftest import Api, People

SQL = ('SELECT "continent", count(*) AS "rows" FROM "gapminder" GROUP BY 1 '
       'ORDER BY 2 DESC, 1')


def _turn(fake: FakeClaude, user: UserView, dataset_id: int, answer: str) -> None:
    fake.enqueue({"tool_use": {"name": "run_sql", "input": {
        "sql": SQL, "explanation": "Counts the rows of each continent."}}}, {"text": answer})
    ask_turns.answer_turn(user, TurnRequest(question="Rows per continent?",
                                            dataset_ids=[dataset_id]))


@pytest.mark.parametrize(("counts", "sentence"), [
    (GroundedCounts(), "No answers from Ask had their numbers checked this month."),
    (GroundedCounts(answers_checked=1),
     "The one Ask answer this month used only numbers that appear in their results."),
    (GroundedCounts(answers_checked=40),
     "All 40 Ask answers this month used only numbers that appear in their results."),
    (GroundedCounts(answers_checked=1_200, answers_flagged=3, numbers_flagged=1),
     "3 of 1,200 Ask answers this month had a number that does not appear in their result "
     "(1 number in all); each is marked in the answer."),
])
def test_the_sentence_says_what_the_check_found(counts: GroundedCounts, sentence: str) -> None:
    assert usage_report.grounded_sentence(counts, "this month") == sentence


@pytest.mark.usefixtures("claude_at_fake")
def test_the_report_and_the_api_count_flagged_answers(claude_at_fake: FakeClaude) -> None:
    people = People()
    ada = people.admin
    gapminder = datasets.create_from_sample(ada, "gapminder")
    _turn(claude_at_fake, ada, gapminder.id, "Africa has 624 rows and Asia 396.")
    _turn(claude_at_fake, ada, gapminder.id, "Africa has 642 rows and Asia 369.")
    today = utcnow().date()
    found = usage_report.report(ada, today, today)
    assert found.grounded == GroundedCounts(answers_checked=2, answers_flagged=1,
                                            numbers_flagged=2)
    body = Api().get(f"/v1/usage?since={today}&until={today}",
                     token=people.token(people.admin)).json()
    assert body["grounded"] == {"answers_checked": 2, "answers_flagged": 1,
                                "numbers_flagged": 2}
    own = Api().get(f"/v1/usage?since={today}&until={today}",
                    token=people.token(people.analyst)).json()
    assert own["grounded"]["answers_checked"] == 0  # not an admin: only their own answers
