"""Who may open a dataset link: the owner's name for a private dataset, never its contents."""

from services.access.users import UserView
from services.store.db import session_scope
from services.store.models import Dataset, User


def private_owner(actor: UserView, dataset_id: int) -> str | None:
    """The owner's name when the dataset exists but is private to someone else, else None.

    Only the owner's name is revealed (so the link can say whom to ask): not the dataset's
    name, description, columns or data. None when it does not exist or `actor` may see it.
    """
    with session_scope() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or dataset.visibility == "shared" or dataset.owner == actor.username:
            return None
        owner = session.get(User, dataset.owner)
        return owner.name if owner is not None and owner.name else dataset.owner
