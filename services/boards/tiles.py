"""What each tile of a board shows, computed: its figure or number, its one-sentence summary,
its data table, which board filters it uses and which version of the data it draws.

A tile reads its dataset where the rows are (services.charts.where: a version's Parquet file
through the one DuckDB door, or a live table in its own database), bounded as Explore is
(at most MAX_MARKS marks, the screen's time limit). A data problem (a removed dataset, a
column gone, a source that is down) never raises: the tile's `problem` says it.
"""

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from services.access.users import UserView
from services.boards import filters, freshness, numbers
from services.boards.filters import BarFilter, TileFilters, filters_for_tile
from services.boards.freshness import TileVersion
from services.boards.models import AnswerTable, BoardView, TileView
from services.boards.numbers import NumberSpec
from services.charts import where
from services.charts.chart_figure import build_figure, default_title, summarize
from services.charts.spec import Bucket, ChartSpec, Filter
from services.charts.where import Place
from services.data import dataset_files, datasets, display_text, live_datasets, live_sample
from services.errors import ResearchDeskError
from services.research.safe_markdown import safe_markdown

MAX_TABLE_ROWS = 500
WORKERS = 2  # two tiles at a time: the DuckDB door and a live source share the machine
NOTE_SUMMARY_CHARS = 200
# chart types whose x axis holds the column's own values, so a selection there filters it
SELECTABLE_X = ("bar", "grouped_bar", "stacked_bar", "line", "area", "scatter", "box")


class TileContent(BaseModel):
    tile_id: int
    kind: str  # "chart" | "number" | "table" | "note"
    title: str
    summary: str  # one plain sentence with its numbers: the alt text, Present's big line
    figure: dict | None = None  # chart tiles: the plotly figure as JSON
    number_text: str = ""  # number tiles: "12,340 orders"
    change_text: str = ""  # number tiles: "+8 % on the previous month" (or "")
    table_columns: list[str] = Field(default_factory=list)
    table_rows: list[list] = Field(default_factory=list)  # ≤ MAX_TABLE_ROWS
    table_note: str = ""  # "Showing 500 of 2,310 rows."
    note_html: str = ""  # note tiles: the sanitised Markdown, as notes are shown
    filters_sentence: str = ""
    version_sentence: str = ""
    x_column: str | None = None  # chart tiles: the column a selection filters
    x_kind: str | None = None
    x_bucket: str | None = None  # dates grouped by day … year: a click means that period
    dataset_id: int | None = None
    problem: str = ""  # one sentence when the tile cannot be drawn; the rest is then empty


class Selection(BaseModel):
    """A cross-filter chip: what a person selected on one chart tile."""

    tile_id: int
    dataset_id: int
    filter: Filter
    label: str  # "species is Adelie"


# --- words ------------------------------------------------------------------------------------


def _value_words(value: Any) -> str:  # noqa: ANN401 - any value a filter holds
    if isinstance(value, str):
        return display_text.moment(value)  # ISO dates read as people write them
    return display_text.cell(value)


def selection_label(selection_filter: Filter) -> str:
    """The chip's words: “species is Adelie”, “day is Sat or Sun”, “bill from 40 to 45”."""
    column, value = selection_filter.column, selection_filter.value
    if selection_filter.op == "between" and isinstance(value, list) and len(value) == 2:
        low, high = value
        if low is None and high is None:
            return f"{column} has a value"
        if low is None:
            return f"{column} up to {_value_words(high)}"
        if high is None:
            return f"{column} from {_value_words(low)}"
        return f"{column} from {_value_words(low)} to {_value_words(high)}"
    if selection_filter.op == "contains":
        return f"{column} contains “{value}”"
    values = value if isinstance(value, list) else [value]
    words = [_value_words(v) for v in values]
    if len(words) > 3:
        words = words[:3] + [f"{len(values) - 3:,} more"]
    joined = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"{column} is {joined}"


def _period_chip(column: str, values: list[Any], bucket: Bucket,  # noqa: ANN401
                 ) -> tuple[Filter, str]:
    """Clicked dates of a chart grouped by `bucket`: the whole periods, and their words."""
    freq = numbers.PERIOD_FREQ[bucket]
    moments = [pd.Timestamp(v) for v in values]
    periods = [pd.Period(m.tz_convert("UTC").tz_localize(None) if m.tzinfo else m, freq)
               for m in moments]
    first, last = min(periods), max(periods)
    chosen = Filter(column=column, op="between",
                    value=[first.start_time.isoformat(),
                           last.end_time.floor("s").isoformat()])
    words = numbers.period_words(first, bucket)
    if last != first:
        return chosen, f"{column} from {words} to {numbers.period_words(last, bucket)}"
    return chosen, f"{column} in {words}"


def selection_from_event(content: TileContent, event: Any) -> Selection | None:  # noqa: ANN401
    """A chart tile's selection (`st.plotly_chart(on_select=...)`'s event) as a chip: its x
    values, or a box's range; a click on dates grouped by month means the whole month.
    None when nothing is selected or the tile's x axis cannot be selected."""
    if content.x_column is None or content.x_kind is None or content.dataset_id is None:
        return None
    chosen = filters.selection_filter(event, content.x_column, content.x_kind)
    if chosen is None:
        return None
    label = selection_label(chosen)
    bucket = content.x_bucket
    if content.x_kind == "date" and bucket in numbers.PERIOD_FREQ and chosen.op in ("eq", "in"):
        values = chosen.value if isinstance(chosen.value, list) else [chosen.value]
        try:
            chosen, label = _period_chip(content.x_column,
                                         [v for v in values if v is not None],
                                         cast(Bucket, bucket))
        except (TypeError, ValueError):  # not dates after all: keep the values as clicked
            pass
    return Selection(tile_id=content.tile_id, dataset_id=content.dataset_id, filter=chosen,
                     label=label)


def _json_value(value: Any) -> Any:  # noqa: ANN401 - a table cell of any type
    """A cell as JSON has it: numbers stay numbers, dates become ISO text, gaps None."""
    if isinstance(value, str):
        return value
    if display_text.is_missing(value):  # None, NaN, NaT, pandas' NA
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp | datetime | date | np.datetime64):
        moment = pd.Timestamp(value)
        return None if moment is pd.NaT else moment.isoformat()
    return str(value)


def table_of(frame: pd.DataFrame) -> tuple[list[str], list[list], str]:
    """Columns, the first MAX_TABLE_ROWS rows as JSON values, and a note when cut."""
    shown = frame.head(MAX_TABLE_ROWS)
    rows = [[_json_value(v) for v in row] for row in shown.itertuples(index=False, name=None)]
    note = (f"Showing {MAX_TABLE_ROWS:,} of {len(frame):,} rows." if len(frame) > MAX_TABLE_ROWS
            else "")
    return [str(c) for c in frame.columns], rows, note


def _plain_text(markdown: str) -> str:
    """A note's words without Markdown marks, for its one-line summary."""
    text = " ".join(markdown.replace("\\", "").split())
    for mark in ("**", "__", "`", "#", "> ", "* ", "- "):
        text = text.replace(mark, "")
    text = text.strip()
    if len(text) > NOTE_SUMMARY_CHARS:
        text = text[:NOTE_SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    return text


# --- where a tile's rows are --------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """A tile's place, its columns and the sentence on which version it draws."""

    place: Place
    kinds: dict[str, str]
    version_sentence: str


@dataclass
class _Reading:
    """What one drawing of a board reads once for all its tiles: each tile's version, and
    each dataset's place and columns (the same for every tile on that dataset and version,
    so eight tiles on one dataset look it up once; threads may both fill one key, which is
    harmless)."""

    versions: dict[int, TileVersion]
    sources: dict[tuple[int, int | None], _Source] = field(default_factory=dict)


def _source(actor: UserView, tile: TileView, reading: _Reading) -> _Source:
    """NotFound (in one sentence) when the dataset or version is gone or not visible."""
    key = (int(tile.dataset_id or 0), tile.dataset_version)
    found = reading.sources.get(key)
    if found is None:
        found = reading.sources[key] = _read_source(actor, tile, reading.versions)
    return found


def _read_source(actor: UserView, tile: TileView, versions: dict[int, TileVersion]) -> _Source:
    dataset_id = int(tile.dataset_id or 0)
    dataset = datasets.get_dataset(actor, dataset_id)
    place: Place
    if dataset.live is not None:
        target = live_datasets.live_target(actor, dataset_id)
        if target is None:  # turned into a file dataset meanwhile: draw its newest version
            place = datasets.get_version(actor, dataset_id, None).parquet_path
            sentence = ""
        else:
            place = target
            sentence = f"Live: {dataset.live.label} · read just now."
    else:
        place = datasets.get_version(actor, dataset_id, tile.dataset_version).parquet_path
        known = versions.get(tile.id)
        sentence = known.sentence if known else (
            "" if tile.dataset_version is None else f"Pinned to version {tile.dataset_version}.")
    return _Source(place=place, kinds=where.kinds_at(place), version_sentence=sentence)


def _selection_filters(tile: TileView, kinds: dict[str, str],
                       selections: list[Selection]) -> list[Filter]:
    """Selections made on the OTHER tiles of this tile's dataset, on columns it has."""
    return [s.filter for s in selections
            if s.dataset_id == tile.dataset_id and s.tile_id != tile.id
            and s.filter.column in kinds]


def _filters_sentence(used: TileFilters, selected: list[Filter]) -> str:
    sentence = used.sentence
    if selected:
        chips = "; ".join(selection_label(f) for f in selected)
        sentence = f"{sentence} Selected on another tile: {chips}.".strip()
    return sentence


# --- each kind ---------------------------------------------------------------------------------


def _chart(actor: UserView, tile: TileView, bar: list[BarFilter], selections: list[Selection],
           reading: _Reading) -> TileContent:
    source = _source(actor, tile, reading)
    spec = ChartSpec.model_validate(tile.spec or {})
    used = filters_for_tile(bar, source.kinds)
    selected = _selection_filters(tile, source.kinds, selections)
    drawn = spec.model_copy(update={"filters": [*spec.filters, *used.applied, *selected]})
    data = where.chart_at(source.place, drawn)
    title = default_title(data, drawn)
    figure = build_figure(data, drawn, title=title)  # text from data is made plain inside
    columns, rows, table_note = table_of(data.display_frame())
    # a number axis drawn as ranges has no value to click: a click would pick one number
    x_column = spec.x if spec.chart_type in SELECTABLE_X and not data.is_binned else None
    return TileContent(
        tile_id=tile.id, kind="chart", title=title, summary=summarize(data, drawn),
        figure=json.loads(figure.to_json()), table_columns=columns, table_rows=rows,
        table_note=" ".join(n for n in (table_note, data.note) if n),
        filters_sentence=_filters_sentence(used, selected),
        version_sentence=source.version_sentence, x_column=x_column,
        x_kind=source.kinds.get(x_column) if x_column else None,
        x_bucket=drawn.bucket if x_column else None, dataset_id=tile.dataset_id)


def _number(actor: UserView, tile: TileView, bar: list[BarFilter], selections: list[Selection],
            reading: _Reading) -> TileContent:
    source = _source(actor, tile, reading)
    spec = NumberSpec.model_validate(tile.spec or {})
    used = filters_for_tile(bar, source.kinds)
    selected = _selection_filters(tile, source.kinds, selections)
    shown = numbers.compute(source.place, spec, [*used.applied, *selected])
    return TileContent(
        tile_id=tile.id, kind="number", title=shown.title, summary=shown.summary,
        number_text=shown.number_text, change_text=shown.change_text,
        table_columns=shown.table_columns, table_rows=shown.table_rows,
        filters_sentence=_filters_sentence(used, selected),
        version_sentence=source.version_sentence, dataset_id=tile.dataset_id)


NO_BAR_FILTERS = "Board filters do not apply to a table: it shows the rows as they were kept."


def _answer(tile: TileView) -> TileContent:
    """An Ask answer's stored rows; board filters do not apply to them."""
    answer = AnswerTable.model_validate(tile.spec or {})
    question = " ".join(answer.question.split())
    frame = pd.DataFrame(answer.rows, columns=answer.columns)
    names, rows, note = table_of(frame)
    answered = ""
    if answer.answered_at is not None:
        answered = f"Answered on {display_text.moment(answer.answered_at, with_time=False)}."
    shape = (f"{display_text.counted(len(frame), 'row')} of "
             f"{display_text.counted(len(names), 'column')}")
    summary = f"The answer to “{question}”: {shape}." if question else f"An answer: {shape}."
    return TileContent(
        tile_id=tile.id, kind="table", title=question or "An answer from Ask", summary=summary,
        table_columns=names, table_rows=rows, table_note=note,
        filters_sentence=NO_BAR_FILTERS, version_sentence=answered,
        dataset_id=tile.dataset_id)


def _first_rows(actor: UserView, tile: TileView, reading: _Reading,
                ) -> TileContent:
    """A table tile without an answer: the dataset's first rows."""
    source = _source(actor, tile, reading)
    place = source.place
    frame = (dataset_files.preview(place, limit=MAX_TABLE_ROWS) if isinstance(place, Path)
             else live_sample.first_rows(place, rows=MAX_TABLE_ROWS))
    names, rows, _ = table_of(frame)
    name = datasets.get_dataset(actor, int(tile.dataset_id or 0)).name
    return TileContent(
        tile_id=tile.id, kind="table", title=f"First rows of {name}",
        summary=f"The first {display_text.counted(len(rows), 'row')} of {name}, "
                f"{display_text.counted(len(names), 'column')}.",
        table_columns=names, table_rows=rows, filters_sentence=NO_BAR_FILTERS,
        version_sentence=source.version_sentence, dataset_id=tile.dataset_id)


def _note(tile: TileView) -> TileContent:
    note = safe_markdown(tile.note)  # stored clean; cleaned again so nothing unsafe shows
    return TileContent(tile_id=tile.id, kind="note", title="Note",
                       summary=_plain_text(note) or "An empty note.", note_html=note)


_TITLES = {"chart": "A chart", "number": "A number", "table": "A table", "note": "A note"}


def _computed(actor: UserView, tile: TileView, bar: list[BarFilter],
              selections: list[Selection], reading: _Reading) -> TileContent:
    try:
        if tile.kind == "note":
            return _note(tile)
        if tile.kind == "table" and tile.spec is not None:
            return _answer(tile)
        if tile.dataset_id is None:
            raise ResearchDeskError("This tile has lost the dataset it shows; remove it and "
                                    "add it again.")
        if tile.kind == "number":
            return _number(actor, tile, bar, selections, reading)
        if tile.kind == "table":
            return _first_rows(actor, tile, reading)
        return _chart(actor, tile, bar, selections, reading)
    except ResearchDeskError as error:  # every data problem comes worded for people
        problem = str(error)
    except ValueError:  # a stored spec that no longer reads
        problem = "This tile cannot be drawn from what was saved; remove it and add it again."
    return TileContent(tile_id=tile.id, kind=tile.kind, title=_TITLES.get(tile.kind, "A tile"),
                       summary=problem, problem=problem, dataset_id=tile.dataset_id)


def _versions(actor: UserView, board: BoardView) -> dict[int, TileVersion]:
    """Tile id → its version; reading does not mark the board seen (the page does)."""
    return {v.tile_id: v for v in freshness.tile_versions(actor, board.id, mark_seen=False)}


# --- the interface --------------------------------------------------------------------------------


def tile_content(actor: UserView, board: BoardView, tile: TileView, bar: list[BarFilter],
                 selections: list[Selection]) -> TileContent:
    """Never raises for data problems: `problem` says it. A selection applies to the OTHER
    tiles of the same dataset (not the tile it was made on)."""
    versions = _versions(actor, board) if tile.dataset_id is not None else {}
    return _computed(actor, tile, bar, selections, _Reading(versions))


def board_contents(actor: UserView, board: BoardView, bar: list[BarFilter],
                   selections: list[Selection]) -> list[TileContent]:
    """Every tile in layout order, computed in parallel (WORKERS threads) through the one
    DuckDB door / the live door, each bounded as Explore is."""
    if not board.tiles:
        return []
    reading = _Reading(_versions(actor, board))
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="board-tile") as pool:
        return list(pool.map(lambda t: _computed(actor, t, bar, selections, reading),
                             board.tiles))


def shared_column_kinds(actor: UserView, board: BoardView) -> list[tuple[str, str]]:
    """Every (column name, kind) some data tile of the board has, in layout order; a name
    with two kinds on two datasets gives two pairs."""
    pairs: list[tuple[str, str]] = []
    seen_places: set[tuple[int, int | None]] = set()
    for tile in board.tiles:
        if tile.dataset_id is None or tile.kind not in ("chart", "number"):
            continue
        key = (tile.dataset_id, tile.dataset_version)
        if key in seen_places:
            continue
        seen_places.add(key)
        try:
            kinds = _source(actor, tile, _Reading({})).kinds
        except ResearchDeskError:  # a tile that cannot be drawn offers no columns
            continue
        pairs.extend(p for p in kinds.items() if p not in pairs)
    return pairs


def shared_columns(actor: UserView, board: BoardView) -> dict[str, str]:
    """name → kind of the columns the board's data tiles have (for the filter bar's
    choices); a column counts when at least one tile has it. A name with different kinds
    on different datasets keeps the kind of the first tile in layout order (the filter then
    applies only to tiles with that kind); `shared_column_kinds` lists every pair."""
    out: dict[str, str] = {}
    for name, kind in shared_column_kinds(actor, board):
        out.setdefault(name, kind)
    return out
