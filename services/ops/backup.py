"""Backup and restore: one archive of the metadata and the dataset files.

`backup` reads every table in one read transaction (a snapshot: on PostgreSQL a read-only
REPEATABLE READ transaction, so servers may keep working meanwhile) as a store-neutral dump
(services.ops.table_dump), then adds the files of the versions that snapshot lists. Version
files never change once recorded, so reading them after the snapshot is consistent. With the
embedded DuckDB store one process at a time may open the metadata file: the command waits
briefly for it, then asks for the server to be stopped first.

`restore` checks the whole archive before it changes anything (what it holds, that every
path stays inside the data folder, that it was made at this version's schema revision, that
the installation is empty), then writes the files and loads every row in one transaction;
if loading fails, the files it wrote go again.

Archive layout: manifest.json, tables/<table>.jsonl, files/<path relative to the data folder>.
"""

import io
import logging
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from alembic.runtime.migration import MigrationContext
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Table, select

from services.access import audit
from services.data import data_folder
from services.errors import Conflict, InvalidInput, ResearchDeskError
from services.ops import table_dump
from services.settings import get_settings
from services.store.db import get_engine, session_scope
from services.store.models import DatasetVersion

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
TABLES = "tables/"
FILES = "files/"
DATASETS = "datasets/"  # the only part of the data folder an archive may write to
OPERATOR = "cli"
SPOOL_BYTES = 8 * 1024 * 1024


class Manifest(BaseModel):
    format: int
    revision: str
    made_at: datetime
    made_on: str  # the store it was made from: duckdb or postgresql
    rows: dict[str, int]
    files: int


class BackupResult(BaseModel):
    archive: Path
    rows: dict[str, int]
    files: int
    bytes: int


class RestoreResult(BaseModel):
    rows: dict[str, int]
    files: int
    revision: str


# --- backup ------------------------------------------------------------------------------

def _revision(connection: Connection) -> str:
    return str(MigrationContext.configure(connection).get_current_revision())


@contextmanager
def _snapshot() -> Iterator[Connection]:
    """One read transaction over the whole store."""
    with get_engine().connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ",
                                                      postgresql_readonly=True)
        with connection.begin():
            yield connection


def _version_folders(connection: Connection) -> list[Path]:
    """The folders of every version in the snapshot (a version's file, its kept original and
    Claude's results files live in one folder); versions outside the data folder are logged."""
    folders: set[Path] = set()
    for stored in connection.scalars(select(DatasetVersion.parquet_path)):
        if data_folder.is_inside(stored):
            folders.add(data_folder.resolve(stored).parent)
        else:
            log.warning("a version's file is outside the data folder; not in the backup",
                        extra={"path": stored})
    return sorted(folders)


def _finished_files(folder: Path) -> list[Path]:
    """The folder's files without half-written ones (".x.parquet.tmp" and other hidden
    scratch files) and without links."""
    if not folder.is_dir():
        raise Conflict("A dataset was deleted while the backup was being made; run the "
                       "backup again.")
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and not p.is_symlink()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _add_bytes(tar: tarfile.TarFile, name: str, data: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(datetime.now(UTC).timestamp())
    data.seek(0)
    tar.addfile(info, data)


def _archive_path(folder: Path, made_at: datetime) -> Path:
    stamp = made_at.strftime("%Y%m%d-%H%M%S")
    candidate, n = folder / f"research-desk-{stamp}.tar.gz", 2
    while candidate.exists():
        candidate, n = folder / f"research-desk-{stamp}-{n}.tar.gz", n + 1
    return candidate


def backup(to_folder: Path) -> BackupResult:
    """Write one archive of the metadata and the dataset files into `to_folder`."""
    made_at = datetime.now(UTC).replace(tzinfo=None)
    dumps: dict[str, IO[bytes]] = {}
    try:
        with _snapshot() as connection:
            revision = _revision(connection)
            rows = {}
            for table in table_dump.tables():
                dumps[table.name] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
                rows[table.name] = table_dump.dump_rows(connection, table, dumps[table.name])
            folders = _version_folders(connection)
            dialect = connection.dialect.name
        files = [f for folder in folders for f in _finished_files(folder)]
        manifest = Manifest(format=FORMAT, revision=revision, made_at=made_at,
                            made_on=dialect, rows=rows, files=len(files))
        archive = _write_archive(to_folder, manifest, dumps, files)
    finally:
        for dump in dumps.values():
            dump.close()
    with session_scope(write=True) as session:
        audit.record(session, actor=OPERATOR, action="backup_made", target=archive.name,
                     detail=f"{sum(rows.values())} rows, {len(files)} files")
    return BackupResult(archive=archive, rows=rows, files=len(files),
                        bytes=archive.stat().st_size)


def _write_archive(to_folder: Path, manifest: Manifest, dumps: dict[str, IO[bytes]],
                   files: list[Path]) -> Path:
    """Written under a hidden name and renamed when complete: an archive that is there is
    whole. Owner-only, like the data folder: it holds password hashes and everyone's data."""
    try:
        to_folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise InvalidInput(f"The backup folder {to_folder} cannot be made: {error.strerror}."
                           ) from error
    archive = _archive_path(to_folder, manifest.made_at)
    partial = archive.with_name(f".{archive.name}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        # light compression: Parquet files are compressed already (level 6 took 3x as long
        # for an archive 6 % smaller)
        with os.fdopen(descriptor, "wb") as raw, \
                tarfile.open(fileobj=raw, mode="w:gz", compresslevel=1) as tar:
            text = manifest.model_dump_json(indent=2).encode()
            _add_bytes(tar, MANIFEST, io.BytesIO(text), len(text))
            for name, spool in dumps.items():
                _add_bytes(tar, f"{TABLES}{name}.jsonl", spool, spool.seek(0, os.SEEK_END))
            for path in files:
                tar.add(path, arcname=FILES + data_folder.stored(path), recursive=False)
        os.replace(partial, archive)
    except FileNotFoundError as error:
        raise Conflict("A dataset was deleted while the backup was being made; run the "
                       "backup again.") from error
    except OSError as error:
        raise InvalidInput(f"The backup could not be written to {to_folder}: "
                           f"{error.strerror}.") from error
    finally:
        partial.unlink(missing_ok=True)
    return archive


# --- restore -----------------------------------------------------------------------------

def _not_an_archive(archive: Path) -> InvalidInput:
    return InvalidInput(f"“{archive.name}” is not a Research Desk backup (a .tar.gz file "
                        "made by “make backup”); nothing was restored.")


def _member_path(member: tarfile.TarInfo, archive: Path) -> str | None:
    """The data-folder path a file member writes to (None for the manifest and tables);
    refuses anything that could land outside the dataset files."""
    name = member.name
    escaping = InvalidInput(f"“{archive.name}” holds a path outside the data folder ({name}); "
                            "nothing was restored.")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or "\\" in name:
        raise escaping
    if name == MANIFEST or (name.startswith(TABLES) and len(parts) == 2):
        if not member.isfile():
            raise _not_an_archive(archive)
        return None
    if not name.startswith(FILES + DATASETS) or not (member.isfile() or member.isdir()):
        raise escaping
    relative = name[len(FILES):]
    if not data_folder.is_inside(relative):
        raise escaping
    return relative


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> Manifest:
    try:
        handle = tar.extractfile(MANIFEST)
        if handle is None:
            raise _not_an_archive(archive)
        with handle:
            manifest = Manifest.model_validate_json(handle.read())
    except (KeyError, ValidationError) as error:
        raise _not_an_archive(archive) from error
    known = {t.name for t in table_dump.tables()}
    if manifest.format != FORMAT or not set(manifest.rows) <= known:
        raise InvalidInput(f"“{archive.name}” was made by another version of Research Desk; "
                           "restore it with that version.")
    return manifest


def _check_empty(connection: Connection) -> None:
    filled = [t.name for t in table_dump.tables() if table_dump.count_rows(connection, t)]
    datasets_dir = get_settings().datasets_dir
    if filled or (datasets_dir.is_dir() and any(datasets_dir.iterdir())):
        raise Conflict("This installation already has data, so nothing was restored: "
                       "restore only into an empty one (a new RESEARCH_DESK_DATA_DIR, and a "
                       "new database if you use RESEARCH_DESK_DATABASE_URL).")


def _open(archive: Path) -> tarfile.TarFile:
    if not archive.is_file():
        raise InvalidInput(f"There is no backup file at {archive}; nothing was restored.")
    try:
        return tarfile.open(archive, mode="r:gz")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise _not_an_archive(archive) from error


def restore(archive: Path) -> RestoreResult:
    """Bring an archive made by `backup` into this empty installation."""
    with _open(archive) as tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
            raise _not_an_archive(archive) from error
        targets = {m.name: _member_path(m, archive) for m in members}
        manifest = _read_manifest(tar, archive)
        with get_engine().connect() as connection:
            revision = _revision(connection)
            if manifest.revision != revision:
                raise InvalidInput(
                    f"“{archive.name}” was made at another version of Research Desk (store "
                    f"revision {manifest.revision}; this one is at {revision}); restore it "
                    "with that version, then upgrade.")
            _check_empty(connection)
        files = [m for m in members if m.isfile() and targets[m.name] is not None]
        written = _write_files(tar, files, targets)
        try:
            rows = _load_tables(tar, manifest, archive)
        except Exception:
            for folder in written:
                shutil.rmtree(folder, ignore_errors=True)
            raise
    return RestoreResult(rows=rows, files=len(files), revision=revision)


def _write_files(tar: tarfile.TarFile, files: list[tarfile.TarInfo],
                 targets: dict[str, str | None]) -> set[Path]:
    """Write the archive's dataset files; returns the version folders made (to remove
    again if the metadata cannot be loaded)."""
    made: set[Path] = set()
    datasets_dir = data_folder.resolve(DATASETS)
    try:
        for member in files:
            target = data_folder.resolve(str(targets[member.name]))
            made.add(datasets_dir / target.relative_to(datasets_dir).parts[0])
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            if source is None:
                continue
            with source, target.open("xb") as out:
                shutil.copyfileobj(source, out)
    except Exception as error:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, ResearchDeskError):
            raise
        raise InvalidInput(f"The dataset files could not be written to the data folder "
                           f"({error}); nothing was restored.") from error
    return made


def _load_tables(tar: tarfile.TarFile, manifest: Manifest, archive: Path) -> dict[str, int]:
    rows: dict[str, int] = {}
    with session_scope(write=True) as session:
        connection = session.connection()
        for table in table_dump.tables():
            rows[table.name] = _load_table(tar, connection, table, archive)
        if rows != {name: manifest.rows.get(name, 0) for name in rows}:
            raise _not_an_archive(archive)
        table_dump.reset_sequences(connection)
        audit.record(session, actor=OPERATOR, action="backup_restored", target=archive.name,
                     detail=f"made {manifest.made_at:%Y-%m-%d %H:%M} UTC on {manifest.made_on}")
    return rows


def _load_table(tar: tarfile.TarFile, connection: Connection, table: Table,
                archive: Path) -> int:
    try:
        handle = tar.extractfile(f"{TABLES}{table.name}.jsonl")
    except KeyError:
        return 0  # a table with no rows in this archive's version
    if handle is None:
        raise _not_an_archive(archive)
    with handle:
        try:
            return table_dump.load_rows(connection, table, handle)
        except (ValueError, KeyError, TypeError) as error:
            raise _not_an_archive(archive) from error
