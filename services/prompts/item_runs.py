"""A template run once on a research item: the answer streams in and is saved on the item
as a run, with its usage, latency, model and the template version it used.

Saving a run changes the item (every reader sees it, and its `updated_at` moves), so only
someone who may change the item runs on it (services.access.item_access); anyone who may
read it reads its runs."""

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from services.access import item_access
from services.access.caller_checks import require_claude
from services.access.item_access import OwnedItem
from services.access.permissions import can
from services.access.users import UserView
from services.claude.client import CallUsage
from services.errors import ClaudeUnavailable
from services.prompts import calls, sources, templates
from services.prompts.calls import CallResult
from services.prompts.templates import TemplateVersionView
from services.research.items import load_editable, load_readable
from services.store.db import session_scope
from services.store.models import ItemRun, utcnow

FEATURE = "prompt.single"
WHO_MAY_RUN = "Only the item's owner or an admin can run a template on it."


class ItemRunView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    template_id: int | None
    template_version: int | None
    job_id: int | None
    model: str
    status: str
    prompt: str
    output: str
    fields: dict[str, Any] | None
    input_tokens: int
    output_tokens: int
    cost_estimate: float
    latency_ms: float
    error: str | None
    created_by: str
    created_at: datetime


def _values(actor: UserView, version: TemplateVersionView, item_id: int) -> dict[str, str]:
    templates.check_variables(version.body, sources.ITEM_VARIABLES)
    return sources.item_inputs(actor, [item_id])[0].values


def preview_on_item(actor: UserView, template_id: int, item_id: int) -> calls.Preview:
    version = templates.get_version(actor, template_id)
    return calls.preview(version, _values(actor, version, item_id))


def can_run_on_item(actor: UserView, item: OwnedItem) -> bool:
    """Whether to offer “Run on this item”: the role may use Claude and the item is one this
    person may change (what `run_on_item` checks)."""
    return can(actor.role, "use_claude") and item_access.can_change(actor, item)


def _require_item_change(actor: UserView, item_id: int) -> None:
    with session_scope() as session:
        load_editable(session, actor, item_id)


def save_run(actor: UserView, item_id: int, version: TemplateVersionView, result: CallResult,
             *, job_id: int | None = None) -> ItemRunView:
    with session_scope(write=True) as session:
        item = load_editable(session, actor, item_id)
        row = ItemRun(item_id=item_id, template_id=version.template_id,
                      template_version=version.version, job_id=job_id, model=result.model,
                      status=result.status, prompt=result.prompt, output=result.output,
                      fields=result.fields, input_tokens=result.input_tokens,
                      output_tokens=result.output_tokens, cost_estimate=result.cost_estimate,
                      latency_ms=result.latency_ms, error=result.error,
                      created_by=actor.username, created_at=utcnow())
        session.add(row)
        item.updated_at = utcnow()
        session.flush()
        return ItemRunView.model_validate(row)


def run_on_item(actor: UserView, template_id: int, item_id: int,
                cancel_event: threading.Event | None = None) -> Iterator[str]:
    """Chunks of the answer as Claude writes them; the run is saved when the answer ends
    (or fails: a failed run is saved too, with its reason). Checks happen before the call:
    the role may use Claude, and the item is one this person may change."""
    caller = require_claude(actor=actor)
    _require_item_change(caller, item_id)
    version = templates.get_version(caller, template_id)
    values = _values(caller, version, item_id)
    if version.output_fields:
        return _structured(caller, version, values, item_id)
    return _streamed(caller, version, values, item_id, cancel_event)


def _structured(actor: UserView, version: TemplateVersionView, values: dict[str, str],
                item_id: int) -> Iterator[str]:
    result = calls.run_prompt(actor.username, version, values, feature=FEATURE)
    save_run(actor, item_id, version, result)
    if result.status != "succeeded":
        raise ClaudeUnavailable(result.error or "The run failed.")
    yield "\n".join(f"- **{k}**: {v}" for k, v in (result.fields or {}).items())


def _streamed(actor: UserView, version: TemplateVersionView, values: dict[str, str],
              item_id: int, cancel_event: threading.Event | None) -> Iterator[str]:
    sink: list[CallUsage] = []
    prompt = calls.messages_for(version, values)[0]["content"]
    chunks = calls.stream_prompt(actor.username, version, values, feature=FEATURE, sink=sink,
                                 cancel_event=cancel_event)
    parts: list[str] = []
    started = time.perf_counter()
    error: str | None = None
    try:
        for chunk in chunks:
            parts.append(chunk)
            yield chunk
    except ClaudeUnavailable as failure:
        error = str(failure)
        raise
    finally:
        used = sink[-1] if sink else None
        status = used.status if used else ("failed" if error else "cancelled")
        result = CallResult(
            status=status, model=used.model if used else version.model, prompt=prompt,
            output="".join(parts), input_tokens=used.input_tokens if used else 0,
            output_tokens=used.output_tokens if used else 0,
            cost_estimate=(used.cost_estimate or 0.0) if used else 0.0,
            latency_ms=used.latency_ms if used else (time.perf_counter() - started) * 1000,
            error=error or (used.error if used else None))
        save_run(actor, item_id, version, result)


def runs_for_item(user: UserView, item_id: int) -> list[ItemRunView]:
    """The prompt runs saved on an item, newest first (anyone who may see the item)."""
    with session_scope() as session:
        load_readable(session, user, item_id)
        rows = session.scalars(select(ItemRun).where(ItemRun.item_id == item_id)
                               .order_by(ItemRun.id.desc()))
        return [ItemRunView.model_validate(r) for r in rows]


def fields_text(run: ItemRunView) -> str:
    if run.fields:
        return "; ".join(f"{k}: {v}" for k, v in run.fields.items())
    return run.output if run.output else json.dumps(run.fields or {})
