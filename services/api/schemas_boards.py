"""What /v1/boards gives: a board, its tiles, and what one tile shows (without its figure)."""

from typing import Any

from pydantic import BaseModel, Field

from services.api.schemas import UtcDateTime


class BoardOut(BaseModel):
    id: int = Field(examples=[4])
    title: str = Field(examples=["Weekly orders"])
    description: str = ""
    owner: str = Field(examples=["ada"])
    visibility: str = Field(examples=["shared"])
    columns: int = Field(examples=[2], description="The grid's columns, 1 to 4.")
    created_at: UtcDateTime
    updated_at: UtcDateTime
    can_edit: bool = False


class TileOut(BaseModel):
    id: int = Field(examples=[11])
    position: int = Field(examples=[0], description="Reading order, from 0.")
    width: int = Field(examples=[1], description="Columns of the grid the tile spans.")
    kind: str = Field(examples=["chart"], description="chart, number, table or note.")
    dataset_id: int | None = Field(default=None, examples=[3])
    dataset_version: int | None = Field(
        default=None, examples=[None],
        description="The pinned version; null when the tile follows the newest one.")
    spec: dict[str, Any] | None = Field(
        default=None, examples=[{"chart_type": "bar", "x": "species", "agg": "count"}],
        description="A chart's ChartSpec, a number's aggregate, or an answer's rows.")
    note: str = Field(default="", description="A note tile's Markdown (made safe).")


class BoardDetailOut(BoardOut):
    tiles: list[TileOut] = Field(default_factory=list)


class TileDataOut(BaseModel):
    """What a tile shows, as numbers and words; `problem` says why it cannot be drawn."""

    tile_id: int = Field(examples=[11])
    kind: str = Field(examples=["number"])
    title: str = Field(examples=["Orders"])
    summary: str = Field(examples=["12,340 orders in November 2026, +8 % on the previous "
                                   "month (11,426 in October 2026)."])
    number_text: str = Field(default="", examples=["12,340 orders"])
    change_text: str = Field(default="", examples=["+8 % on the previous month"])
    table_columns: list[str] = Field(default_factory=list, examples=[["Month", "Count of rows"]])
    table_rows: list[list[Any]] = Field(default_factory=list,
                                        examples=[[["October 2026", 11426],
                                                   ["November 2026", 12340]]])
    table_note: str = Field(default="", examples=[""])
    note: str = Field(default="", description="A note tile's Markdown (made safe).")
    filters_sentence: str = ""
    version_sentence: str = Field(default="", examples=["Updated to version 4 on 3 Dec."])
    dataset_id: int | None = None
    problem: str = Field(default="", examples=[""],
                         description="One sentence when the tile cannot be drawn (its dataset "
                                     "was removed, a column is gone); the rest is then empty.")
