"""Budget holds: work under way holds its maximum against its owner's monthly budget.

A job holds one unit's maximum (cost and tokens) per unit without a result; a single call
holds its own maximum. The hold is taken by ONE conditional UPDATE of the person's
`budgets` row — this month's spend + what is already held + the new maximum must fit the
budget — so two servers on PostgreSQL cannot both take the last of a budget: the second
waits on the row's lock and re-checks the row as the first left it. That is why the
comparison reads only the row's own columns (its spend and held figures are kept up to
date in the same transactions that record usage and release holds); spend is re-read from
`runs` only when the row's month is not the current one.

A hold shrinks as units get their result (the real usage is recorded in the same
transaction) and the rest is released when the job finishes, is cancelled or fails, when
it is resumed (a new hold is taken for what is left), and when its runner is gone: a job
whose heartbeat is older than `RESEARCH_DESK_JOB_STALE_S`, or a single call older than its deadline
plus a minute, is released by the next hold its owner asks for.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, Table, and_, case, delete, func, or_, select, update
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session

from services.claude.client import CallUsage
from services.data import display_text
from services.errors import BudgetExceeded
from services.settings import get_settings
from services.store.models import Budget, BudgetHold, Job, Run, utcnow

CALL_GRACE_S = 60.0  # a single call's hold outlives the call's deadline by this much
ACTIVE = ("queued", "running", "finishing")

_budgets = cast(Table, Budget.__table__)
_holds = cast(Table, BudgetHold.__table__)
_runs = cast(Table, Run.__table__)


def month_start(now: datetime | None = None) -> datetime:
    """The first moment of the calendar month (UTC, naive like the stored times)."""
    moment = now or utcnow()
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0, tzinfo=None)


def token_total(runs: Any) -> Any:
    """A call's tokens of every kind (1-hour writes are part of the writes) as BIGINT: a
    month's sum may pass 2**31, so no step of it is left a 32-bit integer."""
    return cast_(runs.input_tokens + runs.output_tokens + runs.cache_read_tokens
                 + runs.cache_write_tokens, BigInteger)


def _spent(month: datetime) -> tuple[Any, Any]:
    """This month's spend (cost, tokens) as SQL over the budgets row: its own figures when
    they are for this month, else summed from `runs`."""
    def from_runs(value: Any) -> Any:
        return (select(func.coalesce(func.sum(value), 0))
                .where(_runs.c.username == _budgets.c.username, _runs.c.created_at >= month)
                .scalar_subquery())

    tokens = token_total(_runs.c)
    current = _budgets.c.spent_month == month
    return (case((current, func.coalesce(_budgets.c.spent_cost, 0.0)),
                 else_=from_runs(_runs.c.cost_estimate)),
            case((current, func.coalesce(_budgets.c.spent_tokens, 0)), else_=from_runs(tokens)))


def reserve(session: Session, username: str, *, units: int, unit_cost: float,
            unit_tokens: int, what: str, job_id: int | None = None) -> int | None:
    """Holds `units` × the unit maximum for `username`, or raises `BudgetExceeded` (one
    sentence saying what is left and what the work could cost). None: no budget, no hold."""
    sweep(session, username)
    month = month_start()
    cost, tokens = max(0.0, unit_cost) * units, max(0, unit_tokens) * units
    spent_cost, spent_tokens = _spent(month)
    held_cost = func.coalesce(_budgets.c.reserved_cost, 0.0)
    held_tokens = func.coalesce(_budgets.c.reserved_tokens, 0)
    fits = (update(_budgets)
            .where(_budgets.c.username == username,
                   or_(_budgets.c.monthly_cost.is_(None),
                       spent_cost + held_cost + cost <= _budgets.c.monthly_cost + 1e-9),
                   or_(_budgets.c.monthly_tokens.is_(None),
                       spent_tokens + held_tokens + tokens <= _budgets.c.monthly_tokens))
            .values(spent_cost=spent_cost, spent_tokens=spent_tokens, spent_month=month,
                    reserved_cost=held_cost + cost, reserved_tokens=held_tokens + tokens)
            .returning(_budgets.c.username))
    if session.execute(fits).first() is None:
        _refuse(session, username, month, what, cost, tokens)
        return None  # no budget row: no limit, nothing to hold
    hold = BudgetHold(username=username, job_id=job_id, units=units, unit_cost=unit_cost,
                      unit_tokens=unit_tokens, created_at=utcnow())
    session.add(hold)
    session.flush()
    return hold.id


def _refuse(session: Session, username: str, month: datetime, what: str, cost: float,
            tokens: int) -> None:
    """Raises the sentence for a refused hold; returns when the person has no budget row."""
    spent_cost, spent_tokens = _spent(month)
    row = session.execute(
        select(_budgets.c.monthly_cost, _budgets.c.monthly_tokens, spent_cost, spent_tokens,
               func.coalesce(_budgets.c.reserved_cost, 0.0),
               func.coalesce(_budgets.c.reserved_tokens, 0))
        .where(_budgets.c.username == username)).first()
    if row is None:
        return
    limit_cost, limit_tokens, used_cost, used_tokens, held_cost, held_tokens = row
    if limit_cost is not None and float(used_cost) + float(held_cost) + cost > limit_cost:
        left = max(0.0, limit_cost - float(used_cost) - float(held_cost))
        raise BudgetExceeded(
            f"{what} could cost up to {display_text.money(cost)}, more than the "
            f"{display_text.money(left)} left in your Claude budget this month (work under way "
            "counts at its most until it finishes).")
    left_tokens = max(0, int(limit_tokens or 0) - int(used_tokens) - int(held_tokens))
    raise BudgetExceeded(
        f"{what} could use up to {tokens:,} tokens, more than the {left_tokens:,} left in "
        "your Claude budget this month (work under way counts at its most until it "
        "finishes).")


def release(session: Session, *, hold_id: int | None = None, job_id: int | None = None,
            units: int | None = None) -> None:
    """Gives back `units` unit maxima of a hold (all of it when None or when fewer are
    left); a hold already released is left alone."""
    if hold_id is None and job_id is None:
        return
    which = _holds.c.id == hold_id if hold_id is not None else _holds.c.job_id == job_id
    if units is not None:
        if units <= 0:
            return
        row = session.execute(
            update(_holds).where(which, _holds.c.units >= units)
            .values(units=_holds.c.units - units)
            .returning(_holds.c.username, _holds.c.unit_cost, _holds.c.unit_tokens)).first()
        if row is not None:
            _unhold(session, row[0], units * row[1], units * row[2])
            return
    gone = session.execute(delete(_holds).where(which).returning(
        _holds.c.username, _holds.c.units, _holds.c.unit_cost, _holds.c.unit_tokens)).all()
    for username, left, unit_cost, unit_tokens in gone:
        _unhold(session, username, left * unit_cost, left * unit_tokens)


def _unhold(session: Session, username: str, cost: float, tokens: int) -> None:
    if cost <= 0 and tokens <= 0:
        return
    session.execute(update(_budgets).where(_budgets.c.username == username).values(
        reserved_cost=func.greatest(func.coalesce(_budgets.c.reserved_cost, 0.0) - cost, 0.0),
        reserved_tokens=func.greatest(func.coalesce(_budgets.c.reserved_tokens, 0) - tokens,
                                      0)))


def add_spent(session: Session, usages: list[CallUsage]) -> None:
    """Adds recorded calls to their owners' spend figures (those kept for the month the call
    began in; a row for another month re-reads `runs` at its next hold)."""
    totals: dict[tuple[str, datetime], list[float]] = defaultdict(lambda: [0.0, 0])
    for used in usages:
        started = used.started_at.astimezone(UTC).replace(tzinfo=None)
        total = totals[(used.user[:64], month_start(started))]
        total[0] += used.cost_estimate or 0.0
        total[1] += (used.input_tokens + used.output_tokens + used.cache_read_tokens
                     + used.cache_write_tokens)
    for (username, month), (cost, tokens) in totals.items():
        session.execute(update(_budgets).where(_budgets.c.username == username,
                                               _budgets.c.spent_month == month).values(
            spent_cost=func.coalesce(_budgets.c.spent_cost, 0.0) + cost,
            spent_tokens=func.coalesce(_budgets.c.spent_tokens, 0) + int(tokens)))


def sweep(session: Session, username: str) -> None:
    """Releases `username`'s holds whose work has stopped: a job that finished or whose
    runner is gone (no heartbeat for `job_stale_s`), a single call past its deadline."""
    now = utcnow()
    beat = func.coalesce(Job.heartbeat_at, Job.created_at)
    call_limit = now - timedelta(seconds=get_settings().claude_deadline_s + CALL_GRACE_S)
    stale = session.scalars(
        select(BudgetHold.id).outerjoin(Job, Job.id == BudgetHold.job_id)
        .where(BudgetHold.username == username,
               or_(and_(BudgetHold.job_id.is_(None), BudgetHold.created_at < call_limit),
                   and_(BudgetHold.job_id.is_not(None),
                        or_(Job.id.is_(None), Job.status.notin_(ACTIVE),
                            beat < now - timedelta(seconds=get_settings().job_stale_s)))))).all()
    for hold_id in stale:
        release(session, hold_id=hold_id)
