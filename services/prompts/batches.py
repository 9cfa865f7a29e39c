"""Batch runs as people start them: a template × chosen research items, or × the rows of a
dataset. Role, budget and the size of the bill are checked here, before any token is spent;
the work itself belongs to the runner."""

from pydantic import BaseModel

from services.access.caller_checks import require_claude
from services.access.users import UserView
from services.claude import client as claude
from services.claude import usage
from services.errors import BudgetExceeded, InvalidInput
from services.prompts import calls, jobs, sources, templates
from services.prompts.jobs import JobView
from services.prompts.runner import MAX_CONCURRENCY, get_runner
from services.prompts.sources import RowSelection, UnitInput
from services.prompts.templates import TemplateVersionView
from services.settings import get_settings

DEFAULT_CONCURRENCY = 4
SAMPLED_FOR_ESTIMATE = 3


class BatchRequest(BaseModel):
    template_id: int
    item_ids: list[int] = []
    rows: RowSelection | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    kind: str = "batch"
    use_message_batches: bool = False  # half price, results within hours


class BatchPlan(BaseModel):
    units: int
    input_tokens: int  # all units together (counted on a few, scaled)
    max_cost: float | None  # if every answer used its full length
    needs_confirmation: bool
    version: TemplateVersionView

    @property
    def cost_sentence(self) -> str:
        if self.max_cost is None:
            return "The cost cannot be estimated for this model."
        return (f"{self.units:,} calls, about {self.input_tokens:,} tokens in; at most "
                f"${self.max_cost:,.2f} if every answer used its full length.")


def _units(actor: UserView, request: BatchRequest,
           version: TemplateVersionView) -> list[UnitInput]:
    if request.rows is not None:
        known = sources.dataset_columns(actor, request.rows.dataset_id, request.rows.version)
        templates.check_variables(version.body, known)
        return sources.row_inputs(actor, request.rows, version.variables)
    templates.check_variables(version.body, sources.ITEM_VARIABLES)
    return sources.item_inputs(actor, request.item_ids)


def _plan(version: TemplateVersionView, units: list[UnitInput]) -> BatchPlan:
    if not units:
        raise InvalidInput("There is nothing to run: choose at least one item or row.")
    if len(units) > sources.MAX_UNITS:
        raise InvalidInput(f"A batch can have at most {sources.MAX_UNITS:,} calls; choose "
                           "fewer rows (a filter or a sample).")
    sampled = [calls.preview(version, u.values).input_tokens
               for u in units[:SAMPLED_FOR_ESTIMATE]]
    per_unit = sum(sampled) / len(sampled)
    input_tokens = int(per_unit * len(units))
    one = calls.cost_of(version.model, int(per_unit), version.max_tokens)
    max_cost = None if one is None else one * len(units)
    settings = get_settings()
    needs = len(units) > settings.prompt_confirm_units or (
        max_cost is not None and max_cost > settings.prompt_confirm_cost)
    return BatchPlan(units=len(units), input_tokens=input_tokens, max_cost=max_cost,
                     needs_confirmation=needs, version=version)


def plan_batch(actor: UserView, request: BatchRequest) -> BatchPlan:
    """How many calls and what they may cost, before anything is sent."""
    caller = require_claude(actor=actor)
    version = templates.get_version(caller, request.template_id)
    return _plan(version, _units(caller, request, version))


def _check_budget(username: str, plan: BatchPlan) -> None:
    usage.check_budget(username)  # already used up: refused
    budget = usage.get_budget(username)
    used = usage.monthly_usage(username)
    if budget.monthly_cost is not None and plan.max_cost is not None:
        left = budget.monthly_cost - used.cost
        if plan.max_cost > left:
            raise BudgetExceeded(
                f"This batch could cost up to ${plan.max_cost:,.2f}, more than the "
                f"${max(left, 0):,.2f} left in your Claude budget this month. Run it on fewer "
                "items or rows, or lower the maximum answer length.")
    if budget.monthly_tokens is not None:
        left_tokens = budget.monthly_tokens - used.tokens
        needed = plan.input_tokens + plan.units * plan.version.max_tokens
        if needed > left_tokens:
            raise BudgetExceeded(
                f"This batch could use up to {needed:,} tokens, more than the "
                f"{max(left_tokens, 0):,} left in your Claude budget this month. Run it on "
                "fewer items or rows, or lower the maximum answer length.")


def start_batch(actor: UserView, request: BatchRequest, *, confirmed: bool = False) -> JobView:
    """Creates the job with its units and hands it to the runner; returns at once."""
    caller = require_claude(actor=actor)
    if not 1 <= request.concurrency <= MAX_CONCURRENCY:
        raise InvalidInput(f"Calls at once must be between 1 and {MAX_CONCURRENCY}.")
    version = templates.get_version(caller, request.template_id)
    units = _units(caller, request, version)
    plan = _plan(version, units)
    if plan.needs_confirmation and not confirmed:
        raise InvalidInput(f"Please confirm the cost first: {plan.cost_sentence}")
    _check_budget(caller.username, plan)
    source = ({"kind": "dataset", **request.rows.model_dump()} if request.rows is not None
              else {"kind": "items", "item_ids": list(dict.fromkeys(request.item_ids))})
    title = f"{version.name} (v{version.version}) × {len(units):,} " + (
        "rows" if request.rows is not None else "items")
    kind = "message_batch" if request.use_message_batches else request.kind
    job = jobs.create_job(caller.username, kind=kind, title=title,
                          template_id=version.template_id, template_version=version.version,
                          model=version.model, concurrency=request.concurrency, source=source,
                          units=units, estimated_cost=(plan.max_cost or 0.0) * (
                              claude.BATCH_DISCOUNT if request.use_message_batches else 1.0))
    get_runner().submit(job.id)
    return job


def cancel(actor: UserView, job_id: int) -> JobView:
    return jobs.request_cancel(actor, job_id)


def retry_failed(actor: UserView, job_id: int) -> JobView:
    """Sends the failed units again (and any that never ran); succeeded ones are kept."""
    caller = require_claude(actor=actor)
    usage.check_budget(caller.username)
    job = jobs.reopen(caller, job_id, failed_too=True)
    get_runner().submit(job.id)
    return job


def resume(actor: UserView, job_id: int) -> JobView:
    """Carries on an interrupted or cancelled batch without repeating finished units."""
    caller = require_claude(actor=actor)
    usage.check_budget(caller.username)
    job = jobs.reopen(caller, job_id, failed_too=False)
    get_runner().submit(job.id)
    return job


def plan_units(version: TemplateVersionView, units: list[UnitInput]) -> BatchPlan:
    """The plan for units gathered elsewhere (an enrichment sends only some rows)."""
    return _plan(version, units)


def check_budget(username: str, plan: BatchPlan) -> None:
    """`BudgetExceeded` if the plan could cost more than is left this month."""
    _check_budget(username, plan)
