"""Live datasets: a table or view of a data source, read where it lives on each use.

A live dataset is a `datasets` row (name, owner, sharing: the same rules as an uploaded
file) with a `live_tables` row saying where its rows are, and no versions. Whoever may see
the dataset may read it; adding one needs the right to use sources and to add data.
"""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, or_, update

from services.access import audit, dataset_access
from services.access.permissions import require
from services.access.users import UserView
from services.data import datasets
from services.data.datasets import DatasetView
from services.errors import InvalidInput, NotFound
from services.labels import clean_label
from services.sources import browse, catalog, door
from services.sources.catalog import SourceView
from services.store.db import session_scope
from services.store.models import Dataset, DataSource, LiveTable, utcnow

READ_AT_STEP = timedelta(minutes=1)


class LiveTarget(BaseModel):
    """What the engines need to read a live dataset: its source (whose door holds the
    password) and the table's place. Never shown to people."""

    model_config = ConfigDict(frozen=True)

    dataset_id: int
    source: SourceView
    schema_name: str
    table_name: str

    @property
    def engine(self) -> Engine:
        return door.connect(self.source)


def create_live_dataset(actor: UserView, source_id: int, schema: str, table: str, *,
                        name: str = "") -> DatasetView:
    """A private live dataset over `schema.table` of the source (checked to exist first)."""
    require(actor.role, "use_sources")
    require(actor.role, "upload_data")
    source = catalog.get_source(actor, source_id)
    known = {t.name for t in browse.list_tables(source, schema)}
    if table not in known:
        raise InvalidInput(f"There is no table or view called “{table}” in {schema} that this "
                           "data source may read.")
    title = clean_label(name.strip() or table, what="dataset name", limit=datasets.MAX_NAME)
    with session_scope(write=True) as session:
        catalog.hold_source(session, source.id)  # a removal of the source waits, or was first
        if session.get(DataSource, source.id) is None:
            raise NotFound("That data source was removed meanwhile; nothing was added.")
        row = Dataset(name=title, description="",  # where it lives is shown beside it
                      owner=actor.username, visibility=dataset_access.PRIVATE,
                      current_version=0, created_at=utcnow(), updated_at=utcnow())
        session.add(row)
        session.flush()
        session.add(LiveTable(dataset_id=row.id, source_id=source.id, schema_name=schema,
                              table_name=table))
        audit.record(session, actor=actor.username, action="dataset_created",
                     target=f"{row.id}: {title}",
                     detail=f"live: {schema}.{table} in {source.name}")
        session.flush()
        dataset_id = row.id
    return datasets.get_dataset(actor, dataset_id)


def live_target(actor: UserView, dataset_id: int) -> LiveTarget | None:
    """Where a dataset this person may see is read from; None for a dataset of files."""
    dataset = datasets.get_dataset(actor, dataset_id)  # NotFound when not visible
    if dataset.live is None:
        return None
    return LiveTarget(dataset_id=dataset.id,
                      source=catalog.source_for_reading(dataset.live.source_id),
                      schema_name=dataset.live.schema_name,
                      table_name=dataset.live.table_name)


def mark_read(dataset_id: int) -> None:
    """Remember when a live dataset was last read (shown as “last read …”); at most one
    write a minute, so a page that redraws often does not write on every redraw."""
    now = utcnow()
    with session_scope(write=True) as session:
        session.execute(update(LiveTable)
                        .where(LiveTable.dataset_id == dataset_id,
                               or_(LiveTable.read_at.is_(None),
                                   LiveTable.read_at < now - READ_AT_STEP))
                        .values(read_at=now))
