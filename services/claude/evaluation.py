"""`make eval`: how well Ask answers a team's questions about its own data, per model.

Each question of a question set (services.claude.eval_questions) is asked through the real
product path — `ask.ask`, with its role and access checks, the SQL guard, the sandbox and the
budget — and Ask's result table is compared with the gold one (the question's hand-written
SQL, run through the same guard and sandbox) by the rules of services.claude.eval_compare.
The report gives, per model: accuracy, questions Ask could not answer (its queries were
refused or failed every time), grounded-answer flags (numbers in Claude's written answers
that `grounded.check_answer` could not find in the result), tokens, estimated cost and
latency.

The datasets are loaded into a throwaway data folder with its own metadata store
(`throwaway_workspace`), never the one people use; the report is written as JSON and
Markdown to a folder of the caller's choice, where the Usage page shows admins the latest.
"""

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field

from services.access.permissions import require
from services.access.users import UserView
from services.claude import ask_tables, usage
from services.claude.ask import AskResult, AskTable, ask
from services.claude.ask_prompts import MAX_ANSWER_ROWS
from services.claude.client import CallUsage
from services.claude.eval_compare import compare
from services.claude.eval_questions import EvalQuestion, QuestionSet
from services.claude.grounded import check_answer
from services.data import datasets, display_text
from services.data.dataset_models import DatasetProfile
from services.data.profile import profile_dataset
from services.errors import BudgetExceeded, InvalidInput, QueryFailed, UnsafeQuery
from services.settings import environment_changed, get_settings
from services.store.db import dispose_engines
from services.untrusted_sql.sandbox import run_sandboxed
from services.untrusted_sql.sql_guard import check_sql

REPORT_FOLDER = "eval"  # under the data folder, where the Usage page looks
LATEST = "latest.json"
NOT_CHECKED = "not checked"
MAX_UNAVAILABLE = 3  # questions in a row Claude could not answer before a model's run stops
Verdict = Literal["right", "wrong", "refused", "unavailable"]
Progress = Callable[[str], None]


class QuestionOutcome(BaseModel):
    id: str
    model: str
    kind: str
    verdict: Verdict
    reason: str = ""
    sql: str | None = None  # the query Ask ran (or last tried)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_tokens: int = 0  # cache reads and writes
    cost: float = 0.0
    latency_s: float = 0.0
    grounded_flags: int | None = None  # numbers in the answer not found in the result


class ModelScore(BaseModel):
    model: str
    asked: int
    right: int
    refused: int  # Ask could not answer: every query it tried was refused or failed
    unavailable: int  # Claude could not be reached, or the budget was spent
    grounded_flags: int | None = None  # None: no answer was checked
    input_tokens: int = 0
    output_tokens: int = 0
    cache_tokens: int = 0
    cost: float = 0.0
    latency_median_s: float = 0.0
    latency_total_s: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.right / self.asked if self.asked else 0.0


class EvalReport(BaseModel):
    made_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    questions_file: str
    against: str  # "the Claude API" or the rehearsal's stand-in
    rehearsal: bool = False  # answered by the stand-in: shows the harness works, not Claude
    scores: list[ModelScore] = Field(default_factory=list)
    outcomes: list[QuestionOutcome] = Field(default_factory=list)
    stopped: str = ""  # why the run ended early (the budget), if it did


# --- the workspace -------------------------------------------------------------------------

@contextmanager
def throwaway_workspace() -> Iterator[Path]:
    """A temporary data folder with its own embedded metadata store for the run: settings,
    the store and the DuckDB door follow it, and everything is put back afterwards."""
    with tempfile.TemporaryDirectory(prefix="research-desk-eval-") as folder, \
            environment_changed({"RESEARCH_DESK_DATA_DIR": str(Path(folder) / "data"),
                                 "RESEARCH_DESK_DATABASE_URL": None}):  # never the team's
        dispose_engines()
        try:
            yield Path(folder)
        finally:
            dispose_engines()

def load_datasets(actor: UserView, questions: QuestionSet) -> dict[str, int]:
    """Each dataset of the set added (as an upload would be) under its name: name → id."""
    ids: dict[str, int] = {}
    for name in questions.datasets:
        path = questions.file_of(name)
        view, _ = datasets.create_from_upload(actor, path, original_name=path.name, name=name)
        ids[name] = view.id
    return ids


# --- gold results --------------------------------------------------------------------------

def gold_results(questions: QuestionSet, tables: dict[str, Path]) -> dict[str, list[pd.DataFrame]]:
    """Each question's gold result tables (its SQL and any `also`), run through the same
    guard and sandbox as Ask's queries. A gold query that does not run is the file's
    mistake, said in one sentence before any Claude call."""
    settings = get_settings()
    found: dict[str, list[pd.DataFrame]] = {}
    for question in questions.questions:
        offered = {name: tables[name] for name in question.datasets}
        frames = []
        for sql in question.golds:
            try:
                ran = run_sandboxed(check_sql(sql, set(offered)), offered,
                                    timeout_s=settings.query_timeout_s,
                                    max_rows=settings.query_max_rows)
            except (UnsafeQuery, QueryFailed) as error:
                raise InvalidInput(f"The gold SQL of question “{question.id}” does not run: "
                                   f"{error}") from error
            frames.append(ran.frame)
        found[question.id] = frames
    return found


# --- asking --------------------------------------------------------------------------------

def evaluate(questions: QuestionSet, models: Sequence[str], *, actor: UserView,
             dataset_ids: dict[str, int], against: str = "the Claude API",
             rehearsal: bool = False, limit: int | None = None,
             progress: Progress | None = None) -> EvalReport:
    """Ask every question (the first `limit`) with every model and score the answers. The
    run stops early, and says so, when the person's Claude budget is spent."""
    asked = questions.questions[:limit] if limit else questions.questions
    profiles: dict[tuple[int, int], DatasetProfile] = {}

    def profile_of(dataset_id: int, version: int, path: Path) -> DatasetProfile:
        if (dataset_id, version) not in profiles:
            profiles[(dataset_id, version)] = profile_dataset(path)
        return profiles[(dataset_id, version)]

    tables = {name: ask_tables.tables_for(actor, [i], profile_of=profile_of)[0]
              for name, i in dataset_ids.items()}
    golds = gold_results(questions.model_copy(update={"questions": asked}),
                         {n: Path(str(t.parquet_path)) for n, t in tables.items()})
    report = EvalReport(questions_file=str(questions.source), against=against,
                        rehearsal=rehearsal)
    for model in models:
        unavailable = 0  # in a row: a refused key or an unknown model fails every question
        for number, question in enumerate(asked, start=1):
            if _budget_spent(actor):
                report.stopped = ("The run stopped early: the Claude budget for the run was "
                                  "spent.")
                break
            outcome = ask_one(question, [tables[n] for n in question.datasets],
                              golds[question.id], actor=actor, model=model)
            report.outcomes.append(outcome)
            if progress is not None:
                progress(f"{model} [{number}/{len(asked)}] {question.id}: {outcome.verdict}")
            unavailable = unavailable + 1 if outcome.verdict == "unavailable" else 0
            if unavailable == MAX_UNAVAILABLE:
                report.stopped = (f"{model} stopped early: Claude was unavailable for "
                                  f"{MAX_UNAVAILABLE} questions in a row. {outcome.reason}").strip()
                break
        report.scores.append(score(model, [o for o in report.outcomes if o.model == model]))
    return report


def ask_one(question: EvalQuestion, tables: list[AskTable], golds: list[pd.DataFrame], *,
            actor: UserView, model: str) -> QuestionOutcome:
    """One question through Ask, scored against its gold results."""
    started = time.perf_counter()
    result = ask(question.question, tables, actor=actor, model=model)
    latency = time.perf_counter() - started
    verdict, reason = _verdict(result, golds, ordered=question.ordered)
    calls: list[CallUsage] = result.usage
    flags = None
    if result.frame is not None and result.answer_text.strip():
        # the rows Claude was given to write its answer, as Ask checks them
        checked = check_answer(result.answer_text, result.frame.head(MAX_ANSWER_ROWS),
                               question=question.question, total_rows=result.total_rows)
        flags = len(checked.flagged)
    return QuestionOutcome(
        id=question.id, model=model, kind=question.kind, verdict=verdict, reason=reason,
        sql=result.sql or (result.attempts[-1].sql if result.attempts else None),
        input_tokens=sum(c.input_tokens for c in calls),
        output_tokens=sum(c.output_tokens for c in calls),
        cache_tokens=sum(c.cache_read_tokens + c.cache_write_tokens for c in calls),
        cost=sum(c.cost_estimate or 0.0 for c in calls), latency_s=latency,
        grounded_flags=flags)


def _verdict(result: AskResult, golds: list[pd.DataFrame], *,
             ordered: bool) -> tuple[Verdict, str]:
    if result.status == "unavailable":
        return "unavailable", result.error or ""
    if result.status == "could_not_answer":
        return "refused", result.error or ""
    checks = [compare(result.frame, gold, ordered=ordered) for gold in golds]
    if any(c.right for c in checks):
        return "right", ""
    return "wrong", checks[0].reason


def _budget_spent(actor: UserView) -> bool:
    try:
        usage.check_budget(actor.username)
    except BudgetExceeded:
        return True
    return False


def score(model: str, outcomes: list[QuestionOutcome]) -> ModelScore:
    latencies = [o.latency_s for o in outcomes]
    return ModelScore(
        model=model, asked=len(outcomes), right=sum(o.verdict == "right" for o in outcomes),
        refused=sum(o.verdict == "refused" for o in outcomes),
        unavailable=sum(o.verdict == "unavailable" for o in outcomes),
        grounded_flags=_total([o.grounded_flags for o in outcomes]),
        input_tokens=sum(o.input_tokens for o in outcomes),
        output_tokens=sum(o.output_tokens for o in outcomes),
        cache_tokens=sum(o.cache_tokens for o in outcomes),
        cost=sum(o.cost for o in outcomes),
        latency_median_s=statistics.median(latencies) if latencies else 0.0,
        latency_total_s=sum(latencies))


def _total(flags: list[int | None]) -> int | None:
    checked = [f for f in flags if f is not None]
    return sum(checked) if checked else None


# --- the report ----------------------------------------------------------------------------

HEADERS = ("Model", "Right", "Accuracy", "Could not answer", "Claude unavailable",
           "Grounded flags", "Tokens in", "Tokens out", "Cache tokens", "Cost (US$)",
           "Latency p50 (s)", "Total time (s)")


def score_rows(report: EvalReport) -> list[tuple[str, ...]]:
    """The report's table as text cells, one row per model (terminal, Markdown, page)."""
    return [(s.model, f"{s.right}/{s.asked}", display_text.share(s.right, s.asked),
             str(s.refused),
             str(s.unavailable),
             NOT_CHECKED if s.grounded_flags is None else str(s.grounded_flags),
             f"{s.input_tokens:,}", f"{s.output_tokens:,}", f"{s.cache_tokens:,}",
             display_text.number(s.cost, digits=4), display_text.number(s.latency_median_s),
             display_text.number(s.latency_total_s))
            for s in report.scores]


def plain_table(report: EvalReport) -> str:
    rows = [HEADERS, *score_rows(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(report: EvalReport) -> str:
    lines = [f"# Ask evaluation, {report.made_at:%Y-%m-%d %H:%M} UTC", "",
             f"Questions: `{report.questions_file}`, answered by {report.against}.", "",
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in score_rows(report)]
    if report.stopped:
        lines += ["", report.stopped]
    missed = [o for o in report.outcomes if o.verdict != "right"]
    lines += ["", "## Questions not answered right", ""]
    if not missed:
        lines += ["Every question asked was answered right."]
    else:
        lines += ["| Model | Question | Verdict | Why |", "|---|---|---|---|"]
        lines += [f"| {o.model} | {o.id} | {o.verdict} | {o.reason.replace('|', '/')} |"
                  for o in missed]
    return "\n".join(lines) + "\n"


def default_folder() -> Path:
    return get_settings().data_dir / REPORT_FOLDER


def write_report(report: EvalReport, folder: Path) -> Path:
    """The report as JSON and Markdown (dated, and as the latest); the JSON file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"eval-{report.made_at:%Y%m%d-%H%M%S}"
    data = report.model_dump_json(indent=2)
    text = markdown(report)
    for name, content in ((f"{stamp}.json", data), (f"{stamp}.md", text), (LATEST, data),
                          ("latest.md", text)):
        (folder / name).write_text(content, encoding="utf-8")
    return folder / f"{stamp}.json"


def latest_report(actor: UserView, folder: Path | None = None) -> EvalReport | None:
    """The newest report in the data folder, for admins (the Usage page); None if none."""
    require(actor.role, "read_evaluation")
    path = (folder or default_folder()) / LATEST
    try:
        return EvalReport.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none yet, or unreadable: the page offers `make eval` instead
