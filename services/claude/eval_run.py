"""One evaluation run as `make eval` does it (`python -m services.cli eval`).

A throwaway data folder and store; an "evaluator" admin account in it whose monthly budget is
the run's budget, with usage recorded and budgets enforced as in the app (`wiring.install`);
the question set's datasets added; Ask asked; the report written.

Without an Anthropic API key (or with `rehearse`), the run is a rehearsal: the project's fake
Messages API (tests/fakes/claude_server.py) stands in for Claude and answers each question
with its gold SQL. That shows the harness works from a fresh clone, and says nothing about
Claude; the report says which it was.
"""

import importlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

from services.access import users
from services.access.permissions import Role
from services.access.users import NewUser
from services.claude import client as claude
from services.claude import evaluation, usage, wiring
from services.claude.eval_questions import DEFAULT_QUESTIONS, QuestionSet, load_questions
from services.claude.usage import BudgetChange
from services.errors import InvalidInput
from services.settings import environment_changed, get_settings
from services.untrusted_sql import sandbox

EVALUATOR = "evaluator"
DEFAULT_BUDGET_USD = 5.0
REAL_CLAUDE = "the Claude API"
STAND_IN = "a stand-in for Claude that gives the known answers (a rehearsal)"
NEEDS_STAND_IN = ("There is no ANTHROPIC_API_KEY and the rehearsal's stand-in for Claude "
                  "(tests/fakes) is not installed here: set ANTHROPIC_API_KEY to evaluate Ask.")


class EvalOptions(BaseModel):
    questions: Path = DEFAULT_QUESTIONS
    models: list[str] = Field(default_factory=list)  # empty: the configured model
    limit: int | None = Field(default=None, ge=1)
    out: Path | None = None  # the report's folder; default: the data folder's eval/
    budget_usd: float = Field(default=DEFAULT_BUDGET_USD, ge=0)
    rehearse: bool = False  # the stand-in even when a key is set


class EvalRun(BaseModel):
    report: evaluation.EvalReport
    written: Path


def is_rehearsal(options: EvalOptions) -> bool:
    return options.rehearse or not get_settings().has_claude_key


def announcement(options: EvalOptions, questions: QuestionSet) -> str:
    """What the run is about to do, said before it starts (a real run costs money)."""
    count = min(len(questions.questions), options.limit or len(questions.questions))
    models = options.models or [get_settings().model]
    if is_rehearsal(options):
        return (f"No Claude API key in use, so this is a rehearsal: a stand-in for Claude "
                f"answers each of the {count} questions with its gold SQL. It shows the "
                "evaluation works; set ANTHROPIC_API_KEY to measure Claude itself.")
    return (f"This run asks the real Claude API {count} questions with "
            f"{len(models)} model(s) ({', '.join(models)}), at least two calls a question, "
            f"and costs money: it stops when about ${options.budget_usd:,.2f} is spent "
            "(change it with --budget).")


def run(options: EvalOptions, say: Callable[[str], None] = print) -> EvalRun:
    """Load, announce, ask, score and write the report (see the module's description)."""
    questions = load_questions(options.questions)
    out = options.out or evaluation.default_folder()  # the team's folder, before the switch
    models = options.models or [get_settings().model]
    rehearsal = is_rehearsal(options)
    say(announcement(options, questions))
    sandbox.warm_up()  # its workers start while the datasets are loaded
    with evaluation.throwaway_workspace(), _claude(questions, rehearsal):
        wiring.install()  # usage recorded and budgets held, as in the app
        actor = users.create_first_admin(NewUser(
            username=EVALUATOR, name="Evaluation run", password=secrets.token_urlsafe(24),
            role=Role.ADMIN))
        usage.set_budget(actor, BudgetChange(username=EVALUATOR,
                                             monthly_cost=options.budget_usd))
        ids = evaluation.load_datasets(actor, questions)
        report = evaluation.evaluate(questions, models, actor=actor, dataset_ids=ids,
                                     against=STAND_IN if rehearsal else REAL_CLAUDE,
                                     rehearsal=rehearsal,
                                     limit=options.limit, progress=say)
    return EvalRun(report=report, written=evaluation.write_report(report, out))


@contextmanager
def _claude(questions: QuestionSet, rehearsal: bool) -> Iterator[None]:
    """Claude as configured, or (a rehearsal) the fake answering the gold SQL."""
    if not rehearsal:
        yield
        return
    try:  # the project's test fake, only for a rehearsal (loaded by name: it is test code)
        stand_in = importlib.import_module("tests.fakes.claude_server")
    except ImportError as error:
        raise InvalidInput(NEEDS_STAND_IN) from error
    with stand_in.FakeClaude() as fake:
        fake.answer_questions({q.question: q.sql for q in questions.questions})
        with environment_changed({"ANTHROPIC_API_KEY": "rehearsal-no-key",
                                  "ANTHROPIC_BASE_URL": fake.base_url}):
            claude.reset_clients()
            try:
                yield
            finally:
                claude.reset_clients()
