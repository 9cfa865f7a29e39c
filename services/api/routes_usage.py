"""/v1/usage: what Claude calls cost — the Usage page's numbers for scripts — and budgets.

Everyone sees their own usage and budget; admins see everyone's (optionally one person's)
and may set a person's monthly budget (services.claude.usage checks the role). The report
is the Usage page's cached aggregation (`usage_report.cached_report`).
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from services.access.permissions import Role
from services.access.users import UserView
from services.api.auth import Caller
from services.api.problems import COMMON_RESPONSES
from services.api.schemas_prompts import (
    BudgetIn,
    BudgetOut,
    GroundedOut,
    UsageOut,
    UsageRowOut,
)
from services.claude import usage, usage_report
from services.claude.usage import BudgetChange
from services.claude.usage_report import UsageRow
from services.errors import PermissionDenied

router = APIRouter(prefix="/usage", tags=["usage"], responses=COMMON_RESPONSES)

MSG_OTHERS = "Only admins can see other people's Claude usage."
Person = Annotated[str | None, Query(max_length=64, description="Admins: one person's "
                                     "(everyone's if absent). Others: only their own.")]
Username = Annotated[str, PathParam(min_length=1, max_length=64,
                                    description="The person's username.")]


def _who(user: UserView, person: str | None) -> str | None:
    """Whose numbers: anyone's for an admin; otherwise the caller's own, or 403."""
    if user.role == Role.ADMIN:
        return person or None
    if person and person != user.username:
        raise PermissionDenied(MSG_OTHERS)
    return user.username


def _row(row: UsageRow) -> UsageRowOut:
    return UsageRowOut(**row.model_dump(), error_rate=round(row.error_rate, 6))


@router.get("", summary="Claude usage by day, person, model and feature",
            response_model=UsageOut)
def get_usage(user: Caller,
              since: Annotated[date | None, Query(description="First day (UTC), included; "
                                                  "the 1st of this month if absent.")] = None,
              until: Annotated[date | None, Query(description="Last day (UTC), included; "
                                                  "today if absent.")] = None,
              person: Person = None) -> UsageOut:
    """Calls, tokens (in, out, cache read and write, 1-hour writes among them), estimated
    cost with cache prices, the money prompt caching saved, error rate and latency p50/p95,
    in total and grouped (by_feature: Ask, single runs, batches, enrichments, comparisons),
    and how many of Ask's written answers had a number not in their result (grounded).
    At most 366 days at a time."""
    first, today = usage_report.this_month()
    found = usage_report.cached_report(user, since or first, until or today,
                                       person=_who(user, person))
    return UsageOut(since=found.since, until=found.until, person=found.person,
                    totals=_row(found.totals),
                    by_day=[_row(r) for r in found.groups.get("day", [])],
                    by_person=[_row(r) for r in found.groups.get("person", [])],
                    by_model=[_row(r) for r in found.groups.get("model", [])],
                    by_feature=[_row(r) for r in found.groups.get("feature", [])],
                    grounded=GroundedOut(**found.grounded.model_dump()))


def _budget_out(username: str) -> BudgetOut:
    budget = usage.get_budget(username)
    used = usage.monthly_usage(username)
    cost_left = (None if budget.monthly_cost is None
                 else round(max(0.0, budget.monthly_cost - used.cost), 6))
    tokens_left = (None if budget.monthly_tokens is None
                   else max(0, budget.monthly_tokens - used.tokens))
    parts = []
    if cost_left is not None and budget.monthly_cost is not None:
        parts.append(f"${cost_left:,.2f} of ${budget.monthly_cost:,.2f}")
    if tokens_left is not None and budget.monthly_tokens is not None:
        parts.append(f"{tokens_left:,} of {budget.monthly_tokens:,} tokens")
    detail = (" and ".join(parts) + " left this month." if parts
              else "No monthly limit is set.")
    return BudgetOut(person=username, month_start=used.month_start.date(),
                     monthly_tokens=budget.monthly_tokens, monthly_cost=budget.monthly_cost,
                     calls=used.calls, tokens_used=used.tokens, cost_used=round(used.cost, 6),
                     tokens_left=tokens_left, cost_left=cost_left, detail=detail)


@router.get("/budget", summary="My monthly Claude budget and what is left",
            response_model=BudgetOut)
def get_budget(user: Caller, person: Person = None) -> BudgetOut:
    """This calendar month (UTC). A call or batch that would go over it is refused before
    any token is spent."""
    return _budget_out(_who(user, person) or user.username)


@router.put("/budgets/{username}", summary="Set a person's monthly budget (admins)",
            response_model=BudgetOut)
def set_budget(user: Caller, username: Username, body: BudgetIn) -> BudgetOut:
    """Both limits empty means no limit. Audited like the same change on the Usage page."""
    usage.set_budget(user, BudgetChange(username=username, **body.model_dump()))
    return _budget_out(username)
