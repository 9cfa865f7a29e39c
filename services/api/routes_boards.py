"""/v1/boards: boards and what their tiles show, for scripts and notebooks.

Calls services.boards, which checks who may read a board on its first lines: a private
board of someone else is a 404, like a missing one (as research items are).
"""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from services.api.auth import Caller
from services.api.problems import COMMON_RESPONSES
from services.api.schemas import Page
from services.api.schemas_boards import BoardDetailOut, BoardOut, TileDataOut, TileOut
from services.boards import boards, tiles
from services.boards.models import BoardView, TileView
from services.errors import NotFound

router = APIRouter(prefix="/boards", tags=["boards"], responses=COMMON_RESPONSES)

BoardId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="The board's id.")]
TileId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="The tile's id.")]
Limit = Annotated[int, Query(ge=1, le=100, description="At most 100.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]


def _board_out(board: BoardView) -> BoardOut:
    return BoardOut.model_validate(board.model_dump(exclude={"tiles"}))


def _tile_of(board: BoardView, tile_id: int) -> TileView:
    for tile in board.tiles:
        if tile.id == tile_id:
            return tile
    raise NotFound("That tile is not on this board.")


@router.get("", summary="List boards I can read", response_model=Page[BoardOut])
def list_boards(user: Caller, limit: Limit = 50, offset: Offset = 0) -> Page[BoardOut]:
    """My own boards and those shared with everyone, most recently changed first."""
    found = boards.list_boards(user)
    return Page[BoardOut](items=[_board_out(b) for b in found[offset:offset + limit]],
                          total=len(found), limit=limit, offset=offset)


@router.get("/{board_id}", summary="One board with its tiles", response_model=BoardDetailOut)
def get_board(user: Caller, board_id: BoardId) -> BoardDetailOut:
    """Tiles in reading order, each with what it shows (its spec) and its place."""
    board = boards.get_board(user, board_id)
    return BoardDetailOut(**_board_out(board).model_dump(),
                          tiles=[TileOut.model_validate(t.model_dump()) for t in board.tiles])


@router.get("/{board_id}/tiles/{tile_id}/data", summary="What one tile shows",
            response_model=TileDataOut)
def tile_data(user: Caller, board_id: BoardId, tile_id: TileId) -> TileDataOut:
    """The tile's title, one-sentence summary, number and change, data table (at most 500
    rows) and version, computed now as the board shows it without filters. A tile that
    cannot be drawn answers 200 with `problem` in one sentence."""
    board = boards.get_board(user, board_id)
    content = tiles.tile_content(user, board, _tile_of(board, tile_id), [], [])
    return TileDataOut.model_validate({**content.model_dump(exclude={"figure"}),
                                       "note": content.note_html})
