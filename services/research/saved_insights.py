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
from services.data import snapshots
from services.data.dataset_checks import require_dataset
from services.errors import InvalidInput
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
