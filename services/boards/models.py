"""Boards' pydantic in/out models and the limits a board and a tile keep to."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TileKind = Literal["chart", "number", "table", "note"]
Direction = Literal["up", "down", "left", "right"]
TILE_KINDS: tuple[str, ...] = ("chart", "number", "table", "note")
VISIBILITIES = ("private", "shared")
MIN_COLUMNS, MAX_COLUMNS = 1, 4
TITLE_MAX = 200
DESCRIPTION_MAX = 2_000
NOTE_MAX = 5_000
TABLE_ROWS_MAX = 500  # an Ask answer's rows kept on a board


class BoardInput(BaseModel):
    title: str
    description: str = ""
    visibility: str = "private"
    columns: int = 2


class BoardChanges(BaseModel):
    """Only the fields given change."""

    title: str | None = None
    description: str | None = None
    visibility: str | None = None
    columns: int | None = None


class TileInput(BaseModel):
    kind: str
    width: int = 1
    dataset_id: int | None = None
    dataset_version: int | None = None  # None: fresh (follows the newest version)
    spec: dict[str, Any] | None = None
    note: str = ""


class AnswerTable(BaseModel):
    """A table tile's spec: an Ask answer's question, SQL and rows, as Ask returned them."""

    question: str = ""
    sql: str = ""
    columns: list[str]
    rows: list[list[Any]] = Field(default_factory=list)
    answered_at: datetime | None = None


class TileView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    board_id: int
    position: int
    width: int
    kind: str
    dataset_id: int | None
    dataset_version: int | None
    spec: dict[str, Any] | None
    note: str

    @property
    def is_fresh(self) -> bool:
        return self.dataset_id is not None and self.dataset_version is None


class BoardView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    owner: str
    visibility: str
    columns: int
    created_at: datetime
    updated_at: datetime
    tiles: list[TileView] = Field(default_factory=list)
    can_edit: bool = False
    tile_count: int = 0  # filled by list_boards, which leaves `tiles` out
