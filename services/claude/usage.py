"""Claude usage: every call as a `runs` row, monthly totals, budgets and Claude app settings.

`record_usage` is the module-wide sink for `services.claude.client`, `hold_call` and
`release_call` its budget hold for a single call (wired by `services.claude.wiring.install`;
the holds themselves are `services.claude.holds`). Budgets are per person and per calendar
month (UTC), in tokens and/or estimated US$; a person without a budget row is unlimited.
"""

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import case, func, select

from services.access import audit
from services.access.permissions import require
from services.access.users import UserView
from services.claude import client as claude
from services.claude import holds
from services.claude.client import CallUsage
from services.claude.holds import month_start
from services.errors import BudgetExceeded, InvalidInput, NotFound
from services.store.db import session_scope
from services.store.models import AppSetting, Budget, Run, User, utcnow

SEND_SAMPLES_KEY = "claude.send_sample_rows"
MAX_BUDGET_TOKENS = 10_000_000_000
MAX_BUDGET_COST = 1_000_000.0
MAX_ERROR_CHARS = 2_000


class MonthlyUsage(BaseModel):
    username: str
    month_start: datetime
    calls: int = 0
    tokens: int = 0
    cost: float = 0.0
    failed: int = 0


class BudgetView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    monthly_tokens: int | None = None
    monthly_cost: float | None = None
    updated_by: str = ""
    updated_at: datetime | None = None

    @property
    def is_limited(self) -> bool:
        return self.monthly_tokens is not None or self.monthly_cost is not None


class BudgetRow(BaseModel):
    """One person on the admin's budget table: their budget and this month's use."""

    username: str
    name: str
    role: str
    budget: BudgetView
    used: MonthlyUsage


class BudgetChange(BaseModel):
    username: str
    monthly_tokens: int | None = None
    monthly_cost: float | None = None


# --- recording ---------------------------------------------------------------------------

def record_usage(usage: CallUsage) -> None:
    """Store one Claude call (succeeded, failed or cancelled) as a `runs` row; in the same
    transaction its spend counts against the budget and its hold is released."""
    with session_scope(write=True) as session:
        session.add(usage_row(usage))
        session.flush()
        holds.add_spent(session, [usage])
        if usage.hold_id is not None:
            holds.release(session, hold_id=usage.hold_id)


def hold_call(maximum: CallUsage) -> int | None:
    """Before a single call: holds its maximum (`maximum`'s tokens at their price) against
    the person's budget, or raises `BudgetExceeded`. None for a person without a budget."""
    if not get_budget(maximum.user).is_limited:
        return None
    check_budget(maximum.user)  # used up: the same sentence as everywhere else
    cost = claude.estimate_cost(maximum.model, maximum) or 0.0
    with session_scope(write=True) as session:
        return holds.reserve(session, maximum.user, units=1, unit_cost=cost,
                             unit_tokens=maximum.input_tokens + maximum.output_tokens,
                             what="This request to Claude")


def release_call(hold_id: int) -> None:
    """A single call's hold, when its usage was not recorded by `record_usage`."""
    with session_scope(write=True) as session:
        holds.release(session, hold_id=hold_id)


def usage_row(usage: CallUsage) -> Run:
    """The `runs` row for one call, for callers that write it in their own transaction."""
    started = usage.started_at.astimezone(UTC).replace(tzinfo=None)
    return Run(
        username=usage.user[:64], feature=usage.feature[:32], model=usage.model[:100],
        status=usage.status, input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens, cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        cache_write_1h_tokens=min(usage.cache_write_1h_tokens, usage.cache_write_tokens),
        cache_saving=claude.cache_saving(usage), latency_ms=usage.latency_ms,
        cost_estimate=usage.cost_estimate or 0.0,
        error=usage.error[:MAX_ERROR_CHARS] if usage.error else None, created_at=started,
    )


def monthly_usage(username: str, now: datetime | None = None) -> MonthlyUsage:
    """Calls, tokens (all kinds) and estimated cost of one person since the month began."""
    since = month_start(now)
    tokens = holds.token_total(Run.__table__.c)
    failed = func.sum(case((Run.status == "failed", 1), else_=0))
    with session_scope() as session:
        row = session.execute(
            select(func.count(), func.coalesce(func.sum(tokens), 0),
                   func.coalesce(func.sum(Run.cost_estimate), 0.0), func.coalesce(failed, 0))
            .where(Run.username == username, Run.created_at >= since)
        ).one()
    return MonthlyUsage(username=username, month_start=since, calls=int(row[0]),
                        tokens=int(row[1]), cost=float(row[2]), failed=int(row[3]))


# --- budgets -----------------------------------------------------------------------------

def get_budget(username: str) -> BudgetView:
    with session_scope() as session:
        row = session.get(Budget, username)
        if row is None:
            return BudgetView(username=username)
        return BudgetView.model_validate(row)


def check_budget(username: str) -> None:
    """Raise `BudgetExceeded` (a sentence for the person) when this month's budget is used up."""
    budget = get_budget(username)
    if not budget.is_limited:
        return
    used = monthly_usage(username)
    if budget.monthly_tokens is not None and used.tokens >= budget.monthly_tokens:
        raise BudgetExceeded(
            f"You have used your Claude budget for this month ({used.tokens:,} of "
            f"{budget.monthly_tokens:,} tokens). Ask an admin to raise it, or wait until the "
            "1st of next month.")
    if budget.monthly_cost is not None and used.cost >= budget.monthly_cost:
        raise BudgetExceeded(
            f"You have used your Claude budget for this month (about ${used.cost:,.2f} of "
            f"${budget.monthly_cost:,.2f}). Ask an admin to raise it, or wait until the 1st "
            "of next month.")


def _checked_change(change: BudgetChange) -> BudgetChange:
    tokens, cost = change.monthly_tokens, change.monthly_cost
    if tokens is not None and not 0 <= tokens <= MAX_BUDGET_TOKENS:
        raise InvalidInput("A token budget must be a whole number of zero or more.")
    if cost is not None and not 0 <= cost <= MAX_BUDGET_COST:
        raise InvalidInput("A cost budget must be an amount of zero or more dollars.")
    return change


def set_budget(actor: UserView, change: BudgetChange) -> BudgetView:
    """Admins set (or clear, with both limits None) a person's monthly budget."""
    require(actor.role, "manage_settings")
    change = _checked_change(change)
    with session_scope(write=True) as session:
        if session.get(User, change.username) is None:
            raise NotFound(f"There is no account called “{change.username}”.")
        row = session.get(Budget, change.username)
        if row is None:
            row = Budget(username=change.username)
            session.add(row)
        row.monthly_tokens = change.monthly_tokens
        row.monthly_cost = change.monthly_cost
        row.updated_by = actor.username
        row.updated_at = utcnow()
        audit.record(session, actor=actor.username, action="budget_changed",
                     target=change.username, detail=_budget_text(change))
        session.flush()
        return BudgetView.model_validate(row)


def _budget_text(change: BudgetChange) -> str:
    parts = []
    if change.monthly_tokens is not None:
        parts.append(f"{change.monthly_tokens:,} tokens")
    if change.monthly_cost is not None:
        parts.append(f"${change.monthly_cost:,.2f}")
    return " and ".join(parts) + " per month" if parts else "no limit"


def list_budgets(actor: UserView, now: datetime | None = None) -> list[BudgetRow]:
    """Every account with its budget and this month's use (admins only)."""
    require(actor.role, "manage_settings")
    with session_scope() as session:
        people = list(session.scalars(select(User).order_by(User.username)))
        budgets = {b.username: BudgetView.model_validate(b)
                   for b in session.scalars(select(Budget))}
    return [BudgetRow(username=p.username, name=p.name, role=p.role,
                      budget=budgets.get(p.username, BudgetView(username=p.username)),
                      used=monthly_usage(p.username, now))
            for p in people]


# --- app settings --------------------------------------------------------------------------

def sends_sample_rows() -> bool:
    """Whether Ask shows Claude up to 5 sample rows per dataset (admin switch, default on)."""
    with session_scope() as session:
        row = session.get(AppSetting, SEND_SAMPLES_KEY)
    return row is None or row.value != "false"


def set_send_sample_rows(actor: UserView, enabled: bool) -> bool:
    require(actor.role, "manage_settings")
    value = "true" if enabled else "false"
    with session_scope(write=True) as session:
        row = session.get(AppSetting, SEND_SAMPLES_KEY)
        if row is None:
            session.add(AppSetting(key=SEND_SAMPLES_KEY, value=value))
        else:
            row.value = value
        audit.record(session, actor=actor.username, action="setting_changed",
                     target="Send sample rows to Claude", detail=value)
    return enabled
