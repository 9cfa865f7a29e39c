"""Who may read and who may change a board: the one place that decides it.

Boards share the way research items do (services.access.item_access): the owner reads a
board, everyone reads a shared one; admins change any board they can read, analysts their
own; viewers never change one. Only the action differs: `build_boards`.
"""

from typing import Any

from sqlalchemy import or_

from services.access import item_access
from services.access.item_access import SHARED, OwnedItem
from services.access.permissions import can, require
from services.access.users import UserView
from services.errors import NotFound, PermissionDenied
from services.store.models import Board

MSG_NOT_VISIBLE = "That board does not exist or is not shared with you."
MSG_NOT_YOURS = "Only the board's owner or an admin can change it."


def can_read(actor: UserView, board: OwnedItem | None) -> bool:
    """The read rule is the research items' one (owner, or shared with everyone)."""
    return item_access.can_read(actor, board)


def can_change(actor: UserView, board: OwnedItem | None) -> bool:
    if board is None or not can(actor.role, "build_boards") or not can_read(actor, board):
        return False
    return board.owner == actor.username or actor.is_admin


def readable_clause(actor: UserView) -> Any:  # noqa: ANN401 - a SQLAlchemy clause
    return or_(Board.owner == actor.username, Board.visibility == SHARED)


def require_read(actor: UserView, board: Board | None) -> Board:
    if board is None or not can_read(actor, board):
        raise NotFound(MSG_NOT_VISIBLE)
    return board


def require_change(actor: UserView, board: Board | None) -> Board:
    """The role first (a viewer hears about their role), then visibility, then ownership."""
    require(actor.role, "build_boards")
    readable = require_read(actor, board)
    if not can_change(actor, readable):
        raise PermissionDenied(MSG_NOT_YOURS)
    return readable
