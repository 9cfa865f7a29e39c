"""Large batches through the Message Batches API (half price, results within hours): the
pending units are submitted as one batch, the batch is polled in the background (the id is
kept on the job, so a restart polls the same batch instead of paying again), and results
are saved as they are fetched.

Two ways to wait for a batch: the in-process runner holds a thread until it ends (`run`); a
Celery worker looks once per short task (`check`, see services/prompts/worker.py) and carries
where it stands (`Polling`) to the next one, so no task is held for hours."""

import json
import time

from pydantic import BaseModel

from services.claude import client as claude
from services.claude import usage
from services.errors import ClaudeUnavailable, InvalidInput
from services.prompts import calls, jobs, templates
from services.prompts.calls import CallResult
from services.prompts.templates import TemplateVersionView

FEATURE = "prompt.batch"
POLL_S = 30.0
CHECK_S = 1.0  # a person's cancel reaches the API within this
ROUNDS = 2  # the job's batch, then one for what it left
FIRST_WAIT_S = 1.0  # short checks: the first look again comes this soon, then less often
SAVE_EVERY = 50
OFFERED_FROM_UNITS = 100


def _requests(version: TemplateVersionView, units: list[jobs.UnitView]) -> list[dict]:
    """One request per unit, with the prefixes a direct call caches. Always the 1-hour time
    to live: a batch's requests run in any order over minutes to hours."""
    tool = templates.output_tool(version.output_fields)
    requests = []
    for unit in units:
        system, messages = calls.request_for(version, {k: str(v) for k, v in
                                                       unit.inputs.items()}, long_run=True)
        params: dict = {"model": version.model, "max_tokens": version.max_tokens,
                        "system": system, "messages": messages}
        if version.temperature != 1.0:
            params["temperature"] = version.temperature
        if tool is not None:
            params["tools"] = [tool]
            params["tool_choice"] = {"type": "tool", "name": tool["name"]}
        requests.append({"custom_id": str(unit.id), "params": params})
    return requests


def _result(version: TemplateVersionView, outcome: claude.BatchResult) -> CallResult:
    used = outcome.usage
    base = CallResult(status="failed", model=used.model if used else version.model,
                      input_tokens=used.input_tokens if used else 0,
                      output_tokens=used.output_tokens if used else 0,
                      cache_read_tokens=used.cache_read_tokens if used else 0,
                      cache_write_tokens=used.cache_write_tokens if used else 0,
                      cost_estimate=(used.cost_estimate or 0.0) if used else 0.0, attempts=1)
    if not outcome.is_succeeded:
        return base.model_copy(update={"error": outcome.error})
    if not version.output_fields:
        return base.model_copy(update={"status": "succeeded", "output": outcome.text})
    try:
        fields = templates.check_output(version.output_fields, outcome.tool_input or {})
    except InvalidInput as mismatch:
        return base.model_copy(update={"error": str(mismatch)})
    return base.model_copy(update={"status": "succeeded", "fields": fields,
                                   "output": json.dumps(fields, ensure_ascii=False)})


def run(job: jobs.JobView, version: TemplateVersionView, token: str,
        feature: str = FEATURE) -> tuple[jobs.JobStatus, str] | None:
    """Sends the job's pending units as a batch and saves its results; returns the job's
    (status, sentence) when it stops early, None when every unit has its result. A job that
    already has a batch (a restart, a resume) first collects that one; units it left
    unanswered because it was cancelled go in a new batch."""
    batch_id = job.external_id
    try:
        for _ in range(ROUNDS):
            if not batch_id:
                units = jobs.pending_units(job.id)
                if not units:
                    return None
                batch_id = claude.submit_batch(_requests(version, units)).id
                jobs.set_external_id(job.id, batch_id)
            cancelled = _wait_until_ended(batch_id, job.id, token)
            _save_results(job, version, batch_id, feature)
            if cancelled:
                return "cancelled", jobs.outcome_sentence(job.id)
            batch_id = ""
    except ClaudeUnavailable as error:
        return "failed", (f"{error} The batch can be resumed; results already fetched are "
                          "kept.")
    if jobs.pending_units(job.id):
        return "failed", LEFT_UNSENT
    return None


LEFT_UNSENT = ("Claude's batch service cancelled some calls; resume the batch to send them "
               "again.")


class Polling(BaseModel):
    """Where a job's batch stands between two short checks (a Celery task's arguments)."""

    rounds_left: int = ROUNDS
    collected: str = ""  # a batch whose results are saved: the next check submits a new one
    cancel_sent: bool = False
    next_poll: float = 0.0  # time.time() from which the API is asked again
    wait_s: float = FIRST_WAIT_S  # doubles up to POLL_S: a small batch may end in seconds


def check(job: jobs.JobView, version: TemplateVersionView, token: str, polling: Polling,
          feature: str = FEATURE) -> Polling | tuple[jobs.JobStatus, str] | None:
    """One short look, as `run` does in a loop: beats the heartbeat, submits a batch for the
    pending units when the job has none, passes a person's cancel on, and once the batch has
    ended saves its results. Returns how to carry on (check again soon), the job's (status,
    sentence) when it stops early, or None when every unit has its result. Raises `ClaimLost`
    when another runner took the job."""
    try:
        return _check(job, version, token, polling, feature)
    except ClaudeUnavailable as error:
        return "failed", (f"{error} The batch can be resumed; results already fetched are "
                          "kept.")


def _check(job: jobs.JobView, version: TemplateVersionView, token: str, polling: Polling,
           feature: str) -> Polling | tuple[jobs.JobStatus, str] | None:
    cancel = _beat(job.id, token)
    batch_id = "" if job.external_id == polling.collected else job.external_id
    now = time.time()
    if not batch_id:
        units = jobs.pending_units(job.id)
        if not units:
            return None
        if cancel:
            return "cancelled", jobs.outcome_sentence(job.id)
        if polling.rounds_left <= 0:
            return "failed", LEFT_UNSENT
        jobs.set_external_id(job.id, claude.submit_batch(_requests(version, units)).id)
        return polling  # the next check looks at it
    if cancel and not polling.cancel_sent:
        claude.cancel_batch(batch_id)
        polling = polling.model_copy(update={"cancel_sent": True, "next_poll": now})
    if now < polling.next_poll:
        return polling
    if not claude.batch_status(batch_id).is_ended:
        wait_s = min(POLL_S, polling.wait_s)
        return polling.model_copy(update={"next_poll": now + wait_s, "wait_s": wait_s * 2})
    _save_results(job, version, batch_id, feature)
    if polling.cancel_sent or _beat(job.id, token):
        return "cancelled", jobs.outcome_sentence(job.id)
    if not jobs.pending_units(job.id):
        return None
    return Polling(rounds_left=polling.rounds_left - 1, collected=batch_id)


def _wait_until_ended(batch_id: str, job_id: int, token: str) -> bool:
    """Polls the batch every POLL_S until it has ended, and looks for a cancel every CHECK_S
    meanwhile (then asks the API to cancel the batch). True when the job was cancelled.
    Raises `ClaimLost` when another runner took the job: it collects the same batch."""
    cancelled = False
    while not claude.batch_status(batch_id).is_ended:
        next_poll = time.monotonic() + POLL_S
        while time.monotonic() < next_poll:
            if not cancelled and _beat(job_id, token):
                claude.cancel_batch(batch_id)
                cancelled = True
                break  # a cancelled batch soon ends: look at it again now
            time.sleep(min(CHECK_S, POLL_S))
    return _beat(job_id, token) or cancelled


def _beat(job_id: int, token: str) -> bool:
    """Beats the heartbeat; True when cancelling was asked for."""
    beat = jobs.heartbeat(job_id, token)
    if not beat.owned:
        raise jobs.ClaimLost
    return beat.cancel_requested


def _save_results(job: jobs.JobView, version: TemplateVersionView, batch_id: str,
                  feature: str) -> None:
    """Results as they are read, SAVE_EVERY at a time. A unit that already has a result keeps
    it; one the batch never ran (cancelled) stays pending."""
    results: list[tuple[int, CallResult]] = []
    used: list[claude.CallUsage] = []
    sink = claude.usage_sink()
    for outcome in claude.batch_results(batch_id, user=job.owner, feature=feature):
        if outcome.is_cancelled:
            continue
        results.append((int(outcome.custom_id), _result(version, outcome)))
        if outcome.usage is not None and sink is usage.record_usage:
            used.append(outcome.usage)
        if len(results) >= SAVE_EVERY:
            jobs.save_results(job.id, results, used)
            results, used = [], []
    jobs.save_results(job.id, results, used)
