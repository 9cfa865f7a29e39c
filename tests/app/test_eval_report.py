"""AppTest: the Usage page's "How well Ask answers" section shows admins the latest
`make eval` report (from the data folder's eval/), and nobody else."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.claude import evaluation
from services.claude.evaluation import EvalReport, QuestionOutcome
from tests.app.helpers import all_text, open_page, sign_in
from tests.factories import make_admin, make_user

PAGE = "pages/usage.py"
HEADER = "How well Ask answers"


def _usage(username: str) -> AppTest:
    at = open_page(sign_in(username), PAGE)
    assert not at.exception, at.exception
    return at


def _report(*, rehearsal: bool) -> EvalReport:
    outcomes = [QuestionOutcome(id=f"q{n}", model="claude-haiku-4-5", kind="lookup",
                                verdict="right" if n < 3 else "refused", input_tokens=1200,
                                output_tokens=80, cost=0.002, latency_s=1.5)
                for n in range(4)]
    return EvalReport(questions_file="evals/questions.yaml", against="the Claude API",
                      rehearsal=rehearsal, outcomes=outcomes,
                      scores=[evaluation.score("claude-haiku-4-5", outcomes)])


def test_admins_see_the_latest_report(data_dir: Path) -> None:
    make_admin()
    evaluation.write_report(_report(rehearsal=False), data_dir / evaluation.REPORT_FOLDER)
    at = _usage("ada")
    text = all_text(at)
    assert HEADER in text and "4 questions answered by the Claude API" in text
    assert "rehearsal" not in text
    table = next(d.value for d in at.dataframe if "Accuracy" in d.value.columns)
    row = table.iloc[0]
    assert (row["Model"], row["Right"], row["Accuracy"]) == ("claude-haiku-4-5", "3/4", "75%")
    assert (row["Could not answer"], row["Grounded flags"]) == ("1", "not checked")


def test_a_rehearsal_says_it_measured_nothing_about_claude(data_dir: Path) -> None:
    make_admin()
    evaluation.write_report(_report(rehearsal=True), data_dir / evaluation.REPORT_FOLDER)
    assert "This was a rehearsal with a stand-in for Claude" in all_text(_usage("ada"))


def test_without_a_report_admins_are_told_how_and_others_see_nothing(data_dir: Path) -> None:
    admin = make_admin()
    make_user(admin, "ann")
    assert "No evaluation has been run yet" in all_text(_usage("ada"))
    evaluation.write_report(_report(rehearsal=False), data_dir / evaluation.REPORT_FOLDER)
    assert HEADER not in all_text(_usage("ann"))
