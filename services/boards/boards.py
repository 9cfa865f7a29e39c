"""Boards and their tiles: create, read, list, change, and the layout operations.

Every layout change starts with one UPDATE of the board's row (its `layout_version` goes
up): on PostgreSQL that holds the row lock until commit, so two people editing one board
take turns and never lose a tile; positions are then renumbered inside that transaction.
Who may do what is decided in services.access.board_access.
"""

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from services.access import board_access
from services.access.users import UserView
from services.boards.models import (
    DESCRIPTION_MAX,
    MAX_COLUMNS,
    MIN_COLUMNS,
    NOTE_MAX,
    TABLE_ROWS_MAX,
    TILE_KINDS,
    TITLE_MAX,
    VISIBILITIES,
    AnswerTable,
    BoardChanges,
    BoardInput,
    BoardView,
    Direction,
    TileInput,
    TileView,
)
from services.boards.numbers import NumberSpec, validate_number
from services.charts import where
from services.charts.spec import ChartSpec, validate_spec
from services.data import datasets, live_datasets
from services.errors import InvalidInput, NotFound
from services.research.safe_markdown import safe_markdown
from services.store.db import session_scope
from services.store.models import Board, BoardTile, utcnow
from services.store.models import BoardView as SeenRow

# --- validation -------------------------------------------------------------------------


def _title(title: str) -> str:
    text = " ".join(str(title).split())
    if not text:
        raise InvalidInput("Please give the board a title.")
    if len(text) > TITLE_MAX:
        raise InvalidInput(f"A board's title can be at most {TITLE_MAX} characters long; "
                           f"this one has {len(text):,}.")
    return text


def _description(description: str) -> str:
    text = str(description).strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(f"A description can be at most {DESCRIPTION_MAX:,} characters "
                           f"long; this one has {len(text):,}.")
    return text


def _visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise InvalidInput("A board is either private or shared with everyone.")
    return visibility


def _columns(columns: int) -> int:
    if not MIN_COLUMNS <= columns <= MAX_COLUMNS:
        raise InvalidInput(f"A board has between {MIN_COLUMNS} and {MAX_COLUMNS} columns.")
    return columns


def _width(width: int) -> int:
    if not MIN_COLUMNS <= width <= MAX_COLUMNS:
        raise InvalidInput(f"A tile is between {MIN_COLUMNS} and {MAX_COLUMNS} columns wide.")
    return width


def dataset_columns(actor: UserView, dataset_id: int, version: int | None) -> dict[str, str]:
    """Column name → kind of what a tile draws: the version (the newest when `version` is
    None) or a live dataset's table; `NotFound` in one sentence for an unknown or hidden
    dataset or version."""
    target = live_datasets.live_target(actor, dataset_id)
    if target is None:
        return where.kinds_at(datasets.get_version(actor, dataset_id, version).parquet_path)
    if version is not None:
        raise InvalidInput("A live dataset has no versions: its tiles always show the table "
                           "as it is now.")
    return where.kinds_at(target)


def _note_text(tile: TileInput) -> str:
    note = safe_markdown(str(tile.note).strip())
    if not note:
        raise InvalidInput("Please write something in the note.")
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"A note can be at most {NOTE_MAX:,} characters long.")
    return note


def _answer_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """An Ask answer as a table tile keeps it: its question, SQL, columns and at most
    TABLE_ROWS_MAX rows."""
    try:
        answer = AnswerTable.model_validate(spec)
    except ValueError as error:
        raise InvalidInput("This answer cannot be put on a board: its table did not come "
                           "through. Ask the question again and add the new answer.") from error
    if not answer.columns:
        raise InvalidInput("This answer has no table to show on a board.")
    if any(len(row) != len(answer.columns) for row in answer.rows):
        raise InvalidInput("This answer's rows do not match its columns; ask the question "
                           "again and add the new answer.")
    kept = answer.model_copy(update={"rows": answer.rows[:TABLE_ROWS_MAX]})
    return kept.model_dump(mode="json")


def _data_spec(tile: TileInput, kinds: dict[str, str]) -> dict[str, Any]:
    if tile.kind == "number":
        try:
            number = NumberSpec.model_validate(tile.spec or {})
        except ValueError as error:
            raise InvalidInput("This number cannot be worked out from what was saved; please "
                               "choose what it counts again.") from error
        return validate_number(number, kinds).model_dump(mode="json")
    try:
        parsed = ChartSpec.model_validate(tile.spec or {})
    except ValueError as error:
        raise InvalidInput(f"This {tile.kind} cannot be drawn from what was saved; "
                           "please choose its columns again.") from error
    return validate_spec(parsed, kinds).model_dump(mode="json")


def clean_tile(actor: UserView, tile: TileInput) -> TileInput:
    """The tile as it will be stored, or `InvalidInput` / `NotFound` saying what to fix."""
    if tile.kind not in TILE_KINDS:
        raise InvalidInput("A tile is a chart, a number, a table or a note.")
    width = _width(tile.width)
    if tile.kind == "note":
        return TileInput(kind="note", width=width, note=_note_text(tile))
    if tile.dataset_version is not None and tile.dataset_version < 1:
        raise InvalidInput("Please choose a version of the dataset, or keep it fresh.")
    if tile.kind == "table" and tile.spec is not None:  # an Ask answer keeps its own rows
        if tile.dataset_id is not None:
            datasets.get_dataset(actor, tile.dataset_id)  # NotFound when not visible
        return TileInput(kind="table", width=width, dataset_id=tile.dataset_id,
                         dataset_version=tile.dataset_version, spec=_answer_spec(tile.spec))
    if tile.dataset_id is None:
        raise InvalidInput(f"Please choose the dataset this {tile.kind} shows.")
    kinds = dataset_columns(actor, tile.dataset_id, tile.dataset_version)
    spec = None if tile.kind == "table" else _data_spec(tile, kinds)  # a table: first rows
    return TileInput(kind=tile.kind, width=width, dataset_id=tile.dataset_id,
                     dataset_version=tile.dataset_version, spec=spec)


# --- reading ----------------------------------------------------------------------------


def _tiles(session: Session, board_id: int) -> list[BoardTile]:
    """Tiles in reading order: by position, then by when they were added (stable)."""
    return list(session.scalars(select(BoardTile).where(BoardTile.board_id == board_id)
                                .order_by(BoardTile.position, BoardTile.id)))


def _view(session: Session, actor: UserView, board: Board) -> BoardView:
    view = BoardView.model_validate(board)
    view.tiles = [TileView.model_validate(t) for t in _tiles(session, board.id)]
    view.can_edit = board_access.can_change(actor, board)
    return view


def get_board(actor: UserView, board_id: int) -> BoardView:
    with session_scope() as session:
        board = board_access.require_read(actor, session.get(Board, board_id))
        return _view(session, actor, board)


def list_boards(actor: UserView) -> list[BoardView]:
    """Boards this person may read (their own and shared ones), newest change first,
    without their tiles."""
    with session_scope() as session:
        rows = session.scalars(select(Board).where(board_access.readable_clause(actor))
                               .order_by(Board.updated_at.desc(), Board.id.desc())).all()
        counts = dict(session.execute(
            select(BoardTile.board_id, func.count()).where(
                BoardTile.board_id.in_([b.id for b in rows])).group_by(BoardTile.board_id)
        ).all())
        return [BoardView.model_validate(b).model_copy(
            update={"can_edit": board_access.can_change(actor, b),
                    "tile_count": counts.get(b.id, 0)}) for b in rows]


# --- changing the board -----------------------------------------------------------------


def create_board(actor: UserView, board: BoardInput) -> BoardView:
    board_access.require_change(actor, Board(owner=actor.username, visibility="private"))
    row = Board(title=_title(board.title), description=_description(board.description),
                visibility=_visibility(board.visibility), columns=_columns(board.columns),
                owner=actor.username, layout_version=0)
    with session_scope(write=True) as session:
        session.add(row)
        session.flush()
        return _view(session, actor, row)


def _locked(session: Session, actor: UserView, board_id: int) -> Board:
    """The board, locked for this transaction (see the module's note) and checked."""
    session.execute(update(Board).where(Board.id == board_id)
                    .values(layout_version=Board.layout_version + 1, updated_at=utcnow()))
    return board_access.require_change(actor, session.get(Board, board_id))


def update_board(actor: UserView, board_id: int, changes: BoardChanges) -> BoardView:
    with session_scope(write=True) as session:
        board = _locked(session, actor, board_id)
        if changes.title is not None:
            board.title = _title(changes.title)
        if changes.description is not None:
            board.description = _description(changes.description)
        if changes.visibility is not None:
            board.visibility = _visibility(changes.visibility)
        if changes.columns is not None:
            board.columns = _columns(changes.columns)
        return _view(session, actor, board)


def delete_board(actor: UserView, board_id: int) -> None:
    with session_scope(write=True) as session:
        board = _locked(session, actor, board_id)
        session.execute(delete(BoardTile).where(BoardTile.board_id == board.id))
        session.execute(delete(SeenRow).where(SeenRow.board_id == board.id))
        session.delete(board)


# --- layout -----------------------------------------------------------------------------


def _renumber(tiles: list[BoardTile]) -> list[int]:
    for index, tile in enumerate(tiles):
        tile.position = index
    return [t.id for t in tiles]


def add_tile(actor: UserView, board_id: int, tile: TileInput) -> TileView:
    """The tile goes last in reading order."""
    with session_scope() as session:  # refused before any dataset is read
        board_access.require_change(actor, session.get(Board, board_id))
    clean = clean_tile(actor, tile)  # reads the dataset before the board is locked
    with session_scope(write=True) as session:
        board = _locked(session, actor, board_id)
        tiles = _tiles(session, board.id)
        _renumber(tiles)
        row = BoardTile(board_id=board.id, position=len(tiles), width=clean.width,
                        kind=clean.kind, dataset_id=clean.dataset_id,
                        dataset_version=clean.dataset_version, spec=clean.spec,
                        note=clean.note)
        session.add(row)
        session.flush()
        return TileView.model_validate(row)


def _tile_of(tiles: list[BoardTile], tile_id: int) -> BoardTile:
    for tile in tiles:
        if tile.id == tile_id:
            return tile
    raise NotFound("That tile is no longer on this board.")


def remove_tile(actor: UserView, board_id: int, tile_id: int) -> list[int]:
    """The remaining tiles' ids in reading order."""
    with session_scope(write=True) as session:
        board = _locked(session, actor, board_id)
        tiles = _tiles(session, board.id)
        session.delete(_tile_of(tiles, tile_id))
        return _renumber([t for t in tiles if t.id != tile_id])


def move_tile(actor: UserView, board_id: int, tile_id: int, direction: Direction) -> list[int]:
    """Left/right swap with the neighbour in reading order; up/down with the tile one row
    (the board's number of columns) earlier or later. At an edge nothing moves."""
    with session_scope(write=True) as session:
        board = _locked(session, actor, board_id)
        tiles = _tiles(session, board.id)
        here = tiles.index(_tile_of(tiles, tile_id))
        steps = {"left": -1, "right": 1, "up": -board.columns, "down": board.columns}
        if direction not in steps:
            raise InvalidInput("A tile moves up, down, left or right.")
        there = here + steps[direction]
        if 0 <= there < len(tiles):
            tiles[here], tiles[there] = tiles[there], tiles[here]
        return _renumber(tiles)


def set_width(actor: UserView, board_id: int, tile_id: int, width: int) -> TileView:
    with session_scope(write=True) as session:
        board = _locked(session, actor, board_id)
        tile = _tile_of(_tiles(session, board.id), tile_id)
        tile.width = _width(width)
        session.flush()
        return TileView.model_validate(tile)
