"""Datasets and their versions in the metadata store: who sees what, who changes what.

Each version is an immutable Parquet file written by the ingest or cleaning engine; this
module records it, so a crash before the record commits leaves no visible half version.
"""

import hashlib
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Select, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.access import audit, dataset_access
from services.access.permissions import require
from services.access.users import UserView
from services.data import added_columns, cleaning, data_folder, duck, ingest, uploads
from services.data.dataset_models import IngestResult, ReadOptions, Step
from services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from services.labels import clean_label
from services.settings import get_settings
from services.store.db import session_scope
from services.store.models import Dataset, DatasetVersion, DataSource, LiveTable, utcnow

log = logging.getLogger(__name__)

MAX_NAME = uploads.MAX_DATASET_NAME
VERSION_ATTEMPTS = 5
ORIGINALS = "original"


class LiveWhere(BaseModel):
    """Where a live dataset's rows are (services.data.live_datasets): never a password."""

    model_config = ConfigDict(frozen=True)

    source_id: int
    source_name: str
    schema_name: str
    table_name: str
    read_at: datetime | None

    @property
    def label(self) -> str:
        """In words: “public.weather in Warehouse”."""
        return f"{self.schema_name}.{self.table_name} in {self.source_name}"


class DatasetView(BaseModel):
    id: int
    name: str
    description: str
    owner: str
    visibility: str
    current_version: int
    versions: int
    rows: int
    columns: int
    bytes: int
    created_at: datetime
    updated_at: datetime
    live: LiveWhere | None = None  # a live dataset: no versions, rows read where they live

    @property
    def is_shared(self) -> bool:
        return self.visibility == dataset_access.SHARED

    @property
    def is_live(self) -> bool:
        return self.live is not None


class VersionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dataset_id: int
    version: int
    parquet_path: Path
    rows: int
    columns: int
    bytes: int
    source: str
    recipe: list | None
    recipe_sql: str
    note: str
    created_by: str
    created_at: datetime

    # rows keep the path relative to the data folder (services.data.data_folder)
    _resolved = field_validator("parquet_path", mode="before")(data_folder.resolve)


def _clean_name(name: str) -> str:
    return clean_label(name, what="dataset name", limit=MAX_NAME)


def _listing() -> Select:
    """Each dataset with its current version and its number of versions, in one statement
    (a page lists hundreds of datasets on every rerun: no query per dataset)."""
    counts = (
        select(DatasetVersion.dataset_id, func.count().label("versions"))
        .group_by(DatasetVersion.dataset_id)
        .subquery()
    )
    return (
        select(Dataset, DatasetVersion, counts.c.versions, LiveTable, DataSource.name)
        .outerjoin(DatasetVersion, and_(DatasetVersion.dataset_id == Dataset.id,
                                        DatasetVersion.version == Dataset.current_version))
        .outerjoin(counts, counts.c.dataset_id == Dataset.id)
        .outerjoin(LiveTable, LiveTable.dataset_id == Dataset.id)
        .outerjoin(DataSource, DataSource.id == LiveTable.source_id)
    )


def _view(session: Session, dataset: Dataset) -> DatasetView:
    current = session.get(DatasetVersion, (dataset.id, dataset.current_version))
    count = session.scalar(
        select(func.count())
        .select_from(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id)
    )
    live = session.get(LiveTable, dataset.id)
    source = session.get(DataSource, live.source_id) if live else None
    return _as_view(dataset, current, count, live, source.name if source else None)


def _live_where(live: LiveTable | None, source_name: str | None) -> LiveWhere | None:
    if live is None:
        return None
    return LiveWhere(source_id=live.source_id, source_name=source_name or "a removed source",
                     schema_name=live.schema_name, table_name=live.table_name,
                     read_at=live.read_at)


def _as_view(dataset: Dataset, current: DatasetVersion | None, count: int | None,
             live: LiveTable | None = None, source_name: str | None = None) -> DatasetView:
    return DatasetView(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description,
        owner=dataset.owner,
        visibility=dataset.visibility,
        current_version=dataset.current_version,
        versions=int(count or 0),
        rows=current.rows if current else 0,
        columns=current.columns if current else 0,
        bytes=current.bytes if current else 0,
        created_at=dataset.created_at,
        updated_at=dataset.updated_at,
        live=_live_where(live, source_name),
    )


def _load(session: Session, actor: UserView, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or not dataset_access.can_see(actor, dataset):
        raise NotFound("This dataset does not exist or is not shared with you.")
    return dataset


def _load_for_change(session: Session, actor: UserView, dataset_id: int) -> Dataset:
    require(actor.role, "change_data")
    dataset = _load(session, actor, dataset_id)
    if not dataset_access.can_change(actor, dataset):
        raise PermissionDenied("Only the dataset's owner or an admin can change it.")
    return dataset


def _new_folder() -> Path:
    folder = get_settings().datasets_dir / uuid.uuid4().hex
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a read-only or full data folder: the same sentence as uploads
        raise uploads.cannot_save(error) from error
    return folder


class _VersionFile(BaseModel):
    """The facts of a version's Parquet file that its record keeps."""

    parquet_path: Path
    rows: int
    columns: int
    bytes: int

    @classmethod
    def of(cls, result: IngestResult) -> "_VersionFile":
        return cls(
            parquet_path=result.parquet_path,
            rows=result.rows,
            columns=len(result.columns),
            bytes=result.parquet_path.stat().st_size,
        )


def _record(
    session: Session,
    dataset: Dataset,
    file: _VersionFile,
    *,
    version: int,
    actor: str,
    source: str,
    recipe: list | None = None,
    recipe_sql: str = "",
    note: str = "",
) -> DatasetVersion:
    """Add a version record and make it the dataset's current version."""
    row = DatasetVersion(
        dataset_id=dataset.id,
        version=version,
        parquet_path=data_folder.stored(file.parquet_path),
        rows=file.rows,
        columns=file.columns,
        bytes=file.bytes,
        source=source[:300],
        recipe=recipe,
        recipe_sql=recipe_sql,
        note=note,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    dataset.current_version = version
    dataset.updated_at = utcnow()
    return row


def _audit_version(session: Session, actor: str, dataset: Dataset, detail: str) -> None:
    audit.record(
        session,
        actor=actor,
        action="dataset_version_created",
        target=f"{dataset.id}: {dataset.name}",
        detail=detail,
    )


def _create(
    actor: UserView, name: str, result: IngestResult, *, source: str, description: str = ""
) -> DatasetView:
    try:
        with session_scope(write=True) as session:
            dataset = Dataset(
                name=name,
                description=description,
                owner=actor.username,
                visibility=dataset_access.PRIVATE,
                current_version=1,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            session.add(dataset)
            session.flush()
            _record(
                session,
                dataset,
                _VersionFile.of(result),
                version=1,
                actor=actor.username,
                source=source,
                note=" ".join(result.warnings),  # each warning is a sentence
            )
            audit.record(
                session,
                actor=actor.username,
                action="dataset_created",
                target=f"{dataset.id}: {name}",
                detail=source,
            )
            session.flush()
            return _view(session, dataset)
    except Exception:
        shutil.rmtree(result.parquet_path.parent, ignore_errors=True)
        raise


def create_from_upload(
    actor: UserView,
    upload_path: Path,
    *,
    original_name: str,
    name: str | None = None,
    options: ReadOptions | None = None,
) -> tuple[DatasetView, IngestResult]:
    """Read an uploaded file into a new private dataset (version 1).

    The original file is kept beside the versions, so it can be re-read with other options.
    """
    require(actor.role, "upload_data")
    dataset_name = _clean_name(name or uploads.default_dataset_name(original_name))
    folder = _new_folder()
    try:
        result = ingest.ingest_file(
            upload_path, original_name=original_name, dest_dir=folder, options=options
        )
        _keep_original(upload_path, folder, original_name)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    view = _create(
        actor,
        dataset_name,
        result,
        source=f"upload: {original_name}",
    )
    return view, result


def create_from_copy(actor: UserView, parquet_path: Path, *, name: str, source: str,
                     description: str, note: str = "") -> DatasetView:
    """A new private dataset whose version 1 is read from a Parquet copy made elsewhere (a
    data source's snapshot, services.data.live_snapshot): the same ingest as an upload, so
    profile, quality and versions work alike. `note`, one sentence, comes first in the
    version's note."""
    require(actor.role, "upload_data")
    dataset_name = _clean_name(name)
    folder = _new_folder()
    try:
        result = ingest.ingest_file(parquet_path, original_name=parquet_path.name,
                                    dest_dir=folder)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if note:
        result = result.model_copy(update={"warnings": [note, *result.warnings]})
    return _create(actor, dataset_name, result, source=source, description=description)


def _keep_original(upload_path: Path, folder: Path, original_name: str) -> None:
    originals = folder / ORIGINALS
    originals.mkdir(exist_ok=True)
    shutil.copyfile(upload_path, originals / uploads.safe_file_name(original_name))


def original_file(actor: UserView, dataset_id: int) -> Path | None:
    """The file the dataset was first read from, if it was uploaded."""
    first = get_version(actor, dataset_id, 1)
    originals = Path(first.parquet_path).parent / ORIGINALS
    files = sorted(originals.glob("*")) if originals.is_dir() else []
    return files[0] if files else None


def find_identical_upload(actor: UserView, upload_path: Path) -> DatasetView | None:
    """A dataset this person can see that was made from a file with exactly these bytes (its
    kept original), so uploading it again can offer to open that one instead. Only files of
    the same size are read and hashed."""
    require(actor.role, "upload_data")  # only someone about to add a file asks this
    size = upload_path.stat().st_size
    with session_scope() as session:
        firsts = session.execute(
            select(DatasetVersion.dataset_id, DatasetVersion.parquet_path)
            .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
            .where(DatasetVersion.version == 1, dataset_access.visible_clause(actor))
            .order_by(Dataset.id)).all()
    digest: str | None = None
    for dataset_id, parquet_path in firsts:
        if not data_folder.is_inside(parquet_path):
            continue
        originals = data_folder.resolve(parquet_path).parent / ORIGINALS
        for original in (originals.glob("*") if originals.is_dir() else []):
            if original.stat().st_size != size:
                continue
            digest = digest or _sha256(upload_path)
            if _sha256(original) == digest:
                return get_dataset(actor, int(dataset_id))
    return None


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def reread_original(actor: UserView, dataset_id: int, options: ReadOptions) -> VersionView:
    """Read the original upload again with other options, as a new version."""
    require(actor.role, "change_data")
    source = original_file(actor, dataset_id)
    if source is None:
        raise NotFound("This dataset was not uploaded from a file, so there is nothing to re-read.")
    with session_scope() as session:
        _load_for_change(session, actor, dataset_id)
    return _add_version(
        actor,
        dataset_id,
        lambda folder: ingest.ingest_file(
            source, original_name=source.name, dest_dir=folder, options=options
        ),
        source=f"re-read {source.name}",
    )


def _add_version(
    actor: UserView,
    dataset_id: int,
    write_file: Callable[[Path], IngestResult],
    *,
    source: str,
    recipe: list | None = None,
    recipe_sql: str = "",
    note: str = "",
) -> VersionView:
    """Write a new version's file into a fresh folder, then record it as the current version.

    The file is complete before the record commits; if anything fails, the folder goes.
    """
    folder = _new_folder()
    try:
        result = write_file(folder)

        def record(session: Session, dataset: Dataset, number: int) -> DatasetVersion:
            row = _record(
                session,
                dataset,
                _VersionFile.of(result),
                version=number,
                actor=actor.username,
                source=source,
                recipe=recipe,
                recipe_sql=recipe_sql,
                note=note or " ".join(result.warnings),
            )
            _audit_version(session, actor.username, dataset, f"v{number}: {note or source}")
            return row

        return _record_next_version(actor, dataset_id, record)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _record_next_version(
    actor: UserView,
    dataset_id: int,
    record: Callable[[Session, Dataset, int], DatasetVersion],
) -> VersionView:
    """Record a version under the next free number. The number is `max + 1`, so another
    writer (a second server on PostgreSQL) may take it first: (dataset, version) is the
    table's primary key, the insert then fails, and we try again with the next number."""
    for attempt in range(1, VERSION_ATTEMPTS + 1):
        try:
            with session_scope(write=True) as session:
                dataset = _load_for_change(session, actor, dataset_id)
                row = record(session, dataset, _next_version(session, dataset_id))
                session.flush()
                return VersionView.model_validate(row)
        except IntegrityError:
            log.info("version number taken by another writer; trying the next one",
                     extra={"dataset_id": dataset_id, "attempt": attempt})
    raise Conflict("Someone else saved new versions of this dataset at the same moment; "
                   "try again.")


def create_from_sample(actor: UserView, sample: str) -> DatasetView:
    require(actor.role, "upload_data")
    folder = _new_folder()
    try:
        result = ingest.ingest_sample(sample, dest_dir=folder)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    title = ingest.sample_title(sample)
    return _create(
        actor,
        _clean_name(title),
        result,
        source=f"sample: {sample}",
        description=f"Sample dataset “{title}”, bundled with Plotly.",
    )


def list_datasets(actor: UserView, *, mine_only: bool = False,
                  limit: int | None = None) -> list[DatasetView]:
    """Datasets this person may see: their own and every shared one (only their own with
    `mine_only`), newest change first, in one metadata query."""
    statement = (_listing().where(dataset_access.visible_clause(actor))
                 .order_by(Dataset.updated_at.desc(), Dataset.id.desc()))
    if mine_only:
        statement = statement.where(Dataset.owner == actor.username)
    if limit is not None:
        statement = statement.limit(max(0, limit))
    with session_scope() as session:
        return [_as_view(dataset, current, count, live, source_name)
                for dataset, current, count, live, source_name in session.execute(statement)]


def get_dataset(actor: UserView, dataset_id: int) -> DatasetView:
    with session_scope() as session:
        return _view(session, _load(session, actor, dataset_id))


def list_versions(actor: UserView, dataset_id: int) -> list[VersionView]:
    with session_scope() as session:
        _load(session, actor, dataset_id)
        rows = session.scalars(
            select(DatasetVersion)
            .where(DatasetVersion.dataset_id == dataset_id)
            .order_by(DatasetVersion.version.desc())
        )
        return [VersionView.model_validate(r) for r in rows]


def get_version(actor: UserView, dataset_id: int, version: int | None = None) -> VersionView:
    with session_scope() as session:
        dataset = _load(session, actor, dataset_id)
        row = session.get(DatasetVersion, (dataset_id, version or dataset.current_version))
        if row is None:
            raise NotFound(f"Version {version} of this dataset does not exist.")
        return VersionView.model_validate(row)


def apply_steps(
    actor: UserView, dataset_id: int, steps: list[Step], *, base_version: int | None = None
) -> VersionView:
    """Run a cleaning recipe on a version; the result becomes the new current version."""
    require(actor.role, "change_data")
    if not steps:
        raise InvalidInput("Add at least one step before applying the recipe.")
    with session_scope() as session:
        dataset = _load_for_change(session, actor, dataset_id)
        base = session.get(DatasetVersion, (dataset_id, base_version or dataset.current_version))
        if base is None:
            raise NotFound("That version of the dataset does not exist.")
        base_path, base_number = data_folder.resolve(base.parquet_path), base.version
    done = "; ".join(cleaning.describe_step(step) for step in steps)
    blanked = cleaning.unreadable_sentence(base_path, steps)  # never silent, even in history
    return _add_version(
        actor,
        dataset_id,
        lambda folder: cleaning.apply_recipe(base_path, steps, folder / "data.parquet"),
        source=f"cleaned from version {base_number}",
        recipe=[step.model_dump(mode="json") for step in steps],
        recipe_sql=cleaning.recipe_sql(base_path, steps),
        note=f"{done}. {blanked}" if blanked else done,
    )


def add_claude_columns(actor: UserView, dataset_id: int, step: added_columns.AddClaudeColumns,
                       *, base_version: int, note: str) -> VersionView:
    """Adds columns from stored Claude answers to `base_version`; the result becomes the new
    current version (based on `base_version` even if newer versions were made meanwhile)."""
    require(actor.role, "change_data")
    base = get_version(actor, dataset_id, base_version)
    base_path = Path(base.parquet_path)
    return _add_version(
        actor,
        dataset_id,
        lambda folder: added_columns.apply(base_path, step, folder / "data.parquet"),
        source=f"columns added by Claude to version {base.version}",
        recipe=[{**step.model_dump(mode="json"),
                 "results_file": data_folder.stored(step.results_file)}],
        recipe_sql=added_columns.step_sql(base_path, step),
        note=f"{added_columns.describe(step)}. {note}".strip(),
    )


def recipe_sql(actor: UserView, dataset_id: int, version: int, steps: list[Step]) -> str:
    """The SQL a recipe would run on a version, to show people before they apply it."""
    base = get_version(actor, dataset_id, version)
    return cleaning.recipe_sql(Path(base.parquet_path), steps)


def _next_version(session: Session, dataset_id: int) -> int:
    latest = session.scalar(
        select(func.max(DatasetVersion.version)).where(DatasetVersion.dataset_id == dataset_id)
    )
    return int(latest or 0) + 1


def restore_version(actor: UserView, dataset_id: int, version: int) -> VersionView:
    """Make an earlier version current again, as a new version (history is never rewritten)."""
    require(actor.role, "change_data")

    def record(session: Session, dataset: Dataset, number: int) -> DatasetVersion:
        old = session.get(DatasetVersion, (dataset_id, version))
        if old is None:
            raise NotFound(f"Version {version} of this dataset does not exist.")
        same_file = _VersionFile(
            parquet_path=Path(old.parquet_path), rows=old.rows, columns=old.columns, bytes=old.bytes
        )
        row = _record(
            session,
            dataset,
            same_file,
            version=number,
            actor=actor.username,
            source=f"restored version {version}",
            note=f"Same data as version {version}.",
        )
        _audit_version(session, actor.username, dataset, f"v{number}: restored v{version}")
        return row

    return _record_next_version(actor, dataset_id, record)


def update_details(actor: UserView, dataset_id: int, *, name: str, description: str) -> DatasetView:
    require(actor.role, "change_data")
    with session_scope(write=True) as session:
        dataset = _load_for_change(session, actor, dataset_id)
        dataset.name = _clean_name(name)
        dataset.description = description.strip()[:5000]
        dataset.updated_at = utcnow()
        audit.record(
            session,
            actor=actor.username,
            action="dataset_updated",
            target=f"{dataset_id}: {dataset.name}",
            detail="name/description",
        )
        return _view(session, dataset)


def set_shared(actor: UserView, dataset_id: int, shared: bool) -> DatasetView:
    require(actor.role, "change_data")
    with session_scope(write=True) as session:
        dataset = _load_for_change(session, actor, dataset_id)
        dataset.visibility = dataset_access.SHARED if shared else dataset_access.PRIVATE
        dataset.updated_at = utcnow()
        audit.record(
            session,
            actor=actor.username,
            action="dataset_updated",
            target=f"{dataset_id}: {dataset.name}",
            detail=dataset.visibility,
        )
        return _view(session, dataset)


def remove_partial_files(*, older_than_s: float = 600) -> int:
    """Delete half-written files a crash (kill -9) left behind; never a finished version.

    Finished versions are renamed into place atomically, so anything still named `*.tmp`
    was interrupted. The age guard leaves alone files another process is writing now.
    """
    root = get_settings().datasets_dir
    cutoff = time.time() - older_than_s
    removed = 0
    # half-written versions and their scratch files (".x.parquet.tmp", ".x.parquet.tmp.csv")
    for leftover in root.glob("*/.*.tmp*") if root.is_dir() else []:
        if leftover.is_file() and leftover.stat().st_mtime < cutoff:
            leftover.unlink(missing_ok=True)
            removed += 1
    # DuckDB's spill folders of connections that never closed
    spill = duck.spill_root()
    for folder in spill.iterdir() if spill.is_dir() else []:
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    # DuckDB's default spill folder (".tmp" where the server started), from older versions
    default_spill = Path.cwd() / ".tmp"
    for leftover in default_spill.glob("duckdb_temp*") if default_spill.is_dir() else []:
        if leftover.is_file() and leftover.stat().st_mtime < cutoff:
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed + uploads.remove_abandoned()


def delete_dataset(actor: UserView, dataset_id: int) -> None:
    """Remove the dataset, its versions and their files. Files go only after the commit."""
    require(actor.role, "change_data")
    with session_scope(write=True) as session:
        dataset = _load_for_change(session, actor, dataset_id)
        versions = session.scalars(
            select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
        ).all()
        folders = {data_folder.resolve(v.parquet_path).parent for v in versions
                   if data_folder.is_inside(v.parquet_path)}
        for version in versions:
            session.delete(version)
        live = session.get(LiveTable, dataset_id)
        if live is not None:  # a live dataset: its rows stay in their database
            session.delete(live)
        session.flush()
        session.delete(dataset)
        audit.record(
            session,
            actor=actor.username,
            action="dataset_deleted",
            target=f"{dataset_id}: {dataset.name}",
        )
    root = get_settings().datasets_dir.resolve()
    for folder in folders:
        if folder.resolve().parent == root:  # never delete outside our own data folder
            shutil.rmtree(folder, ignore_errors=True)
