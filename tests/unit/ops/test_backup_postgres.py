"""Backup and restore with PostgreSQL: PostgreSQL to PostgreSQL, the embedded store to
PostgreSQL and back, and a backup taken while another server writes stays one snapshot."""

import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Table

from services.access import users
from services.data import datasets
from services.ops import backup, table_dump
from tests.factories import PASSWORD, make_user
from tests.postgres_server import PostgresServer, new_database
from tests.unit.ops.backup_story import (
    dataset_rows,
    everything,
    make_installation,
    use_installation,
)


def _as_four_byte_floats(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict]]:
    """The embedded store keeps `Float` columns (costs, latencies) as 4-byte numbers, about
    7 significant digits; PostgreSQL keeps 8 bytes."""
    return {name: [{k: float(f"{v:.6g}") if isinstance(v, float) else v for k, v in row.items()}
                   for row in table] for name, table in rows.items()}


def _round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target_url: str | None) -> None:
    ana = make_installation(tmp_path)
    before, rows_before = everything(), dataset_rows(ana)
    made = backup.backup(tmp_path / "backups")

    use_installation(monkeypatch, tmp_path / "restored", target_url)
    done = backup.restore(made.archive)
    assert done.rows == made.rows
    if backup.Manifest.model_validate_json(_manifest(made.archive)).made_on == "postgresql" \
            and target_url is None:
        assert _as_four_byte_floats(everything()) == _as_four_byte_floats(before)
    else:
        assert everything() == before
    assert dataset_rows(ana) == rows_before
    assert users.verify_login("ana", PASSWORD).username == "ana"
    (dataset,) = datasets.list_datasets(ana)
    assert datasets.restore_version(ana, dataset.id, 1).version == 3  # sequences moved on
    make_user(users.get_user("ada"), "bea")  # type: ignore[arg-type]


def _manifest(archive: Path) -> bytes:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(backup.MANIFEST)
        assert handle is not None
        return handle.read()


def test_postgres_to_postgres(postgres_url: str, postgres_server: PostgresServer,
                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _round_trip(tmp_path, monkeypatch, new_database(postgres_server, migrated=False))


def test_duckdb_to_postgres(postgres_server: PostgresServer, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    _round_trip(tmp_path, monkeypatch, new_database(postgres_server, migrated=False))


def test_postgres_to_duckdb(postgres_url: str, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    _round_trip(tmp_path, monkeypatch, None)


def test_a_backup_while_another_server_writes_is_one_snapshot(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows committed by someone else while the backup reads are in none of its tables,
    even in the tables it reads after they were committed."""
    make_installation(tmp_path)
    real_dump = table_dump.dump_rows
    wrote = threading.Event()

    def dump_then_someone_writes(connection: Connection, table: Table, out):  # noqa: ANN001, ANN202
        count = real_dump(connection, table, out)
        if not wrote.is_set():  # after the first table: another server adds a person
            worker = threading.Thread(target=make_user,
                                      args=(users.get_user("ada"), "late"))
            worker.start()
            worker.join(timeout=30)
            wrote.set()
        return count

    monkeypatch.setattr(table_dump, "dump_rows", dump_then_someone_writes)
    made = backup.backup(tmp_path / "backups")
    assert wrote.is_set() and users.get_user("late") is not None
    assert made.rows["users"] == 2  # ada and ana: "late" came after the snapshot began
    assert made.rows["audit_log"] == len([e for e in everything()["audit_log"]
                                          if "late" not in e["target"]])
