"""Saving a chart or an answer to a research item, with a capped snapshot of its data.

Explore, Ask and the Prompt lab save their work here; listing, ordering and removing the
insights of an item is services.research.insights, the items themselves services.research.items.
"""

from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from services.access.permissions import require
from services.access.users import UserView
from services.data import datasets, display_text, snapshots
from services.data.dataset_checks import require_dataset
from services.data.datasets import LiveWhere
from services.errors import InvalidInput, NotFound
from services.research import items as item_rules
from services.settings import get_settings
from services.store.db import session_scope
from services.store.models import Insight, utcnow

MAX_SNAPSHOT_ROWS = 1_000
CHART_SAMPLE_SEED = 42  # a chart cut to fit is a random sample, the same one every time
CUT_SAMPLE = "sample"  # how a chart's saved rows were cut (stored in its spec's "drawn")


class InsightView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    kind: str
    title: str
    summary: str
    spec: dict
    data_snapshot: list
    dataset_id: int | None
    dataset_version: int | None
    created_by: str
    created_at: datetime


class NewInsight(BaseModel):
    item_id: int
    kind: str  # "chart" | "answer"
    title: str
    summary: str = ""
    spec: dict[str, Any]
    dataset_id: int | None = None
    dataset_version: int | None = None
    read_at: datetime | None = None  # a live dataset: when its numbers were read


def live_sentence(where: str, read_at: datetime) -> str:
    """Where a live dataset's saved numbers came from and when, in words."""
    moment = display_text.moment(read_at, with_time=True, seconds=False)
    return (f"Read from {where} on {moment}; these numbers are kept as they were then, even "
            "if the table changes.")


def live_facts(spec: dict[str, Any]) -> dict[str, Any] | None:
    """Where and when a saved insight's live numbers were read (None: not from a live
    table): "where" (“public.penguins in warehouse”), "read_at" (ISO), source and table."""
    drawn = spec.get("drawn")
    facts = drawn.get("live") if isinstance(drawn, dict) else spec.get("live")
    return facts if isinstance(facts, dict) else None


def _live_where(actor: UserView, dataset_id: int | None) -> LiveWhere | None:
    """Where a live dataset lives; None for a file dataset, no dataset or one not visible
    (require_dataset then says so)."""
    if dataset_id is None:
        return None
    try:
        return datasets.get_dataset(actor, dataset_id).live
    except NotFound:
        return None


def _with_live(insight: NewInsight, live: LiveWhere) -> NewInsight:
    """A live dataset has no versions and its table changes: the insight names no version,
    its spec records where and when the saved numbers were read, and its summary says so."""
    read_at = insight.read_at or utcnow()
    facts = {"where": live.label, "source_id": live.source_id, "schema": live.schema_name,
             "table": live.table_name, "read_at": read_at.isoformat()}
    spec = dict(insight.spec)
    if isinstance(spec.get("drawn"), dict):  # a chart's spec is a ChartSpec plus "drawn"
        spec["drawn"] = {**spec["drawn"], "live": facts}
    else:
        spec["live"] = facts
    summary = " ".join(p for p in (insight.summary.strip(),
                                   live_sentence(live.label, read_at)) if p)
    return insight.model_copy(update={"dataset_version": None, "spec": spec,
                                      "summary": summary, "read_at": read_at})


def snapshot_cap() -> int:
    """Rows at most saved with a chart or an answer (the bytes cap may keep fewer)."""
    return min(MAX_SNAPSHOT_ROWS, get_settings().snapshot_max_rows)


def _snapshot(insight: NewInsight, frame: pd.DataFrame,
              ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """JSON-safe rows (dates as ISO text, NaN as null), capped in rows and bytes so an item
    stays small, and the spec to store. A chart cut to fit keeps a random sample, and its
    spec says so, so exports can say exactly which rows were saved; an answer keeps its
    first rows (the order its SQL asked for)."""
    is_chart = insight.kind == "chart"
    records = snapshots.snapshot_records(frame, max_rows=snapshot_cap(),
                                         sample_seed=CHART_SAMPLE_SEED if is_chart else None)
    spec = dict(insight.spec)
    if len(records) < len(frame):
        if is_chart and isinstance(spec.get("drawn"), dict):
            spec["drawn"] = {**spec["drawn"], "saved_cut": CUT_SAMPLE}
        elif not is_chart:  # a batch's results name no count of their own
            spec.setdefault("row_count", len(frame))
    return records, spec


def save_insight(actor: UserView, insight: NewInsight, data: pd.DataFrame) -> InsightView:
    require(actor.role, "save_insight")
    live = _live_where(actor, insight.dataset_id)
    if live is not None:
        insight = _with_live(insight, live)
    require_dataset(actor, insight.dataset_id, insight.dataset_version)
    for dataset_id in insight.spec.get("dataset_ids") or []:  # an answer over several datasets
        require_dataset(actor, int(dataset_id))
    if not insight.title.strip():
        raise InvalidInput("Give the saved chart or answer a title.")
    rows, spec = _snapshot(insight, data)
    with session_scope(write=True) as session:
        item = item_rules.load_editable(session, actor, insight.item_id)
        last = session.scalar(select(func.max(func.coalesce(Insight.position, 0)))
                              .where(Insight.item_id == item.id))
        row = Insight(
            item_id=item.id,
            kind=insight.kind,
            title=insight.title.strip()[:300],
            summary=insight.summary,
            spec=spec,
            data_snapshot=rows,
            dataset_id=insight.dataset_id,
            dataset_version=insight.dataset_version,
            created_by=actor.username,
            created_at=utcnow(),
            position=int(last or 0) + 1,
        )
        session.add(row)
        item.updated_at = utcnow()
        session.flush()
        return InsightView.model_validate(row)
