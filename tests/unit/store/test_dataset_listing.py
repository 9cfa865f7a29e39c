"""The dataset list: a constant number of metadata statements however many datasets there
are, the right facts for each one, and "mine" meaning mine."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from services.access.users import UserView
from services.data import datasets
from services.store.db import get_engine, session_scope
from services.store.models import Dataset, DatasetVersion, utcnow
from tests.factories import make_admin, make_user


def _add_datasets(owner: str, count: int, *, shared: bool = False, versions: int = 2) -> None:
    """Records only (no files): the listing reads the store, never the Parquet files."""
    with session_scope(write=True) as session:
        for i in range(count):
            dataset = Dataset(name=f"{owner} {i}", description="", owner=owner,
                              visibility="shared" if shared else "private",
                              current_version=versions, created_at=utcnow(),
                              updated_at=utcnow())
            session.add(dataset)
            session.flush()
            for number in range(1, versions + 1):
                session.add(DatasetVersion(
                    dataset_id=dataset.id, version=number, parquet_path=f"/x/{number}",
                    rows=10 * number, columns=number, bytes=100 * number, source="test",
                    recipe=None, recipe_sql="", note="", created_by=owner,
                    created_at=utcnow()))


@contextmanager
def _counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements_to_list(user: UserView, **kwargs: object) -> int:
    datasets.list_datasets(user)  # warm: the engine and its migrations are not counted
    with _counting() as statements:
        datasets.list_datasets(user, **kwargs)  # type: ignore[arg-type]
    return len(statements)


def test_listing_runs_the_same_number_of_statements_for_3_or_300_datasets() -> None:
    admin = make_admin()
    _add_datasets(admin.username, 3)
    few = _statements_to_list(admin)
    _add_datasets(admin.username, 297)
    assert len(datasets.list_datasets(admin)) == 300
    many = _statements_to_list(admin)
    assert many == few
    assert many <= 2  # one SELECT (and at most a transaction statement around it)
    assert _statements_to_list(admin, mine_only=True) == few


def test_listing_reports_the_current_versions_facts_and_the_version_count() -> None:
    admin = make_admin()
    _add_datasets(admin.username, 1, versions=3)
    with session_scope(write=True) as session:  # an older version made current again
        dataset = session.query(Dataset).one()
        dataset.current_version = 2
    (view,) = datasets.list_datasets(admin)
    assert (view.current_version, view.versions) == (2, 3)
    assert (view.rows, view.columns, view.bytes) == (20, 2, 200)
    assert view == datasets.get_dataset(admin, view.id)


def test_mine_only_leaves_out_colleagues_shared_datasets_and_limit_cuts_the_list() -> None:
    admin = make_admin()
    ana = make_user(admin, "ana")
    _add_datasets("ana", 2, shared=True)
    _add_datasets(admin.username, 3)
    assert {d.owner for d in datasets.list_datasets(admin)} == {"ana", admin.username}
    assert {d.owner for d in datasets.list_datasets(admin, mine_only=True)} == {admin.username}
    assert len(datasets.list_datasets(admin, mine_only=True, limit=2)) == 2
    assert [d.owner for d in datasets.list_datasets(ana, mine_only=True)] == ["ana", "ana"]
