"""Batch runs as people start them: a template × chosen research items, or × the rows of a
dataset. Role and the size of the bill are checked here, and the batch's maximum is held
against the budget as the job is created (`jobs.create_job`), before any token is spent;
the work itself belongs to the runner."""

from pydantic import BaseModel

from services.access.caller_checks import require_claude
from services.access.users import UserView
from services.claude import client as claude
from services.claude import usage
from services.errors import InvalidInput
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
    max_cost: float | None  # if every answer used its full length (at batch price if so)
    needs_confirmation: bool
    version: TemplateVersionView
    message_batches: bool = False  # priced with the Message Batches discount

    @property
    def cost_sentence(self) -> str:
        if self.max_cost is None:
            return "The cost cannot be estimated for this model."
        price = " (half price, through the Message Batches API)" if self.message_batches else ""
        return (f"{self.units:,} calls, about {self.input_tokens:,} tokens in; at most "
                f"${self.max_cost:,.2f}{price} if every answer used its full length.")

    @property
    def unit_max_tokens(self) -> int:
        """The most one call can use: its input (as estimated) and the longest answer."""
        return -(-self.input_tokens // self.units) + self.version.max_tokens


def _units(actor: UserView, request: BatchRequest,
           version: TemplateVersionView) -> list[UnitInput]:
    if request.rows is not None:
        known = sources.dataset_columns(actor, request.rows.dataset_id, request.rows.version)
        templates.check_variables(version.body, known)
        return sources.row_inputs(actor, request.rows, version.variables)
    templates.check_variables(version.body, sources.ITEM_VARIABLES)
    return sources.item_inputs(actor, request.item_ids)


def _plan(version: TemplateVersionView, units: list[UnitInput], *,
          message_batches: bool = False) -> BatchPlan:
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
    price = claude.BATCH_DISCOUNT if message_batches else 1.0
    max_cost = None if one is None else one * len(units) * price
    settings = get_settings()
    needs = len(units) > settings.prompt_confirm_units or (
        max_cost is not None and max_cost > settings.prompt_confirm_cost)
    return BatchPlan(units=len(units), input_tokens=input_tokens, max_cost=max_cost,
                     needs_confirmation=needs, version=version, message_batches=message_batches)


def plan_batch(actor: UserView, request: BatchRequest) -> BatchPlan:
    """How many calls and what they may cost, before anything is sent."""
    caller = require_claude(actor=actor)
    version = templates.get_version(caller, request.template_id)
    return _plan(version, _units(caller, request, version),
                 message_batches=request.use_message_batches)


def start_batch(actor: UserView, request: BatchRequest, *, confirmed: bool = False) -> JobView:
    """Creates the job with its units and hands it to the runner; returns at once."""
    caller = require_claude(actor=actor)
    if not 1 <= request.concurrency <= MAX_CONCURRENCY:
        raise InvalidInput(f"Calls at once must be between 1 and {MAX_CONCURRENCY}.")
    version = templates.get_version(caller, request.template_id)
    units = _units(caller, request, version)
    plan = _plan(version, units, message_batches=request.use_message_batches)
    if plan.needs_confirmation and not confirmed:
        raise InvalidInput(f"Please confirm the cost first: {plan.cost_sentence}")
    source = ({"kind": "dataset", **request.rows.model_dump()} if request.rows is not None
              else {"kind": "items", "item_ids": list(dict.fromkeys(request.item_ids))})
    title = f"{version.name} (v{version.version}) × {len(units):,} " + (
        "rows" if request.rows is not None else "items")
    kind = "message_batch" if request.use_message_batches else request.kind
    job = jobs.create_job(caller.username, kind=kind, title=title,
                          template_id=version.template_id, template_version=version.version,
                          model=version.model, concurrency=request.concurrency, source=source,
                          units=units, estimated_cost=plan.max_cost or 0.0,
                          unit_max_tokens=plan.unit_max_tokens, what="This batch")
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


def plan_units(version: TemplateVersionView, units: list[UnitInput], *,
               message_batches: bool = False) -> BatchPlan:
    """The plan for units gathered elsewhere (an enrichment sends only some rows)."""
    return _plan(version, units, message_batches=message_batches)
