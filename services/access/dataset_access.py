"""Who may see and who may change a dataset: the one place that decides it.

- **See** (open, explore, ask about, export): its owner, and everyone once it is shared.
- **Change** (clean, restore a version, rename, share, delete): someone who may see it,
  whose role may change data (admins and analysts; viewers never), and who owns it — or
  is an admin.

`can_see` / `can_change` answer for one dataset (a stored row or a `DatasetView`: anything
with `owner` and `visibility`); `visible_clause` is the same "see" rule as a database
filter for lists. Services check with these before any work; pages ask them too (never
re-derive the rule), e.g. to hide the buttons a person may not use.
"""

from typing import Any, Protocol

from sqlalchemy import or_

from services.access.permissions import can
from services.access.users import UserView
from services.store.db import session_scope
from services.store.models import Dataset, User

SHARED = "shared"
PRIVATE = "private"


class OwnedDataset(Protocol):
    @property
    def owner(self) -> str: ...

    @property
    def visibility(self) -> str: ...


def can_see(actor: UserView, dataset: OwnedDataset) -> bool:
    """The owner sees a dataset; everyone sees a shared one."""
    return dataset.owner == actor.username or dataset.visibility == SHARED


def can_change(actor: UserView, dataset: OwnedDataset) -> bool:
    """Admins may change any dataset they can see, analysts their own; viewers never."""
    if not can(actor.role, "change_data") or not can_see(actor, dataset):
        return False
    return dataset.owner == actor.username or actor.is_admin


def visible_clause(actor: UserView) -> Any:  # noqa: ANN401 - a SQLAlchemy clause
    """`can_see` as a filter on `Dataset` rows (for lists: one query, not one per row)."""
    return or_(Dataset.owner == actor.username, Dataset.visibility == SHARED)


def private_owner(actor: UserView, dataset_id: int) -> str | None:
    """The owner's name when the dataset exists but is private to someone else, else None.

    Only the owner's name is revealed (so the link can say whom to ask): not the dataset's
    name, description, columns or data. None when it does not exist or `actor` may see it.
    """
    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or can_see(actor, dataset):
            return None
        owner = session.get(User, dataset.owner)
        return owner.name if owner is not None and owner.name else dataset.owner
