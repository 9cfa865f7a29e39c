"""`kill -9` of an app process while it writes a dataset (an upload being read, a cleaning
recipe writing a new version), on PostgreSQL: nothing is half-written. No dataset or version
row points at a missing or partial file, the half-written file is hidden (a `.*.tmp` name)
and removed at the next start-up, and the dataset list is served as before."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from sqlalchemy import func, select

from services.access import api_tokens
from services.access.users import UserView
from services.data import datasets
from services.data.dataset_models import DropDuplicates
from services.settings import PROJECT_ROOT, get_settings
from services.store.db import dispose_engines, session_scope
from services.store.models import Dataset, DatasetVersion
from tests.factories import make_admin
from tests.unit.api.conftest import Api

ROWS = 150_000  # big enough that the kill lands while the file is being written
CHILD = """
import sys
from pathlib import Path
from services.access.users import get_user
from services.data.dataset_models import DropDuplicates
from services.data import datasets
admin = get_user("ada")
if sys.argv[1] == "upload":
    datasets.create_from_upload(admin, Path(sys.argv[2]), original_name="big.csv")
else:
    datasets.apply_steps(admin, int(sys.argv[2]), [DropDuplicates()])
print("finished")
"""


def _big_csv(folder: Path) -> Path:
    path = folder / "big.csv"
    duckdb.sql(f"COPY (SELECT i AS id, 'name ' || (i % 977) AS name, i * 1.5 AS amount, "
               f"'note ' || md5(i::VARCHAR) AS note FROM range({ROWS}) t(i)) "
               f"TO '{path}' (HEADER)")
    return path


def _leftovers() -> list[Path]:
    return sorted(get_settings().datasets_dir.glob("*/.*.tmp*"))


def _kill_while_writing(mode: str, argument: str) -> None:
    """Runs the child and SIGKILLs it as soon as its half-written file appears."""
    dispose_engines()  # the child has the store to itself until it dies
    before = set(_leftovers())
    child = subprocess.Popen([sys.executable, "-c", CHILD, mode, argument], cwd=PROJECT_ROOT,
                             env=dict(os.environ), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not set(_leftovers()) - before:
            assert child.poll() is None, (
                f"the child ended before it was killed: {child.communicate()}")
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.005)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def _nothing_half_written(admin: UserView) -> None:
    """Every version row names a whole, readable file; every dataset's current version exists."""
    with session_scope() as session:
        orphans = session.scalar(select(func.count()).select_from(Dataset).where(
            ~select(DatasetVersion).where(
                DatasetVersion.dataset_id == Dataset.id,
                DatasetVersion.version == Dataset.current_version).exists()))
    assert orphans == 0
    for dataset in datasets.list_datasets(admin):
        for version in datasets.list_versions(admin, dataset.id):
            path = Path(version.parquet_path)
            assert path.is_file() and not path.name.startswith(".")
            assert pq.read_metadata(path).num_rows == version.rows


def _start_up_after_a_while() -> None:
    """What a server does at start-up, once the crash is older than the age guard (which
    spares files another server is writing right now)."""
    long_ago = time.time() - 3600
    for leftover in _leftovers():
        os.utime(leftover, (long_ago, long_ago))
    assert "remove_partial_files()" in (PROJECT_ROOT / "asgi.py").read_text()
    datasets.remove_partial_files()
    assert _leftovers() == []


def _served_list(admin: UserView) -> list[str]:
    answer = Api().get("/v1/datasets", token=api_tokens.create_token(admin, "t").secret)
    assert answer.status_code == 200, answer.text
    return [d["name"] for d in answer.json()["items"]]


def test_kill_during_an_upload_leaves_nothing_half_written_postgres(
        postgres_url: str, tmp_path: Path) -> None:
    admin = make_admin()
    small = tmp_path / "small.csv"
    small.write_text("a,b\n1,2\n")
    datasets.create_from_upload(admin, small, original_name="small.csv", name="Small")
    _kill_while_writing("upload", str(_big_csv(tmp_path)))
    _nothing_half_written(admin)
    assert [d.name for d in datasets.list_datasets(admin)] == ["Small"]
    _start_up_after_a_while()
    assert _served_list(admin) == ["Small"]


def test_kill_during_a_cleaning_step_leaves_nothing_half_written_postgres(
        postgres_url: str, tmp_path: Path) -> None:
    admin = make_admin()
    dataset, _ = datasets.create_from_upload(admin, _big_csv(tmp_path), original_name="big.csv",
                                             name="Big")
    _kill_while_writing("clean", str(dataset.id))
    _nothing_half_written(admin)
    assert [v.version for v in datasets.list_versions(admin, dataset.id)] == [1]
    assert datasets.get_dataset(admin, dataset.id).current_version == 1
    _start_up_after_a_while()
    assert _served_list(admin) == ["Big"]
    datasets.apply_steps(admin, dataset.id, [DropDuplicates()])  # and work goes on
    assert datasets.get_dataset(admin, dataset.id).current_version == 2
