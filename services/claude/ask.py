"""Ask: a plain-English question → Claude's SQL → guard + sandbox → a grounded answer.

Model output is data, never code: Claude's SQL only ever reaches DuckDB through
`sql_guard.check_sql` and `sandbox.run_sandboxed` (a live dataset's database through the same
guard and `live_sql.run_live`, see `ask_live`); its chart is a `ChartSpec` validated
field by field. On a refused, failed or timed-out query the error goes back to Claude for at
most `MAX_REPAIRS` corrections, then the result says honestly that it could not answer.

Split API for the page (so the answer can stream):
    plan = plan_query(question, tables, history, user=...)
    result = run_with_repairs(question, plan, tables, history, user=...)
    st.write_stream(stream_answer(question, result, user=...))
`ask(...)` does all three without streaming (tests, benchmarks, CLI).
"""

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.access import caller_checks
from services.access.users import UserView
from services.charts.spec import ChartSpec, is_additive, validate_spec
from services.charts.suggestion import fit_suggestion
from services.claude import ask_live
from services.claude import ask_prompts as prompts
from services.claude import client as claude
from services.claude.client import CallUsage
from services.data import dataset_checks, duck, duckdb_errors
from services.data.column_kinds import chart_kind, frame_kinds, is_moment
from services.data.column_roles import (
    ColumnStats,
    categories,
    is_time_part,
    measures,
    stats_from_profile,
)
from services.data.dataset_models import ColumnInfo, DatasetProfile
from services.data.live_datasets import LiveTarget
from services.data.sql_names import path_literal, read_columns
from services.errors import (
    BudgetExceeded,
    ClaudeUnavailable,
    InvalidInput,
    QueryFailed,
    QueryTimeout,
    QueryTooBig,
    SourceUnavailable,
    UnsafeQuery,
)
from services.settings import get_settings
from services.untrusted_sql.sandbox import SandboxResult, run_sandboxed
from services.untrusted_sql.sql_guard import check_sql

MAX_REPAIRS = 2
FEATURE_PLAN = "ask.sql"
FEATURE_ANSWER = "ask.answer"
MAX_STARTERS = 4
STARTER_MAX_DISTINCT = 50

UsageSink = Callable[[CallUsage], None]
Status = Literal["answered", "could_not_answer", "unavailable"]


class AskTable(BaseModel):
    """A dataset version (or a live table) offered to Ask, under the SQL name Claude must
    use."""

    sql_name: str
    display_name: str
    parquet_path: Path | None = None  # None for a live table
    dataset_id: int | None = None  # checked against the caller's access before any work
    columns: list[ColumnInfo] | None = None  # read from the Parquet file when absent
    profile: DatasetProfile | None = None
    live: LiveTarget | None = None  # where a live dataset's rows are read


class AskTurn(BaseModel):
    """An earlier turn of the conversation, for follow-up questions."""

    question: str
    sql: str | None = None
    answer: str | None = None


class SqlAttempt(BaseModel):
    sql: str
    error: str | None = None


class PlanReply(BaseModel):
    """Run one read-only DuckDB SQL query over the listed tables to answer the question."""

    sql: str = Field(description="One read-only DuckDB SELECT over the listed tables.")
    chart: dict[str, Any] | None = Field(
        default=None, description="A chart of the result (fields in the instructions), or null.")
    explanation: str = Field(default="", description="One or two plain sentences, no SQL.")


class SqlPlan(BaseModel):
    sql: str
    chart: ChartSpec | None = None  # Claude's suggestion, shape-checked; columns checked later
    explanation: str = ""
    # The planning prompt it came from: a repair repeats it exactly (sample rows are not
    # read again), so the repair reads the prefix the planning call cached.
    system: str = ""


class AskResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    question: str
    status: Status = "answered"
    sql: str | None = None  # the query that ran (normalised by the guard)
    attempts: list[SqlAttempt] = Field(default_factory=list)
    frame: pd.DataFrame | None = None
    total_rows: int = 0
    truncated: bool = False
    # False when `total_rows` is where reading stopped, not a count of all the answer's rows
    # (a live database's answer past the row limit; a count that ran out of time)
    rows_counted: bool = True
    elapsed_ms: float = 0.0
    chart: ChartSpec | None = None
    chart_source: Literal["claude", "rules"] | None = None
    chart_note: str = ""  # e.g. why Claude's suggested chart was not used
    explanation: str = ""
    answer_text: str = ""
    error: str | None = None  # what to tell the person when status is not "answered"
    usage: list[CallUsage] = Field(default_factory=list)

    def as_turn(self) -> AskTurn:
        return AskTurn(question=self.question, sql=self.sql,
                       answer=self.answer_text or self.error)


# --- planning --------------------------------------------------------------------------

def plan_query(question: str, tables: Sequence[AskTable], history: Sequence[AskTurn] = (),
               *, user: str | None = None, actor: UserView | None = None,
               send_samples: bool = True, on_usage: UsageSink | None = None,
               model: str | None = None) -> SqlPlan:
    """Claude's `{sql, chart, explanation}` for the question (not yet checked or run).

    The caller is `actor` (or the account named `user`): their role and access to every
    table are checked first, before any Claude token is spent."""
    username = _check_caller(user, actor, tables)
    _require_question(question, tables)
    return _request_plan(_plan_messages(question, history), _plan_system(tables, send_samples),
                         user=username, on_usage=on_usage, model=model)


def _check_caller(user: str | None, actor: UserView | None,
                  tables: Sequence[AskTable] = ()) -> str:
    """Role (may use Claude) and dataset access, before anything else; the username."""
    caller = caller_checks.require_claude(user, actor)
    require_tables(caller, tables)
    return caller.username


def require_tables(caller: UserView, tables: Sequence[AskTable]) -> None:
    """Every table is a dataset this person may see, and they are all read in one place
    (files, or one data source): refused in one sentence otherwise."""
    ask_live.one_place([t.live for t in tables])
    dataset_checks.require_dataset_files(
        caller, [(t.dataset_id, t.parquet_path) for t in tables if t.parquet_path is not None])
    ask_live.require_visible(caller, [t.live for t in tables if t.live is not None])
    if any(t.parquet_path is None and t.live is None for t in tables):
        raise InvalidInput("One of the datasets picked has no data to ask about yet.")


def run_sql(sql: str, tables: Sequence[AskTable], *, actor: UserView) -> SandboxResult:
    """A query the person typed in Ask's SQL tab. Their role (the Ask page's) and their
    access to every picked table are checked first; then it runs in the sandbox (or on the
    live tables' database) with the usual time and row limits."""
    caller = caller_checks.require_page(actor, "ask")
    require_tables(caller, tables)
    return _run_query(sql, tables)


def _run_query(sql: str, tables: Sequence[AskTable]) -> SandboxResult:
    """Run SQL we did not write where the tables are (callers check access first): the
    sandbox for files, the source's database for live tables; the same guard, time, row and
    size limits either way."""
    settings = get_settings()
    lives = {t.sql_name: t.live for t in tables if t.live is not None}
    if lives:
        return ask_live.run(sql, lives, timeout_s=settings.query_timeout_s,
                            max_rows=settings.query_max_rows)
    return run_sandboxed(sql, {t.sql_name: t.parquet_path for t in tables
                               if t.parquet_path is not None},
                         timeout_s=settings.query_timeout_s, max_rows=settings.query_max_rows)


def _require_question(question: str, tables: Sequence[AskTable]) -> None:
    if not question.strip():
        raise InvalidInput("Type a question about your data first.")
    if not tables:
        raise InvalidInput("Choose at least one dataset to ask about.")


def _plan_messages(question: str, history: Sequence[AskTurn]) -> list[dict[str, Any]]:
    turns = [(t.question, t.sql, t.answer) for t in history]
    return [*prompts.history_messages(turns),
            {"role": "user", "content": prompts.question_message(question)}]


def _plan_system(tables: Sequence[AskTable], send_samples: bool) -> str:
    return prompts.plan_system(schema_payload(tables, send_samples=send_samples),
                               live=any(t.live is not None for t in tables))


def _request_plan(messages: list[dict[str, Any]], system: str, *, user: str,
                  on_usage: UsageSink | None, model: str | None) -> SqlPlan:
    reply = claude.structured(
        messages, system=system, tool_name=prompts.SQL_TOOL, schema_model=PlanReply,
        feature=FEATURE_PLAN, user=user, model=model, on_usage=on_usage, cache=True)
    return SqlPlan(sql=reply.sql, chart=_chart_or_none(reply.chart),
                   explanation=reply.explanation.strip(), system=system)


def _chart_or_none(raw: dict[str, Any] | None) -> ChartSpec | None:
    if raw is None:
        return None
    try:  # a field left empty (null) means "not said", as one left out does
        return ChartSpec.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError:
        return None  # a malformed suggestion is dropped; the page charts by rules


def schema_payload(tables: Sequence[AskTable], *, send_samples: bool = True) -> dict[str, Any]:
    """What Claude may know about the tables (quoted as data by the prompt builder)."""
    return {"tables": [_table_payload(t, send_samples) for t in tables]}


def _table_payload(table: AskTable, send_samples: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"table": table.sql_name, "dataset": table.display_name}
    if table.profile is not None:
        payload["rows"] = table.profile.rows
        payload["columns"] = [_profile_column(c) for c in table.profile.columns]
    else:
        payload["columns"] = [{"name": c.sql_name, "label": c.name, "type": c.dtype}
                              for c in _columns(table)]
    if send_samples:
        payload["sample_rows"] = _sample_rows(table)
    return payload


def _columns(table: AskTable) -> list[ColumnInfo]:
    if table.columns is not None:
        return table.columns
    return read_columns(table.parquet_path) if table.parquet_path is not None else []


def _profile_column(column: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": column.sql_name, "label": column.name,
                             "type": column.dtype, "missing_values": column.missing,
                             "distinct": column.distinct}
    for key in ("min", "max", "mean"):
        value = getattr(column, key)
        if value is not None:
            entry[key] = _short(value)
    if column.top_values:
        entry["top_values"] = [[_short(v.value), v.count]
                               for v in column.top_values[:prompts.MAX_TOP_VALUES]]
    return entry


def _short(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, str):
        return value[:prompts.MAX_TEXT_CHARS]
    return value


def _sample_rows(table: AskTable) -> dict[str, Any]:
    if table.live is not None:
        frame = ask_live.sample_rows(table.live, table.sql_name, prompts.MAX_SAMPLE_ROWS)
    elif table.parquet_path is not None:  # our own SQL over one known file, through the door
        frame = duck.query_frame(
            f"SELECT * FROM read_parquet({path_literal(table.parquet_path)}) "
            f"LIMIT {prompts.MAX_SAMPLE_ROWS}",
            row_limit=prompts.MAX_SAMPLE_ROWS, task=duckdb_errors.ASK_SAMPLE)
    else:
        return {"columns": [], "rows": []}
    columns, rows = prompts.frame_rows(frame, prompts.MAX_SAMPLE_ROWS)
    return {"columns": columns, "rows": rows}


# --- running with repairs --------------------------------------------------------------

def run_with_repairs(question: str, plan: SqlPlan, tables: Sequence[AskTable],
                     history: Sequence[AskTurn] = (), *, user: str | None = None,
                     actor: UserView | None = None, send_samples: bool = True,
                     on_usage: UsageSink | None = None, model: str | None = None,
                     max_repairs: int = MAX_REPAIRS) -> AskResult:
    """Guard + sandbox the plan; on a refused or failed query ask Claude to fix it (at most
    `max_repairs` times); then an honest result. Claude failing mid-way keeps the work.
    A query stopped for time or memory is not tried again: it would only be stopped again."""
    username = _check_caller(user, actor, tables)
    names = {t.sql_name for t in tables}
    messages = _plan_messages(question, history)
    system = plan.system or _plan_system(tables, send_samples)
    result = AskResult(question=question, explanation=plan.explanation)
    while True:
        attempt = SqlAttempt(sql=plan.sql)
        result.attempts.append(attempt)
        try:
            safe_sql = check_sql(plan.sql, names)
            ran = _run_query(safe_sql, tables)
        except (QueryTimeout, QueryTooBig, SourceUnavailable) as err:
            attempt.error = str(err)
            result.status, result.error = "could_not_answer", str(err)
            return result
        except (UnsafeQuery, QueryFailed) as err:
            attempt.error = str(err)
        else:
            return _answered(result, plan, safe_sql, ran)
        if len(result.attempts) > max_repairs:
            return _could_not_answer(result)
        messages = [*messages, *prompts.repair_messages(plan.sql, attempt.error or "")]
        try:
            plan = _request_plan(messages, system, user=username, on_usage=on_usage,
                                 model=model)
        except (ClaudeUnavailable, BudgetExceeded) as err:
            result.status, result.error = "unavailable", str(err)
            return result
        result.explanation = plan.explanation


def _answered(result: AskResult, plan: SqlPlan, safe_sql: str, ran: Any) -> AskResult:
    frame: pd.DataFrame = ran.frame
    result.status = "answered"
    result.sql = safe_sql
    result.frame = frame
    result.total_rows = int(ran.total_rows if ran.total_rows is not None else len(frame))
    result.truncated = bool(ran.truncated)
    result.rows_counted = ran.total_rows is not None or not ran.truncated
    result.elapsed_ms = float(ran.elapsed_ms)
    # Claude's chart is a hint checked against the result's own shape, never trusted
    fitted = fit_suggestion(plan.chart, frame)
    result.chart, result.chart_note = fitted.spec, fitted.note
    result.chart_source = "claude" if result.chart is not None else None
    if result.chart is None:
        result.chart = chart_for_result(frame)
        result.chart_source = "rules" if result.chart is not None else None
    return result


def _could_not_answer(result: AskResult) -> AskResult:
    tries = len(result.attempts)
    result.status = "could_not_answer"
    result.error = (f"I could not answer that: I tried {tries} queries and none of them worked. "
                    "You can see what was tried below — try rephrasing the question or "
                    "naming the columns to use.")
    return result


# --- charts from the result's shape ----------------------------------------------------

def _checked_chart(spec: ChartSpec | None, frame: pd.DataFrame) -> ChartSpec | None:
    if spec is None or frame.empty:
        return None
    try:
        return validate_spec(spec, frame_kinds(frame))
    except InvalidInput:
        return None


def _is_one_per(frame: pd.DataFrame, keys: list[str]) -> bool:
    return not frame.duplicated(subset=keys).any()


def chart_for_result(frame: pd.DataFrame) -> ChartSpec | None:
    """A sensible chart for a query result, by rules: text+number → bar, date+number → line,
    two numbers → scatter, one number → histogram; a single value gets no chart.

    A result that is already summarised (one row per group, as GROUP BY gives) is charted
    as it is: the value is never added up again, and two group columns become bars side by
    side, so averages are never summed or stacked. Rows that do need combining are added
    up only when the values add up (`is_additive`), else averaged."""
    if frame.empty or frame.shape == (1, 1) or len(frame) < 2:
        return None
    kinds = frame_kinds(frame)
    by_kind: dict[str, list[str]] = {}
    for name, kind in kinds.items():
        by_kind.setdefault(kind, []).append(name)
    numbers = measures(kinds) or by_kind.get("number", [])
    dates = by_kind.get("date", [])
    groups = by_kind.get("text", []) + by_kind.get("boolean", [])
    spec: ChartSpec | None = None
    if (dates or groups) and numbers:
        value = numbers[0]
        # a no-op on one row per group; else only amounts are added up
        agg: Literal["sum", "mean"] = "sum" if is_additive("sum", value) else "mean"
        if dates:
            color = groups[0] if groups else None
            spec = ChartSpec(chart_type="line", x=dates[0], y=value, agg=agg, color=color)
        elif len(groups) > 1 and not _is_one_per(frame, [groups[0]]) \
                and _is_one_per(frame, groups[:2]):
            spec = ChartSpec(chart_type="grouped_bar", x=groups[0], y=value, agg=agg,
                             color=groups[1])
        else:
            spec = ChartSpec(chart_type="bar", x=groups[0], y=value, agg=agg)
    elif len(numbers) >= 2:
        spec = ChartSpec(chart_type="scatter", x=numbers[0], y=numbers[1])
    elif numbers:
        spec = ChartSpec(chart_type="histogram", x=numbers[0])
    elif groups:
        spec = ChartSpec(chart_type="bar", x=groups[0], agg="count")
    return _checked_chart(spec, frame)


# --- answering -------------------------------------------------------------------------

def stream_answer(question: str, result: AskResult, *, user: str | None = None,
                  actor: UserView | None = None, on_usage: UsageSink | None = None,
                  model: str | None = None, cancel_event: Any = None) -> Iterator[str]:
    """A short plain-language answer grounded in the result rows (streamed). Without an
    answered result, the honest explanation instead (no Claude call)."""
    username = _check_caller(user, actor)
    if result.status != "answered" or result.frame is None:
        return iter([result.error or "I could not answer that."])
    message = prompts.answer_message(question, result.explanation, result.frame,
                                     result.total_rows, result.truncated)
    # Sent on its own, without the schema: reading the planning call's cached prefix would
    # cost more (0.1× a schema of 2,048+ tokens) than this whole short request.
    return claude.stream_text([{"role": "user", "content": message}],
                              system=prompts.ANSWER_SYSTEM, feature=FEATURE_ANSWER,
                              user=username,
                              model=model, on_usage=on_usage, cancel_event=cancel_event)


def ask(question: str, tables: Sequence[AskTable], history: Sequence[AskTurn] = (), *,
        user: str | None = None, actor: UserView | None = None, send_samples: bool = True,
        on_usage: UsageSink | None = None, model: str | None = None,
        max_repairs: int = MAX_REPAIRS) -> AskResult:
    """Plan, run (with repairs) and answer, without streaming. Claude being unavailable or
    the budget being spent gives status "unavailable" with the question and work kept.
    The caller's role and dataset access are checked first (`PermissionDenied`)."""
    actor = caller_checks.require_claude(user, actor)
    require_tables(actor, tables)
    usage: list[CallUsage] = []

    def collect(record: CallUsage) -> None:
        usage.append(record)
        if on_usage is not None:
            on_usage(record)

    try:
        plan = plan_query(question, tables, history, actor=actor, send_samples=send_samples,
                          on_usage=collect, model=model)
    except (ClaudeUnavailable, BudgetExceeded) as err:
        return AskResult(question=question, status="unavailable", error=str(err), usage=usage)
    result = run_with_repairs(question, plan, tables, history, actor=actor,
                              send_samples=send_samples, on_usage=collect, model=model,
                              max_repairs=max_repairs)
    if result.status == "answered":
        try:
            result.answer_text = "".join(stream_answer(question, result, actor=actor,
                                                       on_usage=collect, model=model))
        except (ClaudeUnavailable, BudgetExceeded) as err:
            result.error = str(err)  # the table, chart and SQL are still worth showing
    result.usage = usage
    return result


# --- starter questions -----------------------------------------------------------------

def starter_questions(tables: Sequence[AskTable]) -> list[str]:
    """A few questions suggested from the schema alone (no Claude call)."""
    questions: list[str] = []
    for table in tables:
        questions += _starters_for(table)
    return list(dict.fromkeys(questions))[:MAX_STARTERS]


def _starters_for(table: AskTable) -> list[str]:
    described = _described_columns(table)
    kinds = {name: chart_kind(kind) for name, kind, _ in described}
    stats = stats_from_profile(table.profile) if table.profile is not None else {
        name: ColumnStats(kind=kind) for name, kind in kinds.items()}
    # Never an ID or row number as the measure ("the average rownames"), a year only last;
    # groups with few distinct values first.
    groups = [name for name in categories(kinds, stats)
              if (stats[name].distinct is None
                  or 1 < (stats[name].distinct or 0) <= STARTER_MAX_DISTINCT)]
    numbers = [n for n in measures(kinds, stats) if not is_time_part(n, stats.get(n))]
    dates = [name for name, kind, _ in described if is_moment(kind)]
    groups, numbers = [_quoted(n) for n in groups], [_quoted(n) for n in numbers]
    questions: list[str] = []
    if groups:
        questions.append(f"How many rows are there by {groups[0]}?")
    if groups and numbers:
        questions.append(f"What is the average {numbers[0]} by {groups[0]}?")
    if dates and numbers:
        how = "total" if is_additive("sum", numbers[0]) else "average"
        questions.append(f"How did the {how} {numbers[0]} change by month?")
    if numbers:
        questions.append(f"Which rows have the highest {numbers[0]}?")
    if len(groups) > 1:
        questions.append(f"Which {groups[1]} values are most common?")
    if not questions:
        questions.append(f"What does a typical row of {_quoted(table.display_name)} look like?")
    return questions


def _quoted(name: str) -> str:
    """A name from the data inside a suggested question: in quotation marks, which the
    prompt turns into quoted data (`ask_prompts.question_message`), never instructions."""
    clean = re.sub(r"[“”\x00-\x1f\x7f]", "", name).strip()[:80]
    return f"“{clean}”"


def _described_columns(table: AskTable) -> list[tuple[str, str, int | None]]:
    if table.profile is not None:
        return [(c.name, c.dtype, c.distinct) for c in table.profile.columns]
    return [(c.name, c.dtype, None) for c in _columns(table)]
