"""“Add to a board” from Explore, Ask and a research item: the boards a person may add to,
the tiles a chart or an answer becomes, and adding them (to a new board if a title is given).

Every tile is checked before anything is written, so a chart that cannot go on a board
leaves no empty new board behind.
"""

from datetime import datetime

import pandas as pd
from pydantic import BaseModel

from services.access import board_access
from services.access.permissions import require
from services.access.users import UserView
from services.boards import boards
from services.boards.answer_table import answer_table_spec
from services.boards.models import BoardInput, BoardView, TileInput, TileView
from services.charts.spec import ChartSpec
from services.data import datasets
from services.errors import InvalidInput, NotFound, PermissionDenied


class BoardChoice(BaseModel):
    """An existing board (`board_id`) or a new one (`new_title`)."""

    board_id: int | None = None
    new_title: str = ""


class Added(BaseModel):
    board_id: int
    board_title: str
    tiles: list[TileView]


def boards_to_add_to(actor: UserView) -> list[BoardView]:
    """The boards this person may change, newest change first."""
    return [b for b in boards.list_boards(actor) if b.can_edit]


def chart_tile(spec: ChartSpec, dataset_id: int, version: int | None) -> TileInput:
    """`version` None: fresh (follows the dataset's newest version); a number: pinned."""
    return TileInput(kind="chart", dataset_id=dataset_id, dataset_version=version,
                     spec=spec.model_dump(mode="json"))


def answer_tile(actor: UserView, question: str, sql: str | None, frame: pd.DataFrame,
                answered_at: datetime, dataset_id: int | None) -> TileInput:
    """An answer's rows are a moment's result: on one file dataset its tile is pinned to
    the version it read (the current one); a live table has no versions, and an answer over
    several datasets names none."""
    version = None
    if dataset_id is not None:
        dataset = datasets.get_dataset(actor, dataset_id)
        version = None if dataset.is_live else dataset.current_version
    return TileInput(kind="table", dataset_id=dataset_id, dataset_version=version,
                     spec=answer_table_spec(question, sql, frame, answered_at))


def chart_fits(actor: UserView, tile: TileInput) -> bool:
    """Whether this chart can be drawn from its dataset (Ask's charts name the answer's
    columns, which the dataset may not have)."""
    try:
        boards.clean_tile(actor, tile)
    except (InvalidInput, NotFound):
        return False
    return True


def add_tiles(actor: UserView, choice: BoardChoice, tiles: list[TileInput]) -> Added:
    """The role and the board are checked before any dataset is read, and every tile
    before anything is written."""
    require(actor.role, "build_boards")
    if not tiles:
        raise InvalidInput("There is nothing to add to a board here.")
    board = None
    if choice.board_id is not None:
        board = boards.get_board(actor, choice.board_id)
        if not board.can_edit:
            raise PermissionDenied(board_access.MSG_NOT_YOURS)
    for tile in tiles:
        boards.clean_tile(actor, tile)
    if board is None:
        board = boards.create_board(actor, BoardInput(title=choice.new_title))
    added = [boards.add_tile(actor, board.id, tile) for tile in tiles]
    return Added(board_id=board.id, board_title=board.title, tiles=added)
