"""A saved insight drawn again: its chart from the stored ChartSpec and data snapshot.

Pure (no streamlit), so exports and tests use it too. An Explore chart is redrawn from the
rows services.reports.insight_rows picks: its snapshot when the snapshot holds every mark;
otherwise its dataset version (the same immutable file) if it still exists; otherwise only
its table is shown, and it says why.
An Ask answer's chart is redrawn from its result rows with Ask's own chart builder.
"""

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from pydantic import BaseModel, ConfigDict

from services.charts.aggregate import ChartData
from services.charts.ask_chart import build_chart
from services.charts.chart_figure import build_figure, summarize
from services.charts.spec import ChartSpec
from services.reports.insight_rows import InsightRows, chart_rows
from services.research.insights import InsightCard, stored_chart_spec

DATA_GONE = ("The dataset behind this was deleted, so it is shown from the copy of the data "
             "saved with it.")


class DrawnInsight(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    figure: go.Figure | None
    summary: str
    note: str = ""
    table: pd.DataFrame
    question: str | None = None
    sql: str | None = None
    answer: str | None = None


chart_spec = stored_chart_spec


def explore_insight_spec(spec: ChartSpec, data: ChartData, shown_rows: int) -> dict[str, Any]:
    """What Explore stores with a saved chart: the spec plus the facts needed to draw it
    again from its snapshot (column labels, bar widths, how many marks it had)."""
    return {**spec.model_dump(mode="json"),
            "drawn": {"labels": data.labels, "bin_widths": data.bin_widths,
                      "rows_in": data.rows_in, "marks": shown_rows, "note": data.note}}


def _chart(card: InsightCard, rows: InsightRows) -> DrawnInsight:
    spec = chart_spec(card.spec)
    notes = [DATA_GONE] if card.is_data_gone else []
    if spec is None:
        return DrawnInsight(figure=None, summary=card.summary, table=rows.frame,
                            note=" ".join([*notes, "This chart's settings could not be read, "
                                           "so only its data is shown."]))
    data = rows.chart
    if data is None:
        notes.append("Only the data saved with this chart is left, so it is shown as a table.")
        return DrawnInsight(figure=None, summary=card.summary, table=rows.frame,
                            note=" ".join(notes))
    figure = build_figure(data, spec, title=card.title)
    return DrawnInsight(figure=figure, summary=card.summary or summarize(data, spec),
                        note=" ".join([*notes, data.note]).strip(),
                        table=data.display_frame())


def _answer(card: InsightCard) -> DrawnInsight:
    frame = card.snapshot_frame()
    spec = chart_spec(card.spec.get("chart"))
    figure = None
    summary = card.summary
    notes = [DATA_GONE] if card.is_data_gone else []
    if spec is not None and not frame.empty:
        try:
            drawn = build_chart(frame, spec)
            figure, summary = drawn.figure, drawn.summary
            notes.append(drawn.note)
        except (KeyError, ValueError, TypeError):
            notes.append("The chart could not be drawn from the saved rows; the table shows "
                         "them.")
    rows = card.spec.get("row_count")
    if isinstance(rows, int) and rows > len(frame):
        notes.append(f"The first {len(frame):,} of {rows:,} result rows were saved.")
    return DrawnInsight(figure=figure, summary=summary, table=frame,
                        note=" ".join(n for n in notes if n),
                        question=str(card.spec.get("question") or card.title),
                        sql=card.spec.get("sql"), answer=card.summary)


def draw(card: InsightCard, rows: InsightRows | None = None) -> DrawnInsight:
    """The figure (or None), its one-sentence summary, notes and the table to show.
    `rows`: the insight's rows when the caller has them already (an export)."""
    if card.kind == "answer":
        return _answer(card)
    return _chart(card, rows or chart_rows(card))
