"""Which rows an export uses for one saved chart or answer, and the one sentence that says
exactly which rows they are and why.

A chart is saved with at most a thousand rows (and a megabyte). When that cut rows away and
its dataset version still exists, exports compute the chart again from that version (an
immutable file, so the same numbers) and use every row; only when the data is deleted or
not shared do they use the saved rows, and then they say which those are.
"""

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from services.charts import where
from services.charts.aggregate import ChartData
from services.charts.spec import ChartSpec
from services.data import display_text
from services.errors import ResearchDeskError
from services.research.insights import InsightCard, stored_chart_spec
from services.research.saved_insights import CUT_SAMPLE, snapshot_cap
from services.settings import get_settings


class InsightRows(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    frame: pd.DataFrame  # with the names people see: what tables and data files show
    sentence: str  # which rows these are, and why
    chart: ChartData | None = None  # a chart's data in Explore's shape, to draw it
    from_version: bool = False  # computed again from the dataset version


def _from_snapshot(frame: pd.DataFrame, spec: ChartSpec, drawn: dict[str, Any],
                   ) -> ChartData | None:
    """The chart's data from its saved rows, when they hold every mark it had."""
    labels = drawn.get("labels") or {}
    if not labels or len(frame) < int(drawn.get("marks") or 0):
        return None
    inverse = {label: name for name, label in labels.items()}
    internal = frame.rename(columns=inverse)
    if "x" not in internal and {"bin_start", "bin_end"} <= set(internal.columns):
        internal["x"] = (internal["bin_start"] + internal["bin_end"]) / 2  # a histogram bar
    if spec.chart_type == "histogram" and "rows" not in internal and "value" in internal:
        internal["rows"] = internal["value"]  # a histogram's bar height is its row count
    if spec.bucket and "x" in internal:
        internal["x"] = pd.to_datetime(internal["x"], errors="coerce")
    return ChartData(frame=internal, mark_count=len(internal), rows_in=int(drawn.get("rows_in")
                                                                           or 0),
                     labels=labels, bin_widths=drawn.get("bin_widths") or {},
                     note=str(drawn.get("note") or ""))


def _from_version(card: InsightCard, spec: ChartSpec) -> ChartData | None:
    """A file version never changes, so its chart is computed again; a live table is not
    read again (it may have changed: the item keeps the numbers it saved)."""
    if card.live is not None or not card.parquet_path or not Path(card.parquet_path).is_file():
        return None
    try:
        return where.chart_at(Path(card.parquet_path), spec)
    except ResearchDeskError:
        return None


def _count(n: int, what: str = "row") -> str:
    return f"{display_text.number(n)} {what}{'' if n == 1 else 's'}"


def _why_saved(saved: int) -> str:
    """Why a chart kept only some rows: the rows cap, or else the bytes cap."""
    cap = snapshot_cap()
    if saved >= cap:
        return f"an item keeps at most {_count(cap)} of a chart"
    megabytes = display_text.number(get_settings().snapshot_max_bytes / 1_000_000)
    return f"an item keeps at most {megabytes} MB of a chart's data"


def _which_saved(saved: int, total: int, drawn: dict[str, Any]) -> str:
    """“a random sample of 1,000 of its 1,704 rows” or, for charts saved before samples,
    “the first 1,000 of its 1,704 rows in the chart's order”."""
    if drawn.get("saved_cut") == CUT_SAMPLE:
        return f"a random sample of {display_text.number(saved)} of its {_count(total)}"
    return f"the first {display_text.number(saved)} of its {_count(total)} in the chart's order"


def _version_name(card: InsightCard) -> str:
    name = f"“{card.dataset_name}”" if card.dataset_name else "its dataset"
    return f"{name} version {card.data_version}" if card.data_version else name


def _why_not_again(card: InsightCard) -> str:
    if card.is_data_gone:
        return "its dataset was deleted, so the rest cannot be computed again"
    if card.live is not None:  # the table may have changed since: the item keeps its numbers
        return (f"it was read from {card.live.label}, which is not read again, so the item "
                "stays as it was saved")
    if card.dataset_id is not None and card.parquet_path is None:
        return "its dataset is not shared with you, so the rest cannot be computed again"
    return "its data could not be read again, so the rest cannot be computed"


def chart_rows(card: InsightCard) -> InsightRows:
    saved = card.snapshot_frame()
    spec = stored_chart_spec(card.spec)
    drawn = dict(card.spec.get("drawn") or {})
    total = int(drawn.get("marks") or 0)
    note = str(drawn.get("note") or "")
    if spec is None:
        return InsightRows(frame=saved, sentence=f"The {_count(len(saved))} saved with the "
                           "chart (its settings could not be read).")
    data = _from_snapshot(saved, spec, drawn)
    if data is not None:
        sentence = f"All {_count(len(saved))} of the chart's data, as saved with it."
        return InsightRows(frame=saved, sentence=f"{sentence} {note}".strip(), chart=data)
    data = _from_version(card, spec)
    if data is not None:
        frame = data.display_frame()
        sentence = (f"All {_count(len(frame))} of the chart's data, computed again from "
                    f"{_version_name(card)}, because the item saved only "
                    f"{_which_saved(len(saved), total or len(frame), drawn)} "
                    f"({_why_saved(len(saved))}).")
        return InsightRows(frame=frame, sentence=f"{sentence} {data.note}".strip(),
                           chart=data, from_version=True)
    if total > len(saved):
        which = _which_saved(len(saved), total, drawn)
        sentence = (f"{which[0].upper()}{which[1:]}, as saved with the chart "
                    f"({_why_saved(len(saved))}); {_why_not_again(card)}.")
    else:
        sentence = f"The {_count(len(saved))} saved with the chart."
    return InsightRows(frame=saved, sentence=f"{sentence} {note}".strip())


def answer_rows(card: InsightCard) -> InsightRows:
    saved = card.snapshot_frame()
    total = card.spec.get("row_count")
    if isinstance(total, int) and total > len(saved):
        sentence = (f"The first {display_text.number(len(saved))} of the answer's "
                    f"{_count(total, 'result row')}: only these were saved with it.")
    else:
        sentence = f"All {_count(len(saved), 'result row')} of the answer."
    return InsightRows(frame=saved, sentence=sentence)


def insight_rows(card: InsightCard) -> InsightRows:
    """The rows an export shows and ships for one insight, with the sentence about them."""
    return answer_rows(card) if card.kind == "answer" else chart_rows(card)
