"""Fresh or pinned: which version each tile draws, and what changed since a person last
opened the board.

"Last seen" is one row per (board, person) holding the dataset versions the board showed
them (`board_views`); opening the board compares and then records the newest.
"""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from services.access import board_access
from services.access.users import UserView
from services.store.db import session_scope
from services.store.models import Board, BoardTile, Dataset, DatasetVersion, utcnow
from services.store.models import BoardView as SeenRow


class TileVersion(BaseModel):
    tile_id: int
    dataset_id: int
    version: int
    fresh: bool
    sentence: str  # "Updated to version 4 on 3 Dec." / "Pinned to version 2."
    changed_since_seen: bool = False


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"


def tile_versions(actor: UserView, board_id: int, *, mark_seen: bool = True) -> list[TileVersion]:
    """For each data tile: the version it draws and whether a fresh tile's data changed
    since this person last opened the board. Opening it (`mark_seen`) records what they saw."""
    with session_scope(write=mark_seen) as session:
        board = board_access.require_read(actor, session.get(Board, board_id))
        tiles = session.scalars(select(BoardTile).where(BoardTile.board_id == board.id,
                                                        BoardTile.dataset_id.is_not(None))
                                .order_by(BoardTile.position, BoardTile.id)).all()
        seen = session.get(SeenRow, (board.id, actor.username))
        before = dict(seen.versions) if seen else {}
        out: list[TileVersion] = []
        now_seen: dict[str, int] = {}
        for tile in tiles:
            dataset = session.get(Dataset, tile.dataset_id)
            if dataset is None:
                continue
            fresh = tile.dataset_version is None
            version = dataset.current_version if fresh else int(tile.dataset_version or 0)
            row = session.get(DatasetVersion, (dataset.id, version))
            if fresh:
                when = f" on {_day(row.created_at)}" if row else ""
                sentence = f"Updated to version {version}{when}."
                key = str(dataset.id)
                now_seen[key] = version
                last = before.get(key)
                changed = seen is not None and last is not None and last != version
            else:
                sentence, changed = f"Pinned to version {version}.", False
            out.append(TileVersion(tile_id=tile.id, dataset_id=dataset.id, version=version,
                                   fresh=fresh, sentence=sentence, changed_since_seen=changed))
        if mark_seen:
            if seen is None:
                session.add(SeenRow(board_id=board.id, username=actor.username,
                                    seen_at=utcnow(), versions=now_seen))
            else:
                seen.versions, seen.seen_at = {**before, **now_seen}, utcnow()
        return out
