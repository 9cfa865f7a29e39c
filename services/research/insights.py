"""The insights on an item: listed in the owner's order, with whether their data still
exists; reordered or removed by the owner or an admin."""

from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from services.access import dataset_access
from services.access.users import UserView
from services.charts.spec import ChartSpec
from services.data import data_folder
from services.data.datasets import LiveWhere
from services.errors import InvalidInput, NotFound
from services.research.items import load_editable, load_readable, touch
from services.store.db import session_scope
from services.store.models import Dataset, DatasetVersion, DataSource, Insight, LiveTable


class InsightCard(BaseModel):
    id: int
    item_id: int
    kind: str
    title: str
    summary: str
    spec: dict[str, Any]
    data_snapshot: list
    dataset_id: int | None
    dataset_version: int | None
    dataset_name: str | None = None
    # an answer over several datasets: the ones the reader may see, and how many they may not
    dataset_names: list[str] = []
    hidden_datasets: int = 0
    is_data_gone: bool = False
    parquet_path: str | None = None  # set only when the reader may see the dataset
    data_version: int | None = None  # the version parquet_path holds (answers: the current)
    live: LiveWhere | None = None  # a live dataset the reader may see: where its rows live
    position: int
    created_by: str
    created_at: datetime

    def snapshot_frame(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.data_snapshot) if self.data_snapshot \
            else pd.DataFrame()


class LinkedDataset(BaseModel):
    dataset_id: int
    versions: list[int]  # the versions the item's insights used (pinned or, for answers, current)
    name: str | None
    is_gone: bool
    insights: int
    live: LiveWhere | None = None  # a live dataset the reader may see: where its rows live


def stored_chart_spec(raw: dict[str, Any] | None) -> ChartSpec | None:
    """The ChartSpec inside a stored spec (Explore keeps drawing facts under "drawn")."""
    if not raw:
        return None
    try:
        return ChartSpec.model_validate({k: v for k, v in raw.items() if k != "drawn"})
    except ValidationError:
        return None


def _ordered(item_id: int):  # noqa: ANN202 - a SQLAlchemy select
    return (select(Insight).where(Insight.item_id == item_id)
            .order_by(func.coalesce(Insight.position, 0), Insight.id))


def used_dataset_ids(dataset_id: int | None, spec: dict[str, Any] | None) -> list[int]:
    """The datasets an insight used: its own, or all of an answer over several datasets."""
    if dataset_id is not None:
        return [dataset_id]
    return [i for i in (spec or {}).get("dataset_ids", []) if isinstance(i, int)]


class _Found(BaseModel):
    """The datasets an item's insights use, as far as this reader may know them."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    visible: dict[int, Dataset] = {}
    files: dict[tuple[int, int], str] = {}
    existing: set[int] = set()
    live: dict[int, LiveWhere] = {}  # visible live datasets: where their rows are


def _live_places(session: Session, ids: set[int]) -> dict[int, LiveWhere]:
    if not ids:
        return {}
    rows = session.execute(select(LiveTable, DataSource.name)
                           .outerjoin(DataSource, DataSource.id == LiveTable.source_id)
                           .where(LiveTable.dataset_id.in_(ids))).all()
    return {live.dataset_id: LiveWhere(source_id=live.source_id,
                                       source_name=name or "a removed source",
                                       schema_name=live.schema_name,
                                       table_name=live.table_name, read_at=live.read_at)
            for live, name in rows}


def _datasets(session: Session, actor: UserView, rows: list[Insight]) -> _Found:
    """The datasets (visible ones), version files, ids that still exist and where the
    visible live ones are: three queries."""
    ids = {i for r in rows for i in used_dataset_ids(r.dataset_id, r.spec)}
    if not ids:
        return _Found()
    found = {d.id: d for d in session.scalars(select(Dataset).where(Dataset.id.in_(ids)))}
    pairs = {(r.dataset_id, _version_of(r, found)) for r in rows
             if r.dataset_id is not None and _version_of(r, found) is not None}
    files: dict[tuple[int, int], str] = {}
    if pairs:
        versions = session.scalars(select(DatasetVersion).where(
            tuple_(DatasetVersion.dataset_id, DatasetVersion.version).in_(list(pairs))))
        files = {(v.dataset_id, v.version): str(data_folder.resolve(v.parquet_path))
                 for v in versions if data_folder.is_inside(v.parquet_path)}
    visible = {i: d for i, d in found.items() if dataset_access.can_see(actor, d)}
    return _Found(visible=visible, files=files, existing=set(found),
                  live=_live_places(session, set(visible)))


def _version_of(row: Insight, found: dict[int, Dataset]) -> int | None:
    """The version an insight used; an answer saved without one used the current one. A
    live dataset has no versions (its current version is 0): None."""
    if row.dataset_version or row.dataset_id is None:
        return row.dataset_version or None
    dataset = found.get(row.dataset_id)
    return dataset.current_version or None if dataset is not None else None


def _card(row: Insight, index: int, found: _Found) -> InsightCard:
    datasets = found.visible
    dataset = datasets.get(row.dataset_id) if row.dataset_id is not None else None
    version = _version_of(row, datasets)
    path = found.files.get((row.dataset_id, version)) \
        if row.dataset_id is not None and version is not None else None
    used = used_dataset_ids(row.dataset_id, row.spec) if row.dataset_id is None else []
    is_gone = row.dataset_id is not None and row.dataset_id not in found.existing
    if row.dataset_version and row.dataset_id in found.existing and path is None:
        is_gone = True  # the version was removed
    return InsightCard(
        id=row.id, item_id=row.item_id, kind=row.kind, title=row.title, summary=row.summary,
        spec=dict(row.spec or {}), data_snapshot=list(row.data_snapshot or []),
        dataset_id=row.dataset_id, dataset_version=row.dataset_version,
        dataset_name=dataset.name if dataset is not None else None,
        dataset_names=[datasets[i].name for i in used if i in datasets],
        hidden_datasets=sum(1 for i in used if i not in datasets), is_data_gone=is_gone,
        parquet_path=path if dataset is not None else None, position=index + 1,
        data_version=version if dataset is not None and path is not None else None,
        live=found.live.get(row.dataset_id) if row.dataset_id is not None else None,
        created_by=row.created_by, created_at=row.created_at)


def list_insights(actor: UserView, item_id: int, *, offset: int = 0,
                  limit: int | None = None) -> list[InsightCard]:
    """The item's insights in order (three queries, whatever their number)."""
    with session_scope() as session:
        load_readable(session, actor, item_id)
        statement = _ordered(item_id).offset(max(0, offset))
        if limit is not None:
            statement = statement.limit(max(0, limit))
        rows = list(session.scalars(statement))
        found = _datasets(session, actor, rows)
        return [_card(r, offset + i, found) for i, r in enumerate(rows)]


def count_insights(actor: UserView, item_id: int) -> int:
    with session_scope() as session:
        load_readable(session, actor, item_id)
        return int(session.scalar(select(func.count()).select_from(Insight)
                                  .where(Insight.item_id == item_id)) or 0)


def linked_datasets(actor: UserView, item_id: int) -> list[LinkedDataset]:
    """Each dataset the item's insights came from, once, with the versions they used and how
    many insights use it (an answer over two datasets counts for both)."""
    with session_scope() as session:
        load_readable(session, actor, item_id)
        rows = session.execute(select(Insight.dataset_id, Insight.dataset_version, Insight.spec)
                               .where(Insight.item_id == item_id)).all()
        uses: dict[int, int] = {}
        pinned: dict[int, set[int]] = {}
        for dataset_id, version, spec in rows:
            for used in used_dataset_ids(dataset_id, spec):
                uses[used] = uses.get(used, 0) + 1
                pinned.setdefault(used, set()).update([version] if version else [])
        found = {d.id: d for d in session.scalars(
            select(Dataset).where(Dataset.id.in_(list(uses))))} if uses else {}
        live = _live_places(session, {i for i, d in found.items()
                                      if dataset_access.can_see(actor, d)})
    out: list[LinkedDataset] = []
    for dataset_id in sorted(uses):
        dataset = found.get(dataset_id)
        is_visible = dataset is not None and dataset_access.can_see(actor, dataset)
        versions = set(pinned[dataset_id])
        if dataset is not None and dataset.current_version \
                and len(versions) < uses[dataset_id]:
            versions.add(dataset.current_version)  # answers without a pinned version
        out.append(LinkedDataset(dataset_id=dataset_id, versions=sorted(versions),
                                 name=dataset.name if is_visible and dataset else None,
                                 is_gone=dataset is None, insights=uses[dataset_id],
                                 live=live.get(dataset_id)))
    return out


def reorder_insights(actor: UserView, item_id: int, ordered_ids: list[int]) -> list[int]:
    """Set the full order; the ids must be exactly the item's insights."""
    with session_scope(write=True) as session:
        item = load_editable(session, actor, item_id)
        rows = {r.id: r for r in session.scalars(select(Insight)
                                                 .where(Insight.item_id == item_id))}
        if sorted(ordered_ids) != sorted(rows):
            raise InvalidInput("The item's charts and answers changed meanwhile; reload the "
                               "page and try again.")
        for position, insight_id in enumerate(ordered_ids, start=1):
            rows[insight_id].position = position
        touch(item)
        return list(ordered_ids)


def move_insight(actor: UserView, item_id: int, insight_id: int, step: int) -> list[int]:
    """Move one insight up (-1) or down (+1); at either end nothing moves."""
    with session_scope() as session:
        load_editable(session, actor, item_id)
        order = list(session.scalars(_ordered(item_id).with_only_columns(Insight.id)))
    if insight_id not in order:
        raise NotFound("That chart or answer is no longer on this item; reload the page.")
    index = order.index(insight_id)
    target = min(max(index + step, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return reorder_insights(actor, item_id, order)


def remove_insight(actor: UserView, item_id: int, insight_id: int) -> None:
    with session_scope(write=True) as session:
        item = load_editable(session, actor, item_id)
        row = session.get(Insight, insight_id)
        if row is None or row.item_id != item_id:
            raise NotFound("That chart or answer is no longer on this item; reload the page.")
        session.delete(row)
        touch(item)
