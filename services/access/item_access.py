"""Who may read and who may change a research item: the one place that decides it.

- **Read** (open it, list it, see its charts, answers, notes and Claude runs, export it):
  its owner, and everyone once it is shared. Exporting is a read: the files hold what the
  item page shows that same reader, so anyone who may read an item may export it.
- **Change** (edit its details or notes; add, reorder or remove charts and answers; save
  a Claude run on it; archive or delete it): someone who may read it, whose role may save
  work (admins and analysts; viewers never), and who owns it — or is an admin.

`can_read` / `can_change` answer for one item (a stored row or a view: anything with
`owner` and `visibility`); `readable_clause` is the "read" rule as a database filter for
lists. Services check with `require_read` / `require_change` before any work (and before
any Claude token); pages ask `can_change` to hide what a person may not do.
"""

from typing import Any, Protocol, TypeVar

from sqlalchemy import or_

from services.access.permissions import can, require
from services.access.users import UserView
from services.errors import NotFound, PermissionDenied
from services.store.models import ResearchItem

SHARED = "shared"
MSG_NOT_VISIBLE = "That research item does not exist or is not shared with you."
MSG_NOT_YOURS = "Only the item's owner or an admin can change it."


class OwnedItem(Protocol):
    @property
    def owner(self) -> str: ...

    @property
    def visibility(self) -> str: ...


Item = TypeVar("Item", bound=OwnedItem)


def can_read(actor: UserView, item: OwnedItem | None) -> bool:
    """The owner reads an item; everyone reads a shared one."""
    return item is not None and (item.owner == actor.username or item.visibility == SHARED)


def can_change(actor: UserView, item: OwnedItem | None) -> bool:
    """Admins may change any item they can read, analysts their own; viewers never."""
    if item is None or not can(actor.role, "save_insight") or not can_read(actor, item):
        return False
    return item.owner == actor.username or actor.is_admin


def readable_clause(actor: UserView) -> Any:  # noqa: ANN401 - a SQLAlchemy clause
    """`can_read` as a filter on `ResearchItem` rows (for lists: one query)."""
    return or_(ResearchItem.owner == actor.username, ResearchItem.visibility == SHARED)


def require_read(actor: UserView, item: Item | None) -> Item:
    """The item, or `NotFound` when it is missing or hidden (the same sentence for both)."""
    if item is None or not can_read(actor, item):
        raise NotFound(MSG_NOT_VISIBLE)
    return item


def require_change(actor: UserView, item: Item | None) -> Item:
    """The item, if this person may change it. The role is checked first (a viewer hears
    about their role, not about the item), then that they may read it (`NotFound`), then
    that it is theirs or they are an admin (`PermissionDenied`)."""
    require(actor.role, "save_insight")
    readable = require_read(actor, item)
    if not can_change(actor, readable):
        raise PermissionDenied(MSG_NOT_YOURS)
    return readable
