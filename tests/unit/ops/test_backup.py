"""Backup and restore on the embedded store: a round trip into an empty installation reads
the same, and bad input is refused with one sentence and changes nothing."""

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from services.access import users
from services.data import datasets
from services.errors import Conflict, InvalidInput, StorageUnavailable
from services.ops import backup, table_dump
from services.store import db
from services.store.db import dispose_engines, get_engine, session_scope
from services.store.models import AuditEntry
from tests.factories import PASSWORD
from tests.unit.ops.backup_story import (
    dataset_rows,
    everything,
    make_installation,
    use_installation,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.duckdb_only(reason=(
    "the embedded store moved to a new folder; on PostgreSQL:"
    " test_backup_postgres.py::test_postgres_to_postgres"))
def test_a_backup_restores_into_an_empty_folder_and_reads_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ana = make_installation(tmp_path)
    before, rows_before = everything(), dataset_rows(ana)
    made = backup.backup(tmp_path / "backups")
    assert made.archive.parent == tmp_path / "backups"
    assert made.archive.name.startswith("research-desk-") and made.archive.suffixes[-2:] == [
        ".tar", ".gz"]
    assert made.archive.stat().st_mode & 0o777 == 0o600
    assert made.files == 3  # two versions' files and the kept original
    with tarfile.open(made.archive) as tar:
        names = tar.getnames()
    assert not any(n.endswith("metadata.duckdb") or "/." in n for n in names)

    use_installation(monkeypatch, tmp_path / "restored")
    done = backup.restore(made.archive)
    assert done.rows == made.rows and done.files == made.files
    assert everything() == before
    assert dataset_rows(ana) == rows_before and len(rows_before) == 2
    assert users.verify_login("ana", PASSWORD).username == "ana"
    # new rows get fresh ids after the restored ones (sequences moved past them)
    (dataset,) = datasets.list_datasets(ana)
    again = datasets.restore_version(ana, dataset.id, 1)
    assert again.version == 3 and again.parquet_path.is_relative_to(tmp_path / "restored")
    with session_scope() as session:
        actions = [e.action for e in session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions[-3:] == ["backup_restored", "sign_in", "dataset_version_created"]


def _empty_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "target"
    use_installation(monkeypatch, target)
    return target


def _untouched(target: Path) -> None:
    with get_engine().connect() as connection:
        assert not any(table_dump.count_rows(connection, t) for t in table_dump.tables())
    datasets_dir = target / "datasets"
    assert not datasets_dir.exists() or not any(datasets_dir.iterdir())


def _one_sentence(error: pytest.ExceptionInfo[Exception]) -> str:
    text = str(error.value)
    assert text.endswith(".") and "\n" not in text and "Traceback" not in text
    return text


def _rewritten(archive: Path, out: Path, *, manifest: dict | None = None,
               extra: str | None = None) -> Path:
    """A copy of `archive` with another manifest and/or one more member named `extra`."""
    with tarfile.open(archive) as source, tarfile.open(out, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member)
            if member.name == backup.MANIFEST and manifest is not None:
                text = json.dumps({**json.loads(data.read()), **manifest}).encode()
                member.size, data = len(text), io.BytesIO(text)
            copy.addfile(member, data)
        if extra is not None:
            info = tarfile.TarInfo(extra)
            info.size = 2
            copy.addfile(info, io.BytesIO(b"hi"))
    return out


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    make_installation(tmp_path)
    return backup.backup(tmp_path / "backups").archive


def test_a_missing_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _empty_target(tmp_path, monkeypatch)
    with pytest.raises(InvalidInput) as error:
        backup.restore(tmp_path / "nowhere.tar.gz")
    assert "There is no backup file" in _one_sentence(error)
    assert not target.exists()  # not even the data folder was made


@pytest.mark.parametrize("content", [b"just some text\n", b"\x1f\x8b\x08broken gzip"])
def test_a_file_that_is_not_an_archive_is_refused(tmp_path: Path, content: bytes,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = _empty_target(tmp_path, monkeypatch)
    fake = tmp_path / "notes.tar.gz"
    fake.write_bytes(content)
    with pytest.raises(InvalidInput) as error:
        backup.restore(fake)
    assert "is not a Research Desk backup" in _one_sentence(error)
    assert not target.exists()


def test_a_tar_without_a_manifest_is_refused(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    target = _empty_target(tmp_path, monkeypatch)
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        info = tarfile.TarInfo("tables/users.jsonl")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(InvalidInput) as error:
        backup.restore(other)
    assert "is not a Research Desk backup" in _one_sentence(error)
    assert not target.exists()


def test_a_non_empty_installation_is_refused(archive: Path, data_dir: Path) -> None:
    before = everything()
    with pytest.raises(Conflict) as error:
        backup.restore(archive)
    assert "already has data" in _one_sentence(error)
    assert everything() == before


@pytest.mark.parametrize("name", ["../x", "files/../../x", "files/datasets/../../../x",
                                  "/tmp/x", "files/metadata.duckdb", "files/datasets/a/../../x"])
def test_an_archive_with_a_path_escaping_the_folder_is_refused(
        archive: Path, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = _rewritten(archive, tmp_path / "hostile.tar.gz", extra=name)
    target = _empty_target(tmp_path, monkeypatch)
    with pytest.raises(InvalidInput) as error:
        backup.restore(hostile)
    assert "outside the data folder" in _one_sentence(error)
    assert not target.exists() and not (tmp_path / "x").exists()


def test_a_link_in_the_archive_is_refused(archive: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = tmp_path / "link.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(hostile, "w:gz") as copy:
        for member in source.getmembers():
            copy.addfile(member, source.extractfile(member))
        link = tarfile.TarInfo("files/datasets/abc/data.parquet")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        copy.addfile(link)
    target = _empty_target(tmp_path, monkeypatch)
    with pytest.raises(InvalidInput) as error:
        backup.restore(hostile)
    assert "outside the data folder" in _one_sentence(error)
    assert not target.exists()


def test_an_archive_from_another_revision_is_refused(archive: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    older = _rewritten(archive, tmp_path / "older.tar.gz", manifest={"revision": "0009"})
    target = _empty_target(tmp_path, monkeypatch)
    with pytest.raises(InvalidInput) as error:
        backup.restore(older)
    assert "another version of Research Desk" in _one_sentence(error)
    _untouched(target)


def test_half_written_files_stay_out_of_the_backup(tmp_path: Path, data_dir: Path) -> None:
    make_installation(tmp_path)
    folder = next((data_dir / "datasets").iterdir())
    (folder / ".data.parquet.tmp").write_bytes(b"half")
    made = backup.backup(tmp_path / "backups")
    with tarfile.open(made.archive) as tar:
        assert not [n for n in tar.getnames() if ".tmp" in n]


def _cli(*args: str) -> subprocess.CompletedProcess:
    dispose_engines()  # the child must be the only process with the metadata file open
    done = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, env=dict(os.environ), timeout=120)
    dispose_engines()
    return done


@pytest.mark.duckdb_only(reason=(
    "restores into a new folder's embedded store; the PostgreSQL round"
    " trips: test_backup_postgres.py"))
def test_the_commands_back_up_and_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ana = make_installation(tmp_path)
    before, rows_before = everything(), dataset_rows(ana)
    made = _cli("backup", "--to", str(tmp_path / "backups"))
    assert made.returncode == 0, made.stderr
    (archive,) = (tmp_path / "backups").glob("research-desk-*.tar.gz")
    assert f"Backup written to {archive}" in made.stdout

    use_installation(monkeypatch, tmp_path / "restored")
    done = _cli("restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert "Restored" in done.stdout and "3 dataset files" in done.stdout
    assert everything() == before and dataset_rows(ana) == rows_before


HOLD = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
        " time.sleep(60)")


@pytest.mark.duckdb_only(reason=(
    "the DuckDB file lock; on PostgreSQL a backup reads a snapshot"
    " (test_backup_postgres.py::test_a_backup_while_another_server_writes_is_one_snapshot)"))
def test_a_backup_while_a_server_holds_the_embedded_store_asks_to_stop_it(
        tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_installation(tmp_path)
    dispose_engines()
    monkeypatch.setattr(db, "DUCKDB_LOCK_WAIT_SECONDS", 0.3)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir / "metadata.duckdb")],
                              text=True, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StorageUnavailable) as error:
            backup.backup(tmp_path / "backups")
    finally:
        holder.kill()
        holder.wait()
    assert "Stop the server" in _one_sentence(error)
    assert not (tmp_path / "backups").exists()
