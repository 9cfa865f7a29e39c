"""The board's filter bar across its tiles, and a chart selection as a filter.

A filter on the bar names a column and its kind; it applies to a tile whose dataset has a
column of that name and kind, and is ignored (said in one sentence) otherwise.
"""

from typing import Any

from pydantic import BaseModel, Field

from services.charts.spec import Filter

KIND_WORDS = {"number": "a number", "text": "text", "date": "a date", "boolean": "yes/no"}


class BarFilter(BaseModel):
    filter: Filter
    kind: str  # "number" / "text" / "date" / "boolean", as column_kinds says


class TileFilters(BaseModel):
    applied: list[Filter] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)  # the filtered columns' names
    sentence: str = ""


def _names(names: list[str]) -> str:
    quoted = [f"“{n}”" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def filters_for_tile(bar: list[BarFilter], columns: dict[str, str]) -> TileFilters:
    """Which of the bar's filters a tile with these columns (name → kind) uses."""
    out = TileFilters()
    for entry in bar:
        if columns.get(entry.filter.column) == entry.kind:
            out.applied.append(entry.filter)
        elif entry.filter.column not in out.ignored:
            out.ignored.append(entry.filter.column)
    if not bar:
        return out
    if not out.ignored:
        out.sentence = "Every filter on the board applies to this tile."
    else:
        noun = "filter" if len(out.ignored) == 1 else "filters"
        out.sentence = (f"This tile ignores the {noun} on {_names(out.ignored)}: its data has "
                        "no column of that name and kind.")
    return out


def filters_for_tiles(bar: list[BarFilter],
                      tile_columns: dict[int, dict[str, str]]) -> dict[int, TileFilters]:
    """Tile id → the filters it uses and the sentence on those it ignores."""
    return {tile_id: filters_for_tile(bar, columns) for tile_id, columns in tile_columns.items()}


def _selection(event: Any) -> dict[str, Any]:  # noqa: ANN401 - Streamlit's event object
    """`st.plotly_chart(on_select="rerun")` returns {"selection": {"points", "box", "lasso",
    "point_indices"}}; accept that event or its "selection" alone."""
    if not isinstance(event, dict):
        event = dict(event) if event else {}
    selection = event.get("selection", event)
    return dict(selection) if selection else {}


def selection_filter(event: Any, column: str, kind: str) -> Filter | None:  # noqa: ANN401
    """The x-axis column filtered to what a person selected on a chart tile: a box on a
    number or date axis becomes a range, clicked bars or points their x values. None
    when nothing is selected."""
    selection = _selection(event)
    boxes = [b for b in selection.get("box") or [] if len(b.get("x") or []) == 2]
    if boxes and kind in ("number", "date"):
        low, high = sorted(boxes[-1]["x"])
        return Filter(column=column, op="between", value=[low, high])
    values: list[Any] = []
    for point in selection.get("points") or []:
        value = point.get("x")
        if value is not None and value not in values:
            values.append(value)
    if not values:
        return None
    if len(values) == 1:
        return Filter(column=column, op="eq", value=values[0])
    return Filter(column=column, op="in", value=values)
