"""/v1/prompt-templates, /v1/prompt-runs and /v1/batches: the Prompt lab for scripts.

Thin over services.prompts, which check roles (viewers may read templates but never run
them), budgets and who may see an item, a dataset or a batch before any token is spent; a
run is saved on its item, so only who may change the item (its owner or an admin) adds one.
A batch that is not the caller's is a 404, like a missing one. Claude's work runs off the
event loop; with `stream=true` a single run's answer arrives as server-sent events.
"""

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from services.access.users import UserView
from services.api.auth import Caller
from services.api.downloads import content_disposition
from services.api.problems import CLAUDE_RESPONSES, COMMON_RESPONSES, _response
from services.api.schemas import Page
from services.api.schemas_prompts import (
    BatchIn,
    BatchOut,
    BatchPlanOut,
    OutputFieldOut,
    PromptRunIn,
    PromptRunOut,
    TemplateDetailOut,
    TemplateOut,
    TemplateVersionOut,
    UnitOut,
    UnitStatus,
)
from services.claude import usage
from services.errors import BudgetExceeded, ClaudeUnavailable, NotFound, ResearchDeskError
from services.prompts import batches, item_runs, jobs, results, templates
from services.prompts.batches import BatchRequest
from services.prompts.item_runs import ItemRunView
from services.prompts.sources import RowSelection
from services.prompts.templates import TemplateVersionView, TemplateView

templates_router = APIRouter(prefix="/prompt-templates", tags=["prompt runs"],
                             responses=COMMON_RESPONSES)
runs_router = APIRouter(prefix="/prompt-runs", tags=["prompt runs"],
                        responses=COMMON_RESPONSES | CLAUDE_RESPONSES)
batches_router = APIRouter(prefix="/batches", tags=["prompt runs"],
                           responses=COMMON_RESPONSES | CLAUDE_RESPONSES)

TemplateId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="The template's id.")]
BatchId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="The batch's id.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most 1,000.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
SSE_DOC = {"description": "With `stream=true`: server-sent events `text` ({\"text\": …} "
                          "pieces of the answer), then `run` (the saved run) and `done`; "
                          "`error` ({\"detail\": …}) if Claude failed.",
           "content": {"text/event-stream": {"schema": {"type": "string"}}}}
MAX_BATCHES_LISTED = 10_000
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _response(409, "The batch is in a state where this cannot be done (already "
                        "finished, or still running).")}


# --- templates ---------------------------------------------------------------------------

def _version_out(view: TemplateVersionView) -> TemplateVersionOut:
    return TemplateVersionOut(
        version=view.version, system_prompt=view.system_prompt, body=view.body,
        variables=view.variables, model=view.model, temperature=view.temperature,
        max_tokens=view.max_tokens,
        output_fields=[OutputFieldOut.model_validate(f.model_dump())
                       for f in view.output_fields],
        created_by=view.created_by, created_at=view.created_at)


def _template_out(view: TemplateView) -> dict[str, Any]:
    return {"id": view.id, "name": view.name, "owner": view.owner,
            "current_version": view.current_version,
            "versions": list(range(1, view.current_version + 1)),
            "created_at": view.created_at, "updated_at": view.updated_at,
            "latest": _version_out(view.latest)}


@templates_router.get("", summary="List the team's prompt templates",
                      response_model=Page[TemplateOut])
def list_templates(user: Caller, limit: Limit = 50, offset: Offset = 0) -> Page[TemplateOut]:
    """Newest edit first, each with its latest version: text, `{variables}`, model, settings
    and output shape. Everyone may read and run them; their owners and admins edit."""
    found = templates.list_templates(user)
    page = [TemplateOut.model_validate(_template_out(t)) for t in found[offset:offset + limit]]
    return Page[TemplateOut](items=page, total=len(found), limit=limit, offset=offset)


@templates_router.get("/{template_id}", summary="One prompt template with every version",
                      response_model=TemplateDetailOut)
def get_template(user: Caller, template_id: TemplateId) -> TemplateDetailOut:
    history = templates.list_versions(user, template_id)  # NotFound if missing or removed
    latest = history[0]
    found = next((t for t in templates.list_templates(user) if t.id == template_id), None)
    if found is None:  # removed between the two reads
        raise NotFound("That prompt template does not exist (it may have been removed).")
    return TemplateDetailOut.model_validate(
        {**_template_out(found.model_copy(update={"latest": latest})),
         "versions": sorted(v.version for v in history),
         "history": [_version_out(v) for v in history]})


# --- single runs -----------------------------------------------------------------------

def _run_out(run: ItemRunView) -> PromptRunOut:
    return PromptRunOut.model_validate({**run.model_dump(), "batch_id": run.job_id})


def _saved_run(user: UserView, body: PromptRunIn, after_id: int) -> PromptRunOut:
    """The run just saved on the item by this person with this template."""
    for run in item_runs.runs_for_item(user, body.item_id):
        if (run.id > after_id and run.created_by == user.username
                and run.template_id == body.template_id):
            return _run_out(run)
    raise ClaudeUnavailable("The run did not finish; nothing was saved. Please try again.")


def _last_run_id(user: UserView, item_id: int) -> int:
    runs = item_runs.runs_for_item(user, item_id)
    return runs[0].id if runs else 0


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def _run_whole(user: UserView, body: PromptRunIn) -> PromptRunOut:
    before = _last_run_id(user, body.item_id)
    chunks = item_runs.run_on_item(user, body.template_id, body.item_id)
    try:
        for _ in chunks:
            pass
    except ClaudeUnavailable:
        pass  # the failed run is saved with its reason; it is what comes back
    return _saved_run(user, body, before)


def _stream(user: UserView, body: PromptRunIn, before: int,
            chunks: Iterator[str]) -> Iterator[str]:
    try:
        for chunk in chunks:
            yield _event("text", {"text": chunk})
    except (ClaudeUnavailable, BudgetExceeded) as error:
        yield _event("error", {"detail": str(error)})
    try:
        run = _saved_run(user, body, before)
    except ResearchDeskError as error:
        yield _event("error", {"detail": str(error)})
        yield _event("done", {"status": "failed"})
        return
    yield _event("run", run.model_dump(mode="json"))
    yield _event("done", {"status": run.status})


@runs_router.post("", summary="Run a template once on a research item", status_code=201,
                  response_model=PromptRunOut,
                  responses={201: SSE_DOC | {"model": PromptRunOut,
                                              "description": "The saved run."}})
async def run_template(user: Caller, body: PromptRunIn) -> Any:
    """The template filled with the item's fields is sent to Claude; the answer is saved on
    the item as a run with its usage, latency, model and template version — also when it
    fails (then `status` is `failed` and `error` says why). The item's owner (an analyst)
    or an admin only: anyone else who reads the item gets 403. The budget is checked before
    any token is spent."""
    if body.stream:
        before = await run_in_threadpool(_last_run_id, user, body.item_id)
        chunks = await run_in_threadpool(item_runs.run_on_item, user, body.template_id,
                                         body.item_id)
        # a used-up budget is a 403 before the stream starts, as without streaming
        await run_in_threadpool(usage.check_budget, user.username)
        return StreamingResponse(_stream(user, body, before, chunks),
                                 media_type="text/event-stream", status_code=201,
                                 headers={"Cache-Control": "no-store"})
    return await run_in_threadpool(_run_whole, user, body)


@runs_router.get("", summary="The prompt runs saved on a research item",
                 response_model=Page[PromptRunOut])
def list_runs(user: Caller,
              item_id: Annotated[int, Query(ge=1, le=2**31 - 1,
                                            description="The research item's id.")],
              limit: Limit = 50, offset: Offset = 0) -> Page[PromptRunOut]:
    """Newest first; anyone who may read the item may read its runs."""
    runs = item_runs.runs_for_item(user, item_id)
    return Page[PromptRunOut](items=[_run_out(r) for r in runs[offset:offset + limit]],
                              total=len(runs), limit=limit, offset=offset)


# --- batches -----------------------------------------------------------------------------

def _request(body: BatchIn) -> BatchRequest:
    rows = RowSelection(**body.rows.model_dump()) if body.rows is not None else None
    return BatchRequest(template_id=body.template_id, item_ids=list(body.item_ids), rows=rows,
                        concurrency=body.concurrency,
                        use_message_batches=body.use_message_batches)


def _batch_out(user: UserView, batch_id: int) -> BatchOut:
    progress = jobs.progress(user, batch_id)
    job = progress.job
    return BatchOut(
        # "finishing" (an enrichment making its version) is still running to a client
        id=job.id, title=job.title, kind=job.kind,
        status="running" if job.status == "finishing" else job.status,  # type: ignore[arg-type]
        owner=job.owner, template_id=job.template_id, template_version=job.template_version,
        model=job.model, concurrency=job.concurrency, total_units=job.total_units,
        done=progress.done, failed=progress.failed, cancelled=progress.cancelled,
        remaining=progress.remaining, spend=progress.spend,
        estimated_cost=job.estimated_cost, elapsed_s=progress.elapsed_s,
        eta_s=progress.eta_s, is_interrupted=progress.is_interrupted, message=job.message,
        created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at)


def _plan(user: UserView, body: BatchIn) -> BatchPlanOut:
    plan = batches.plan_batch(user, _request(body))
    return BatchPlanOut(units=plan.units, input_tokens=plan.input_tokens,
                        max_cost=plan.max_cost, needs_confirmation=plan.needs_confirmation,
                        detail=plan.cost_sentence, template_id=plan.version.template_id,
                        template_version=plan.version.version, model=plan.version.model)


def _start(user: UserView, body: BatchIn) -> BatchOut:
    job = batches.start_batch(user, _request(body), confirmed=body.confirm)
    return _batch_out(user, job.id)


@batches_router.post("/plan", summary="Plan a batch: how many calls and what they may cost",
                     response_model=BatchPlanOut)
async def plan_batch(user: Caller, body: BatchIn) -> BatchPlanOut:
    """Nothing is sent to Claude but a token count of a few filled-in prompts. When
    `needs_confirmation` is true, start the batch with `confirm: true`."""
    return await run_in_threadpool(_plan, user, body)


@batches_router.post("", summary="Start a batch over items or dataset rows", status_code=202,
                     response_model=BatchOut)
async def start_batch(user: Caller, body: BatchIn) -> BatchOut:
    """Runs in the background; read its progress at /v1/batches/{id}. A batch the plan says
    needs confirming is refused (422, with the cost) until sent with `confirm: true`; one
    that could exceed the monthly budget is refused (403) before any token is spent."""
    return await run_in_threadpool(_start, user, body)


@batches_router.get("", summary="My batches", response_model=Page[BatchOut])
def list_batches(user: Caller, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 offset: Offset = 0) -> Page[BatchOut]:
    """Newest first."""
    found = jobs.list_jobs(user, limit=MAX_BATCHES_LISTED)
    page = [_batch_out(user, j.id) for j in found[offset:offset + limit]]
    return Page[BatchOut](items=page, total=len(found), limit=limit, offset=offset)


@batches_router.get("/{batch_id}", summary="A batch's progress", response_model=BatchOut)
def get_batch(user: Caller, batch_id: BatchId) -> BatchOut:
    """Done, failed and remaining units, elapsed and estimated time left, spend so far."""
    return _batch_out(user, batch_id)


@batches_router.get("/{batch_id}/units", summary="A batch's units and their results",
                    response_model=Page[UnitOut])
def list_units(user: Caller, batch_id: BatchId, status: UnitStatus | None = None,
               limit: Limit = 100, offset: Offset = 0) -> Page[UnitOut]:
    """In the order they were chosen; `status` keeps only units in that state."""
    units = jobs.list_units(user, batch_id, status=status)
    page = [UnitOut.model_validate({**u.model_dump(), "key": u.unit_key})
            for u in units[offset:offset + limit]]
    return Page[UnitOut](items=page, total=len(units), limit=limit, offset=offset)


@batches_router.get("/{batch_id}/results.csv", summary="A batch's results as CSV",
                    response_class=Response,
                    responses={200: {"description": "The results table, as the Prompt lab "
                                                    "downloads it.",
                                     "content": {"text/csv": {"schema": {"type": "string"}}}}})
def download_results(user: Caller, batch_id: BatchId,
                     status: UnitStatus | None = None) -> Response:
    """Input, status, answer (one column per output field), tokens, seconds, cost and
    error; spreadsheet formulas in the text are neutralised."""
    content = results.results_csv(jobs.list_units(user, batch_id, status=status))
    return Response(content, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": content_disposition(f"batch-{batch_id}-results.csv")})


@batches_router.post("/{batch_id}/cancel", summary="Cancel a batch", response_model=BatchOut,
                     responses=CONFLICT)
def cancel_batch(user: Caller, batch_id: BatchId) -> BatchOut:
    """Calls under way finish and are saved; no new ones start."""
    batches.cancel(user, batch_id)
    return _batch_out(user, batch_id)


@batches_router.post("/{batch_id}/retry-failed", summary="Send a batch's failed units again",
                     status_code=202, response_model=BatchOut, responses=CONFLICT)
def retry_failed(user: Caller, batch_id: BatchId) -> BatchOut:
    """Failed units (and any that never ran) go again; succeeded ones are kept."""
    batches.retry_failed(user, batch_id)
    return _batch_out(user, batch_id)
