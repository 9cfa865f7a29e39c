"""Everything an export needs about one item, read once with the reader's access checked.

Exporting is a read: whoever may read an item may export it (viewers included), decided
by `item_access.require_read` through `items.get_item`. The builders in this package are
pure: an `ItemExport` (and optional chart pictures) in, bytes out.
"""

import re
from datetime import datetime

import pandas as pd
from pydantic import BaseModel, ConfigDict

from services.access.users import UserView
from services.data import display_text
from services.reports.insight_rows import InsightRows, insight_rows
from services.research import insights, items
from services.research.insights import InsightCard
from services.research.items import ItemDetail
from services.research.saved_insights import live_facts
from services.store.models import utcnow

TABLE_ROWS = 200  # rows of each insight's data shown in a report (data files hold them all)


class Picture(BaseModel):
    """A chart drawn as a PNG, with the one sentence that describes it (its alt text)."""

    png: bytes
    alt: str


class ItemExport(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    item: ItemDetail
    insights: list[InsightCard]
    rows: dict[int, InsightRows]  # insight id -> the rows every export uses, and why
    exported_by: str
    exported_at: datetime


def load_export(actor: UserView, item_id: int) -> ItemExport:
    """The item and all its insights, in order; `NotFound` if the reader cannot see it."""
    item = items.get_item(actor, item_id)
    cards = insights.list_insights(actor, item_id)
    return ItemExport(item=item, insights=cards, rows={c.id: insight_rows(c) for c in cards},
                      exported_by=actor.username, exported_at=utcnow())


def slug(text: str, *, fallback: str = "item", limit: int = 60) -> str:
    """A title as a safe file name: “Mean of tip by day” → “mean-of-tip-by-day”. Letters
    of any script stay (“umsatz-übersicht-研究”); downloads send them as RFC 6266 names."""
    stem = re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")
    return stem[:limit].strip("-") or fallback


def insight_frame(export: ItemExport, card: InsightCard) -> pd.DataFrame:
    """The rows an export shows and ships for an insight (see services.reports.insight_rows)."""
    return export.rows[card.id].frame


def rows_sentence(export: ItemExport, card: InsightCard) -> str:
    """Exactly which rows those are, and why."""
    return export.rows[card.id].sentence


def kind_label(card: InsightCard) -> str:
    return "Answer from Ask" if card.kind == "answer" else "Chart from Explore"


def read_at(card: InsightCard) -> datetime:
    """When a live insight's numbers were read from their database: the time kept with it
    when it was saved (saved_insights.live_facts), else when it was saved."""
    kept = (live_facts(card.spec) or {}).get("read_at")
    try:
        return datetime.fromisoformat(str(kept)).replace(tzinfo=None) if kept else \
            card.created_at
    except ValueError:
        return card.created_at


def live_line(card: InsightCard, when: str) -> str:
    """“from public.penguins in warehouse, read 6 Dec 2026 10:50” (empty for a file)."""
    return f"from {card.live.label}, read {when}" if card.live is not None else ""


def source_sentence(card: InsightCard) -> str:
    """Where the insight's data came from, in words."""
    if card.is_data_gone:
        return "Its dataset was deleted; the data shown is the copy saved with it."
    if card.live is not None:
        line = live_line(card, display_text.moment(read_at(card), with_time=True,
                                                   seconds=False) + " UTC")
        return (f"Data: {card.dataset_name}, {line}; the numbers are the ones read then, "
                "saved with it.")
    if card.dataset_name:
        version = f", version {card.dataset_version}" if card.dataset_version else ""
        return f"Data: {card.dataset_name}{version}."
    if card.dataset_id is not None:
        return "Data: a dataset that is not shared with you; the copy saved with it is shown."
    return ""
