"""The usage dashboard's numbers: Claude calls grouped by day, person, model and feature,
with tokens (input, output, cache read and write, 1-hour writes among them), estimated cost
(with cache prices), the money prompt caching saved, error rate and latency p50/p95.
Admins see everyone's; everyone else only their own. All aggregation is SQL over the `runs`
table (portable: DuckDB and PostgreSQL both know `percentile_cont`)."""

import threading
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Date, case, cast, func, select

from services.access.permissions import Role
from services.access.users import UserView
from services.claude import usage
from services.claude.grounded import GroundedCounts, flagged_answers
from services.data import display_text
from services.errors import InvalidInput
from services.settings import get_settings
from services.store.db import session_scope
from services.store.models import Insight, ItemRun, ResearchItem, Run

Grouping = Literal["day", "person", "model", "feature"]
GROUPINGS: tuple[Grouping, ...] = ("day", "person", "model", "feature")
MAX_DAYS = 366
FEATURE_LABELS = (("ask.", "Ask"), ("prompt.single", "Single run"), ("prompt.batch", "Batch"),
                  ("prompt.enrich", "Enrich"), ("prompt.compare", "Compare"))


class UsageRow(BaseModel):
    key: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int  # the part of cache_write_tokens kept for an hour
    cost: float
    cache_saving: float  # US$: the cached tokens at the input price minus their cost
    failed: int
    p50_ms: float
    p95_ms: float

    @property
    def error_rate(self) -> float:
        return self.failed / self.calls if self.calls else 0.0


class UsageReport(BaseModel):
    since: date
    until: date
    person: str | None  # None: everyone (admins only)
    totals: UsageRow
    groups: dict[str, list[UsageRow]]
    grounded: GroundedCounts = GroundedCounts()  # Ask answers whose numbers were checked


class MonthStats(BaseModel):
    items: int
    insights: int
    runs: int
    calls: int
    spend: float
    budget_left: float | None  # US$ left this month, None without a cost budget
    tokens_left: int | None


def _feature_label() -> Any:
    whens = [(Run.feature.like(f"{prefix}%"), label) for prefix, label in FEATURE_LABELS]
    return case(*whens, else_=Run.feature)


def _key(grouping: Grouping) -> Any:
    if grouping == "day":
        return cast(Run.created_at, Date)
    if grouping == "person":
        return Run.username
    if grouping == "model":
        return Run.model
    return _feature_label()


def _measures() -> list[Any]:
    return [func.count(), func.coalesce(func.sum(Run.input_tokens), 0),
            func.coalesce(func.sum(Run.output_tokens), 0),
            func.coalesce(func.sum(Run.cache_read_tokens), 0),
            func.coalesce(func.sum(Run.cache_write_tokens), 0),
            func.coalesce(func.sum(Run.cost_estimate), 0.0),
            func.coalesce(func.sum(case((Run.status == "failed", 1), else_=0)), 0),
            func.coalesce(func.sum(Run.cache_write_1h_tokens), 0),
            func.coalesce(func.sum(Run.cache_saving), 0.0),
            func.percentile_cont(0.5).within_group(Run.latency_ms),
            func.percentile_cont(0.95).within_group(Run.latency_ms)]


def _row(key: object, values: tuple[Any, ...]) -> UsageRow:
    return UsageRow(key=str(key), calls=int(values[0]), input_tokens=int(values[1]),
                    output_tokens=int(values[2]), cache_read_tokens=int(values[3]),
                    cache_write_tokens=int(values[4]), cost=float(values[5]),
                    failed=int(values[6]), cache_write_1h_tokens=int(values[7]),
                    cache_saving=float(values[8]), p50_ms=float(values[9] or 0),
                    p95_ms=float(values[10] or 0))


def report(actor: UserView, since: date, until: date, *,
           person: str | None = None) -> UsageReport:
    """Usage between two days (both included). Non-admins always get their own."""
    if until < since:
        raise InvalidInput("The end date is before the start date; pick them the other way "
                           "round.")
    if (until - since).days > MAX_DAYS:
        raise InvalidInput(f"Pick at most {MAX_DAYS} days at a time.")
    if actor.role != Role.ADMIN:
        person = actor.username
    start = datetime.combine(since, time.min)
    end = datetime.combine(until + timedelta(days=1), time.min)
    where = [Run.created_at >= start, Run.created_at < end]
    if person:
        where.append(Run.username == person)
    groups: dict[str, list[UsageRow]] = {}
    with session_scope() as session:
        total = session.execute(select(*_measures()).where(*where)).one()
        for grouping in GROUPINGS:
            key = _key(grouping).label("key")
            rows = session.execute(select(key, *_measures()).where(*where).group_by(key)
                                   .order_by(key)).all()
            groups[grouping] = [_row(r[0], tuple(r[1:])) for r in rows]
    return UsageReport(since=since, until=until, person=person,
                       totals=_row("total", tuple(total)), groups=groups,
                       grounded=flagged_answers(actor, since, until, person=person))


def _dollars(amount: float) -> str:
    return display_text.money(amount) if amount >= 0.0005 else "less than a tenth of a cent"


def cache_sentence(row: UsageRow, period: str) -> str:
    """What prompt caching did for these calls, in one plain sentence: "Cached prompt text
    read 1.2 million tokens this month and saved $3.40." `period`: "this month", …"""
    read, written = row.cache_read_tokens, row.cache_write_tokens
    if not read and not written:
        return f"No prompt text was cached {period}, so caching saved nothing."
    if not read:
        return (f"Prompt text was stored in the cache ({display_text.in_words(written)} "
                f"tokens) {period} but not read back yet, which cost "
                f"{_dollars(-row.cache_saving)} extra.")
    said = f"Cached prompt text read {display_text.in_words(read)} tokens {period}"
    if row.cache_saving < 0:
        return (f"{said}; storing it cost {_dollars(-row.cache_saving)} more than reading it "
                "saved.")
    return f"{said} and saved {_dollars(row.cache_saving)}."


def grounded_sentence(counts: GroundedCounts, period: str) -> str:
    """What the number check found in Ask's answers, in one plain sentence."""
    checked, flagged = counts.answers_checked, counts.answers_flagged
    if not checked:
        return f"No answers from Ask had their numbers checked {period}."
    answers = "answer" if checked == 1 else "answers"
    if not flagged:
        every = "The one" if checked == 1 else f"All {checked:,}"
        return (f"{every} Ask {answers} {period} used only numbers that appear in "
                "their results.")
    numbers = "number" if counts.numbers_flagged == 1 else "numbers"
    return (f"{flagged:,} of {checked:,} Ask {answers} {period} had a number that does not "
            f"appear in their result ({counts.numbers_flagged:,} {numbers} in all); each is "
            "marked in the answer.")


CACHED_REPORTS = 64
_cache_lock = threading.Lock()
_reports: OrderedDict[tuple[Any, ...], UsageReport] = OrderedDict()


def newest_call_id() -> int:
    """The id of the newest recorded call (0 before the first): calls are only ever added,
    so the same id means the same numbers."""
    with session_scope() as session:
        return int(session.scalar(select(func.max(Run.id))) or 0)


def cached_report(actor: UserView, since: date, until: date, *,
                  person: str | None = None) -> UsageReport:
    """`report`, kept in this process until a new call is recorded: a page rerun costs one
    look-up of the newest call's id instead of the grouped aggregations over every call.
    The report returned is shared: read it, do not change it."""
    key = (get_settings().metadata_url, actor.username, actor.role.value, since, until,
           person or None, newest_call_id())
    with _cache_lock:
        found = _reports.get(key)
        if found is not None:
            _reports.move_to_end(key)
            return found
    found = report(actor, since, until, person=person)
    with _cache_lock:
        _reports[key] = found
        while len(_reports) > CACHED_REPORTS:
            _reports.popitem(last=False)
    return found


def clear_cached_reports() -> None:
    with _cache_lock:
        _reports.clear()


def this_month() -> tuple[date, date]:
    today = datetime.now(UTC).date()
    return today.replace(day=1), today


def my_month(user: UserView) -> MonthStats:
    """Home's "my month": items and insights made, prompt runs, Claude calls and spend."""
    since = usage.month_start()
    with session_scope() as session:
        items = session.scalar(select(func.count()).select_from(ResearchItem).where(
            ResearchItem.owner == user.username, ResearchItem.created_at >= since)) or 0
        insights = session.scalar(select(func.count()).select_from(Insight).where(
            Insight.created_by == user.username, Insight.created_at >= since)) or 0
        runs = session.scalar(select(func.count()).select_from(ItemRun).where(
            ItemRun.created_by == user.username, ItemRun.created_at >= since)) or 0
    used = usage.monthly_usage(user.username)
    budget = usage.get_budget(user.username)
    cost_left = None if budget.monthly_cost is None else max(0.0, budget.monthly_cost - used.cost)
    tokens_left = (None if budget.monthly_tokens is None
                   else max(0, budget.monthly_tokens - used.tokens))
    return MonthStats(items=int(items), insights=int(insights), runs=int(runs),
                      calls=used.calls, spend=used.cost, budget_left=cost_left,
                      tokens_left=tokens_left)
