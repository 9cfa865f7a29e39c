"""“Try a sample dataset”: one click adds a sample from data/samples/ as a shared dataset."""

from sqlalchemy import select

from services.access import dataset_access
from services.access.permissions import require
from services.access.users import UserView
from services.data.samples import get_sample
from services.store import datasets
from services.store.datasets import DatasetView
from services.store.db import session_scope
from services.store.models import Dataset


def add_sample(actor: UserView, key: str) -> tuple[DatasetView, bool]:
    """The shared dataset made from the sample, and whether it was added just now (a sample
    someone already shared is opened rather than added twice)."""
    require(actor.role, "upload_data")
    sample = get_sample(key)
    with session_scope() as session:
        existing = session.scalar(
            select(Dataset.id).where(Dataset.name == sample.title,
                                     dataset_access.visible_clause(actor)).limit(1))
    if existing is not None:
        return datasets.get_dataset(actor, int(existing)), False
    view, _ = datasets.create_from_upload(actor, sample.path, original_name=sample.file_name,
                                          name=sample.title)
    shared = datasets.set_shared(actor, view.id, True)
    datasets.update_details(actor, view.id, name=sample.title,
                            description=f"{sample.description} Source: {sample.source}.")
    return datasets.get_dataset(actor, shared.id), True
